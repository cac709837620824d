"""The `engine` console command. Each feature module registers its own subcommand here."""
from __future__ import annotations

import argparse
import importlib
import sys

from engine.errors import EngineError

# Modules that define `register(subparsers)`; each subcommand sets `func(args) -> int | None`.
COMMAND_MODULES = [
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except EngineError as error:
        print(f"engine: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("engine: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
