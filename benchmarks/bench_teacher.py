"""What a teacher costs: seconds to embed 1,000 training texts, per teacher (paid once; the targets are cached).

Embeds the same texts (English Flickr8k val captions by default: never in a target cache) with
each installed teacher, without the cache, and prints a table; --json writes the figures too.
Run it under the CPU lock so that nothing else is measured at once:

    flock /tmp/engine-cpu.lock .venv/bin/python benchmarks/bench_teacher.py --texts 1000 --json out/bench_teacher.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from engine.atomic import write_atomic
from engine.cli import run_reporting_errors
from engine.errors import EngineError
from engine.train.data import flickr8k
from engine.train.teacher import TEACHERS, Teacher, installed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Needs the teacher extra: bash scripts/install_extras teacher")
    parser.add_argument("--teachers", nargs="+", default=list(TEACHERS), choices=sorted(TEACHERS), help="teachers to time (default: all)")
    parser.add_argument("--texts", type=int, default=1000, help="how many texts to embed (default: 1000)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    missing = [name for name in args.teachers if not installed(name)]
    if missing:
        raise EngineError(f"not installed: {', '.join(missing)}; bash scripts/install_extras teacher")
    texts = list(dict.fromkeys(t for t, lang in zip(*_captions()) if lang == "en"))[: args.texts]
    rows = []
    for name in args.teachers:
        started = time.perf_counter()
        teacher = Teacher(name)
        loaded = time.perf_counter()
        teacher.embed(texts)
        done = time.perf_counter()
        rows.append({"teacher": name, "texts": len(texts), "load_s": round(loaded - started, 2), "s_per_1000": round((done - loaded) / len(texts) * 1000, 2)})
    print("| teacher | texts | load (s) | s per 1,000 texts |\n| --- | ---: | ---: | ---: |")
    for row in rows:
        print(f"| {row['teacher']} | {row['texts']} | {row['load_s']} | {row['s_per_1000']} |")
    if args.json:
        write_atomic(args.json, json.dumps({"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rows": rows}, indent=2) + "\n")


def _captions() -> tuple[list[str], list[str]]:
    pool = flickr8k(split="val", langs="en")
    return pool.caption_text, pool.caption_lang


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
