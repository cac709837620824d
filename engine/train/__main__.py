"""`python -m engine.train ...` / `torchrun --nproc_per_node N -m engine.train ...`: the trainer alone.

Takes the same flags as `engine train`; every process runs this, torchrun sets RANK/WORLD_SIZE.
"""

import argparse
import sys

from engine.cli import run_reporting_errors
from engine.train.cli import EXAMPLE, add_train_arguments, run_train

parser = argparse.ArgumentParser(prog="python -m engine.train", epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
add_train_arguments(parser)
sys.exit(run_reporting_errors(run_train, parser.parse_args()))
