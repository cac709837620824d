"""Copy a run's checkpoint into engine/assets/ for shipping: weights and config only, optionally fp16.

    .venv/bin/python scripts/ship_checkpoint.py runs/demo-models/clippo engine/assets/clippo-cpu-tiny-scenes
    .venv/bin/python scripts/ship_checkpoint.py runs/text-model engine/assets/clippo-text-tatoeba-cpu-small --half

Files already in the target besides the checkpoint's (its MODEL_CARD.md) are kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from engine.cli import run_reporting_errors
from engine.model.checkpoint import export_checkpoint


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="a checkpoint directory or a run directory holding checkpoint/")
    parser.add_argument("target", type=Path, help="the shipped directory to write (replaced atomically)")
    parser.add_argument("--half", action="store_true", help="store the weights as float16 (half the size; loading casts them back)")
    args = parser.parse_args()
    return run_reporting_errors(export_checkpoint, args.source, args.target, torch.float16 if args.half else None)


if __name__ == "__main__":
    sys.exit(main())
