"""Index figures: build throughput and end-to-end query latency, and approximate search at 1M vectors.

1. For each collection size (default 10k and 100k generated multilingual texts), a fresh
   `cpu-small` checkpoint builds an index (items/s: render + encode + index + write), then
   answers new text queries through `engine.open_index(...).search_text` (render + encode +
   search + metadata look-up): p50/p99 latency after warm-up, and search-only latency.
2. For 1M synthetic clustered unit vectors of cpu-small's dimension, the automatically chosen
   index is built and tuned (recall@10 >= 0.95 on a sample of the collection's own vectors),
   then searched one query at a time with held-out vectors from the same clusters: p50/p99
   latency and recall@10 against exact search.

Untrained weights embed as fast as trained ones, so the timings hold for any cpu-small model.
Run it alone on the machine (it uses every core):

    flock /tmp/engine-cpu.lock .venv/bin/python benchmarks/bench_index.py --json out/bench_index.json
    .venv/bin/python benchmarks/bench_index.py --sizes 2000 --vectors 200000 --queries 50   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from engine.cli import run_reporting_errors
from engine.index.ann import VectorSearch, recall_at_10
from engine.index.build import build
from engine.index.collect import text_item
from engine.index.factory import build_faiss, exact_top, plan_index, tune
from engine.index.search import one_thread, open_index
from engine.model import DualEncoder, architecture, inputs_for
from engine.render import font_fingerprint
from engine.model.checkpoint import save_checkpoint

PRESET = "cpu-small"
WORDS = {  # a few words per language and script, combined into distinct captions
    "en": (["red", "small", "old", "happy", "wet"], ["dog", "child", "bicycle", "boat", "house"], ["near the river", "in the snow", "on a street", "at night"]),
    "de": (["roter", "kleiner", "alter", "nasser"], ["Hund", "Junge", "Zug", "Baum"], ["am Fluss", "im Schnee", "auf der Straße", "in der Nacht"]),
    "ru": (["красная", "маленькая", "старая"], ["собака", "лодка", "машина"], ["у реки", "в снегу", "на улице", "ночью"]),
    "zh": (["红色的", "小", "旧的"], ["狗", "船", "自行车", "房子"], ["在河边", "在雪地里", "在街上"]),
    "ar": (["كلب", "قارب", "طفل"], ["صغير", "أحمر", "قديم"], ["بجانب النهر", "في الثلج", "في الشارع"]),
    "hi": (["लाल", "छोटा", "पुराना"], ["कुत्ता", "नाव", "घर"], ["नदी के पास", "बर्फ में", "सड़क पर"]),
}


def generated_texts(n: int, seed: int) -> list[str]:
    """n distinct captions in six languages and five scripts (a running number keeps them distinct)."""
    rng = np.random.default_rng(seed)
    langs = list(WORDS)
    texts = []
    for i in range(n):
        first, second, place = WORDS[langs[i % len(langs)]]
        texts.append(f"{rng.choice(first)} {rng.choice(second)} {rng.choice(place)} {rng.integers(1, 10_000)}-{i}")
    return texts


def latencies(function, queries: list) -> np.ndarray:
    """Seconds per call, one query at a time."""
    out = np.empty(len(queries))
    for i, query in enumerate(queries):
        start = time.perf_counter()
        function(query)
        out[i] = time.perf_counter() - start
    return out


def bench_collection(n: int, checkpoint: Path, queries: int, workdir: Path) -> dict:
    texts = generated_texts(n, seed=n)
    started = time.perf_counter()
    report = build(workdir / f"index-{n}", checkpoint, [text_item(t) for t in texts], [])
    build_s = time.perf_counter() - started
    index = open_index(workdir / f"index-{n}")
    fresh = generated_texts(queries + 20, seed=n + 1)  # never seen: the render cache cannot help
    latencies(index.search_text, fresh[:20])  # warm-up
    e2e = latencies(index.search_text, fresh[20:])
    vectors = [index.vector(i) for i in range(queries)]
    search = latencies(index.search_vector, vectors)
    chosen = report.manifest["index"]
    return {
        "items": n,
        "index": chosen["factory"],
        "knobs": chosen["knobs"] or "-",
        "recall_at_10": chosen["recall_at_10"],
        "build_s": round(build_s, 1),
        "build_items_per_s": round(n / build_s, 1),
        "e2e_p50_ms": _ms(e2e, 50),
        "e2e_p99_ms": _ms(e2e, 99),
        "search_p50_ms": _ms(search, 50),
        "search_p99_ms": _ms(search, 99),
    }


def clustered_vectors(n: int, dim: int, clusters: int, spread: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around random centres: `spread` is the noise norm relative to the centre's."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        rows = min(100_000, n - start)
        block = centres[rng.integers(0, clusters, rows)] + spread * rng.standard_normal((rows, dim)).astype(np.float32)
        out[start : start + rows] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out, centres


def bench_vectors(n: int, dim: int, queries: int, clusters: int, spread: float) -> dict:
    collection, _ = clustered_vectors(n + queries, dim, clusters, spread, seed=7)
    vectors, held_out = collection[:n], collection[n:]
    plan = plan_index(n, dim)
    started = time.perf_counter()
    index = build_faiss(vectors, plan.factory)
    build_s = time.perf_counter() - started
    knobs, tuned_recall = tune(index, vectors)
    search = VectorSearch(index, vectors, knobs)
    with one_thread():  # as `Index.search_*` runs a query
        lat = latencies(lambda q: search.search(q[None, :], 10), list(held_out))
    found = search.search(held_out, 10)[1]
    return {
        "vectors": n,
        "dim": dim,
        "index": plan.factory,
        "knobs": knobs,
        "build_s": round(build_s, 1),
        "recall_at_10_build_sample": round(tuned_recall, 4),
        "recall_at_10_held_out": round(recall_at_10(found, exact_top(held_out, vectors, 10)), 4),
        "search_p50_ms": _ms(lat, 50),
        "search_p99_ms": _ms(lat, 99),
    }


def _ms(seconds: np.ndarray, percentile: int) -> float:
    return round(float(np.percentile(seconds, percentile)) * 1000, 2)


def _table(rows: list[dict]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000], help="collection sizes (texts) to build and query")
    parser.add_argument("--vectors", type=int, default=1_000_000, help="synthetic vectors for the approximate-index part (0 skips it)")
    parser.add_argument("--clusters", type=int, default=10_000, help="clusters of the synthetic vectors")
    parser.add_argument("--spread", type=float, default=0.5, help="noise norm relative to the cluster centre (higher = harder)")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per measurement")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    preset = architecture(PRESET)
    print(f"torch threads: {torch.get_num_threads()}; load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    results: dict = {"preset": PRESET, "collections": [], "vectors": None, "load_average_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        workdir = Path(tmp)
        torch.manual_seed(0)
        checkpoint = workdir / "cpu-small"
        # drop_blank as `engine train` defaults to: a query then encodes only its ink patches
        model = DualEncoder(preset, inputs_for(PRESET, drop_blank=True, text_grid=False))
        save_checkpoint(checkpoint, model, {"font_fingerprint": font_fingerprint()})
        for n in args.sizes:
            results["collections"].append(bench_collection(n, checkpoint, args.queries, workdir))
            print(_table(results["collections"][-1:]), flush=True)
    if args.vectors:
        results["vectors"] = bench_vectors(args.vectors, preset.embed_dim, max(args.queries, 1000), args.clusters, args.spread)
    if results["collections"]:
        print(f"\n## {PRESET} collections (texts): build and end-to-end text query\n\n{_table(results['collections'])}")
    if results["vectors"]:
        print(f"\n## {args.vectors:,} clustered vectors ({args.clusters:,} clusters, spread {args.spread}): automatic index\n")
        print(_table([results["vectors"]]))
    results["load_average_end"] = os.getloadavg()[0]
    print(f"\nload average (1 min) at start {results['load_average_start']:.2f}, at end {results['load_average_end']:.2f} (2 cores)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
