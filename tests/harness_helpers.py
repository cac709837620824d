"""Shared by the harness tests: run a benchmark script's main() in-process."""

from __future__ import annotations

import runpy
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_main(name: str, *args, capsys) -> str:
    """The script's main() in this process (no second torch import); returns what it printed."""
    runpy.run_path(str(REPO / "benchmarks" / name), run_name="benchmark")["main"]([str(a) for a in args])
    return capsys.readouterr().out
