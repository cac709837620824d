"""An index larger than RAM: N synthetic clustered vectors in partitions -> IVF-PQ with on-disk lists.

Three steps, each in its own process so that its peak RSS is its own:

1. generate (run it outside the CPU lock): `--parts` embedding partitions of `--n` unit vectors
   (clip-retrieval layout, `engine.index.partitions`), drawn as in bench_index.py: `--clusters`
   random Gaussian centres plus noise of `--spread` times their norm, plus `--queries` held-out
   vectors from the same clusters. Written once under OUT and reused.
2. build: `engine.index.ondisk.build` (train on a sample, add partition by partition, merge the
   lists on disk, tune nprobe within the latency budget). Reports wall time, peak RSS, disk size.
3. serve: a fresh process opens the index memory-mapped (`engine.index.search.load_stored`, as
   `engine query` and `engine serve` do) and answers the held-out queries one at a time on one
   thread: search, exact re-ranking from the memory-mapped vectors, and the 10 hits' metadata
   read from the memory-mapped Arrow copies of the Parquet files. Reports p50/p95 latency, recall@10 against exact search, and the process's
   RSS after the queries and its peak.

    .venv/bin/python benchmarks/bench_ondisk.py generate --n 1000000 --out /work/bigdata/1m
    flock /tmp/engine-cpu.lock .venv/bin/python benchmarks/bench_ondisk.py measure --out /work/bigdata/1m --csv benchmarks/results/ondisk.csv

At 10M, run the steps under separate holds of the lock (each is several minutes here):
`measure --steps truth`, then `--steps build`, then `--steps serve --csv ...`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from engine.index import ondisk, partitions, store
from engine.index.ann import VectorSearch, recall_at_10
from engine.index.search import load_stored, one_thread

DIM = 192
SPREAD = 0.5
CLUSTERS = 10_000


def generate(out: Path, n: int, parts: int, dim: int, queries: int, clusters: int, spread: float, seed: int = 7) -> None:
    """Partitions of clustered unit vectors, and held-out queries from the same clusters."""
    directory = ondisk.parts_dir(out / "index")
    if (out / "queries.npy").exists():
        print(f"{out}: data already generated")
        return
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)

    def draw(count: int, stream: np.random.Generator) -> np.ndarray:
        block = centres[stream.integers(0, clusters, count)] + spread * stream.standard_normal((count, dim), dtype=np.float32)
        return block / np.linalg.norm(block, axis=1, keepdims=True)

    size, first = -(-n // parts), 0
    for number in range(parts):
        count = min(size, n - first)
        vectors = draw(count, np.random.default_rng([seed, number]))
        ids = np.arange(first, first + count)
        metadata = pd.DataFrame({"modality": "image", "path": [f"/synthetic/{i:09d}.jpg" for i in ids], "text": None, "language": None})
        partitions.write(directory, number, metadata.astype({"path": "string", "text": "string", "language": "string", "modality": "string"}), vectors)
        first += count
        print(f"partition {number + 1}/{parts}", end="\r", flush=True)
    np.save(out / "queries.npy", draw(queries, np.random.default_rng([seed, 10**6])))
    print(f"\n{out}: {n:,} vectors in {parts} partitions, {queries} held-out queries")


def build_step(out: Path) -> None:
    """In a child process: build the index and print its manifest's index section as JSON."""
    manifest = ondisk.build(out / "index", {"checkpoint": {"kind": "synthetic"}, "dim": DIM, "skipped": [], "history": []})
    print("RESULT " + json.dumps({"index": manifest["index"], "build_seconds": manifest["build_seconds"]}))


def serve_step(out: Path, truth_path: Path) -> None:
    """In a child process: open memory-mapped, answer held-out queries one at a time, report."""
    started = time.perf_counter()
    stored = load_stored(out / "index")
    open_s = time.perf_counter() - started
    queries = np.load(out / "queries.npy")
    truth = np.load(truth_path)
    search = VectorSearch(stored.index, stored.vectors, stored.manifest["index"]["knobs"])
    found, times = [], []
    with one_thread():
        for query in queries[:20]:  # warm-up: first page faults of the centroids and code tables
            search.search(query[None, :], 10)
        for query in queries:
            t0 = time.perf_counter()
            _, ids = search.search(query[None, :], 10)
            stored.metadata.rows(ids[0][ids[0] >= 0])  # what a query shows: the hits' rows
            times.append(time.perf_counter() - t0)
            found.append(ids[0])
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    result = {
        "open_s": open_s,
        "recall_at_10": recall_at_10(np.array(found), truth),
        "p50_ms": float(np.percentile(times, 50) * 1000),
        "p95_ms": float(np.percentile(times, 95) * 1000),
        "qps_one_thread": len(times) / sum(times),
        "serve_rss_gb": int(status["VmRSS"].split()[0]) / 2**20,
        "serve_peak_rss_gb": int(status["VmHWM"].split()[0]) / 2**20,
    }
    print("RESULT " + json.dumps(result))


def child(step: str, out: Path, *extra: str) -> tuple[dict, float, float]:
    """Run a step in a fresh interpreter: (its RESULT, wall seconds, its peak RSS in GB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, step, "--out", str(out), *extra], stdout=subprocess.PIPE, text=True, check=True)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far, in KiB
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :]), wall, (peak if peak > before else before) / 2**20


def measure(out: Path, csv_path: Path | None, steps: list[str]) -> dict | None:
    """Run `steps` (truth, build, serve; each result kept in OUT/results.json, so that they can
    be run under separate holds of the CPU lock), then print and save the row once all are in."""
    index_dir = out / "index"
    saved = out / "results.json"
    results = json.loads(saved.read_text()) if saved.exists() else {}
    parts = partitions.finished(ondisk.parts_dir(index_dir))
    truth_path = out / "truth.npy"
    if "truth" in steps:
        started = time.perf_counter()
        np.save(truth_path, ondisk.exact_top(np.load(out / "queries.npy"), ondisk.parts_dir(index_dir), parts, 10))
        results["truth"] = {"truth_s": time.perf_counter() - started}
    if "build" in steps:
        for stale in [*index_dir.glob("segment-*"), *index_dir.glob("trained-*"), index_dir / store.MANIFEST]:
            stale.unlink(missing_ok=True)
        built, wall, rss = child("_build", out)
        results["build"] = {**built, "build_wall_s": wall, "build_peak_rss_gb": rss, "load_avg_1m": os.getloadavg()[0]}
        results["build"]["index_bytes"] = sum(p.stat().st_size for p in index_dir.iterdir() if p.is_file())
        results["build"]["parts_bytes"] = sum(p.stat().st_size for p in ondisk.parts_dir(index_dir).iterdir())
    if "serve" in steps:
        served, _, _ = child("_serve", out, "--truth", str(truth_path))
        results["serve"] = {**served, "load_avg_1m": os.getloadavg()[0]}
    merged = json.loads(saved.read_text()) if saved.exists() else {}  # another step may have finished meanwhile
    results = merged | {step: results[step] for step in steps if step in results}
    saved.write_text(json.dumps(results, indent=1))
    if not all(step in results for step in ("truth", "build", "serve")):
        print(f"{out}: steps done so far: {', '.join(results)}")
        return None
    built, served = results["build"], results["serve"]
    row = {
        "vectors": sum(p.count for p in parts),
        "partitions": len(parts),
        "dim": DIM,
        "factory": built["index"]["factory"],
        "nprobe": built["index"]["knobs"]["nprobe"],
        "tuned_recall": built["index"]["recall_at_10"],
        "build_s": round(built["build_wall_s"], 1),
        "build_peak_rss_gb": round(built["build_peak_rss_gb"], 2),
        "index_disk_gb": round(built["index_bytes"] / 1e9, 3),
        "partitions_disk_gb": round(built["parts_bytes"] / 1e9, 3),
        "heldout_recall_at_10": round(served["recall_at_10"], 4),
        "p50_ms": round(served["p50_ms"], 2),
        "p95_ms": round(served["p95_ms"], 2),
        "qps_one_thread": round(served["qps_one_thread"], 1),
        "serve_rss_gb": round(served["serve_rss_gb"], 3),
        "serve_peak_rss_gb": round(served["serve_peak_rss_gb"], 3),
        "open_s": round(served["open_s"], 2),
        "truth_s": round(results["truth"]["truth_s"], 1),
        "load_avg_build": round(built["load_avg_1m"], 2),
        "load_avg_serve": round(served["load_avg_1m"], 2),
    }
    width = max(map(len, row))
    print("\n".join(f"{key:<{width}}  {value}" for key, value in row.items()))
    if csv_path:
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        new = not csv_path.exists()
        with open(csv_path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("generate", "measure", "_build", "_serve"))
    parser.add_argument("--out", type=Path, required=True, help="data folder (outside the repository: 10M vectors take 7.7 GB)")
    parser.add_argument("--n", type=int, default=10_000_000, help="vectors (default 10M)")
    parser.add_argument("--parts", type=int, default=100, help="partitions (default 100)")
    parser.add_argument("--queries", type=int, default=1000, help="held-out queries (default 1000)")
    parser.add_argument("--clusters", type=int, default=CLUSTERS)
    parser.add_argument("--spread", type=float, default=SPREAD)
    parser.add_argument("--csv", type=Path, help="append the result row to this CSV")
    parser.add_argument("--steps", default="truth,build,serve", help="measure: which steps to run now (default all three)")
    parser.add_argument("--truth", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "generate":
        generate(args.out, args.n, args.parts, DIM, args.queries, args.clusters, args.spread)
    elif args.step == "measure":
        measure(args.out, args.csv, args.steps.split(","))
    elif args.step == "_build":
        build_step(args.out)
    else:
        serve_step(args.out, args.truth)


if __name__ == "__main__":
    main()
