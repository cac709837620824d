"""The `engine` console command. Each feature module registers its own subcommand here."""

from __future__ import annotations

import argparse
import faulthandler
import importlib
import sys
from collections.abc import Callable

from engine.errors import EngineError

# command -> (module whose `register(subparsers)` defines it, the one line `engine --help` shows).
# Only the module of the command being run is imported, so `engine --help` and `engine index
# --help` start without torch, pandas or the renderer; tests/test_cli.py checks these lines
# against the modules' own.
COMMANDS = {
    "render": ("engine.render.cli", "render text to pixels exactly as the model sees it"),
    "index": ("engine.index.cli", "build or extend a searchable index of photos and texts"),
    "query": ("engine.index.cli", "search an index by text or by image"),
    "serve": ("engine.index.cli", "serve an index over HTTP (JSON API)"),
    "train": ("engine.train.cli", "train CLIPPO or a tokenizer baseline from a recipe"),
    "average": ("engine.train.cli", "average the weights a run kept (--keep-every) over a window of steps"),
    "configs": ("engine.train.cli", "list the named training recipes, one line each"),
    "tokenizer": ("engine.train.cli", "vocabularies for the tokenizer baselines"),
    "shards": ("engine.train.shards_cli", "write photo/caption and text-pair sources as shards for streamed training"),
    "demo": ("engine.demo", "index a fresh scene collection and query it in 18 languages (no download)"),
}
ALL = "*"


def build_parser(command: str | None = ALL) -> argparse.ArgumentParser:
    """The CLI's parser: every command in full (`ALL`), or `command` in full and one-line stand-ins for the rest."""
    parser = argparse.ArgumentParser(
        prog="engine",
        description="Tokenizer-free multilingual retrieval: text is rendered to pixels and read by the same ViT as photos.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    loaded = {module for module, _ in COMMANDS.values()} if command == ALL else {COMMANDS.get(command, ("", ""))[0]}
    for name, (module, summary) in COMMANDS.items():
        if name in subparsers.choices:
            continue
        if module in loaded:
            importlib.import_module(module).register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def run_reporting_errors(func: Callable[..., int | None], *args: object) -> int:
    """Call an entry point; a user mistake prints one line and exits 2, never a traceback.

    A crash inside native code (a segfault in a font library, a collective, a kernel) still prints
    the Python stack of every thread, so that it can be traced (docs/training-notes.md, seventh round).
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
    argv = sys.argv[1:] if argv is None else argv
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    return run_reporting_errors(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
