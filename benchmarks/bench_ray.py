"""Ray executor vs the local one: the same Flickr8k photos and captions embedded into partitions.

Both executors run `engine.index.partitioned.run` on the same items with the shipped CLIPPO demo
checkpoint (cpu-tiny): the local one with a pool of `--workers` processes decoding photos and
rendering texts while the main process runs the model; the Ray one on a local Ray cluster of
`--workers` CPUs, with `--workers` CPU-stage actors and `--workers` model actors. Photos and
texts are embedded in separate runs; for each, items/s per executor (wall time of the whole run,
Ray's start-up included) and the largest absolute difference between their vectors. Needs ../shared/data (skips with a message without it) and
the ray extra (bash scripts/install_extras ray).

    flock /tmp/engine-cpu.lock .venv/bin/python benchmarks/bench_ray.py --csv benchmarks/results/ray.csv
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import engine
from engine.demo import ASSETS
from engine.index import partitioned, partitions
from engine.index.collect import image_item, text_item

DATA = Path(os.environ.get("ENGINE_DATA", Path(__file__).resolve().parent.parent.parent / "shared" / "data"))
CHECKPOINT = ASSETS / "clippo-cpu-tiny-scenes"


def collection(photos: int, texts: int) -> tuple[list, list]:
    """The first `photos` Flickr8k photos (by name) and the first `texts` distinct captions (any language)."""
    images = sorted((DATA / "flickr8k" / "images").glob("*.jpg"))[:photos]
    captions: list[str] = []
    seen: set[str] = set()
    with gzip.open(DATA / "flickr8k" / "captions.tsv.gz", "rt", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            caption = line.rstrip("\n").split("\t")[6]
            if caption not in seen:
                seen.add(caption)
                captions.append(caption)
            if len(captions) == texts:
                break
    return [image_item(path) for path in images], [text_item(caption) for caption in captions]


def embed(executor: str, items: list, workers: int, folder: Path) -> tuple[float, np.ndarray]:
    encoder = engine.load(CHECKPOINT)
    job, _ = partitioned.plan_job(folder, items, encoder.checkpoint_hash)
    started = time.perf_counter()
    partitioned.run(job, CHECKPOINT, encoder, executor, workers)
    seconds = time.perf_counter() - started
    parts = partitions.finished(folder)
    return seconds, np.concatenate([vectors for _, vectors in partitions.each_vectors(folder, parts)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=5000)
    parser.add_argument("--texts", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2, help="Ray CPUs (and actors per stage); local decoding processes")
    parser.add_argument("--csv", type=Path, help="append the rows to this CSV")
    args = parser.parse_args()
    if not (DATA / "flickr8k" / "images").is_dir():
        print(f"skipped: no Flickr8k under {DATA} (set ENGINE_DATA)")
        return
    if importlib.util.find_spec("ray") is None:
        print("skipped: Ray is not installed (bash scripts/install_extras ray)")
        return
    photos, texts = collection(args.photos, args.texts)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for kind, items in (("photos", photos), ("texts", texts)):
            vectors = {}
            for executor in ("local", "ray"):
                seconds, vectors[executor] = embed(executor, items, args.workers, Path(scratch) / f"{kind}-{executor}")
                rows.append({"executor": executor, "workers": args.workers, "kind": kind, "items": len(items), "seconds": round(seconds, 1)})
                rows[-1] |= {"items_per_s": round(len(items) / seconds, 1), "load_avg_1m": round(os.getloadavg()[0], 2)}
            same_shape = vectors["local"].shape == vectors["ray"].shape
            diff = float(np.abs(vectors["local"] - vectors["ray"]).max()) if same_shape else float("nan")
            for row in rows[-2:]:
                row["max_abs_diff"] = diff
    print(f"{'executor':<9} {'workers':>7} {'kind':<7} {'items':>7} {'seconds':>8} {'items/s':>8}  max |local - ray|")
    for row in rows:
        print(f"{row['executor']:<9} {row['workers']:>7} {row['kind']:<7} {row['items']:>7} {row['seconds']:>8} {row['items_per_s']:>8}", end="  ")
        print(f"{row['max_abs_diff']:.3g}")
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        new = not args.csv.exists()
        with open(args.csv, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            if new:
                writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
