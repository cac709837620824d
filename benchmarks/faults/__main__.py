"""`python -m benchmarks.faults`: the fault and load suite. One table per probe, a JSON summary.

    flock /tmp/engine-cpu.lock .venv/bin/python -m benchmarks.faults --json out/faults.json --tables docs/faults-tables.md

Probes: kills (SIGKILL during index build/add and train, a full disk), files (bad files in a build
and in training), http (hostile requests), load (sustained queries), fuzz (fuzzed strings).
Everything talks to 127.0.0.1 only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.faults import badfiles, fuzzing, hostile, kills, load
from benchmarks.faults.common import MODEL, captions, run_engine, serving, write_texts
from benchmarks.faults.corpus import good_photos

PROBES = ("kills", "files", "http", "load", "fuzz")


def serve_index(work: Path, texts: int = 2000, photos: int = 40) -> Path:
    """The index the HTTP probes query: captions in several scripts and small photos."""
    index = work / "serve-index"
    if not index.exists():
        result = run_engine(
            "index",
            "build",
            "--model",
            MODEL,
            "--out",
            index,
            "--texts",
            write_texts(work / "serve.txt", captions("serve", texts)),
            "--images",
            good_photos(work / "serve-photos", photos, 500)[0].parent,
            "--workers",
            0,
        )
        if result.returncode:
            raise SystemExit(f"could not build the serve index: {result.stderr.decode(errors='replace')[-500:]}")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faults", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probes", default=",".join(PROBES), help=f"comma-separated subset of {','.join(PROBES)}")
    parser.add_argument("--kills", type=int, default=30, help="SIGKILL moments per command (default 30)")
    parser.add_argument(
        "--kill-commands",
        default=",".join(kills.COMMANDS),
        help=f"the kills probe's parts, comma-separated subset of {','.join(kills.COMMANDS)} (to run it in parts)",
    )
    parser.add_argument("--text-queries", type=int, default=10_000)
    parser.add_argument("--image-queries", type=int, default=1_000)
    parser.add_argument("--fuzz", type=int, default=10_000, help="fuzzed strings (default 10,000)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bound", type=float, default=600, help="seconds any one query loop may run (default 600)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--json", type=Path, help="write the summary here")
    parser.add_argument("--tables", type=Path, help="write the tables (Markdown) here")
    args = parser.parse_args(argv)
    chosen = [p.strip() for p in args.probes.split(",") if p.strip()]
    unknown = set(chosen) - set(PROBES)
    if unknown:
        parser.error(f"unknown probes: {', '.join(sorted(unknown))}")
    commands = tuple(c.strip() for c in args.kill_commands.split(",") if c.strip())
    if set(commands) - set(kills.COMMANDS):
        parser.error(f"unknown kill commands: {', '.join(sorted(set(commands) - set(kills.COMMANDS)))}")
    work = args.work or Path(tempfile.mkdtemp(prefix="engine-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TQDM_DISABLE", "1")
    summary: dict = {"settings": {k: str(v) for k, v in vars(args).items()}, "seconds": {}}
    tables: list[str] = []

    def emit(name: str, text: str, data: dict, started: float) -> None:
        summary[name] = data
        summary["seconds"][name] = round(time.monotonic() - started, 1)
        tables.append(text)
        print(text, flush=True)

    for name in chosen:
        started = time.monotonic()
        (work / name).mkdir(exist_ok=True)
        if name == "kills":
            result = kills.run(work / "kills", args.kills, args.seed, commands)
            emit(name, kills.report(kills.summarise(result)), {"summary": kills.summarise(result), "runs": result}, started)
        elif name == "files":
            result = badfiles.probe(work / "files")
            emit(name, badfiles.report(result), {"summary": badfiles.summarise(result), "entries": result}, started)
        elif name == "http":
            index = serve_index(work)
            with serving(index) as server:
                result = hostile.probe(server, index, MODEL)
                result["server_tracebacks"] = server.stop().count("Traceback")
            emit(name, hostile.report(result), result, started)
        elif name == "load":
            with serving(serve_index(work)) as server:
                result = load.run(server, args.text_queries, args.image_queries, args.concurrency, args.bound, args.seed)
                result["server_tracebacks"] = server.stop().count("Traceback")
            emit(name, load.report(result), result, started)
        elif name == "fuzz":
            result = fuzzing.run(work / "fuzz", serve_index(work), args.fuzz, args.concurrency, args.bound, args.seed)
            emit(name, fuzzing.report(result), result, started)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=1, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.tables:
        args.tables.parent.mkdir(parents=True, exist_ok=True)
        args.tables.write_text("\n".join(tables), encoding="utf-8")
    print(f"work folder: {work}; seconds per probe: {summary['seconds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
