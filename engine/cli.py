"""The `engine` console command. Each feature module registers its own subcommand here."""
from __future__ import annotations

import argparse
import faulthandler
import importlib
import sys
from collections.abc import Callable

from engine.errors import EngineError

# Modules that define `register(subparsers)`; each subcommand sets `func(args) -> int | None`.
COMMAND_MODULES = [
    "engine.render.cli",
    "engine.index.cli",
    "engine.train.cli",
    "engine.demo",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="engine",
        description="Tokenizer-free multilingual retrieval: text is rendered to pixels and read "
        "by the same ViT as photos.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def run_reporting_errors(func: Callable[..., int | None], *args: object) -> int:
    """Call an entry point; a user mistake prints one line and exits 2, never a traceback.

    A crash inside native code (a segfault in a font library, a collective, a kernel) still prints
    the Python stack of every thread, so that it can be traced: one torchrun rank died of SIGSEGV
    once in a 9-minute run and left nothing else to go on (docs/training-notes.md, seventh round).
    """
    if not faulthandler.is_enabled():  # (pytest enables its own)
        try:
            faulthandler.enable(file=sys.__stderr__)  # the real stream: sys.stderr may be a capture without a file descriptor
        except (AttributeError, OSError, ValueError):
            pass  # no stderr to write to (a windowed interpreter): nothing to trace to
    try:
        return int(func(*args) or 0)
    except EngineError as error:
        print(f"engine: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("engine: interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_reporting_errors(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
