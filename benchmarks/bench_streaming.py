"""Streamed training against the in-memory source, and the streaming reader's memory against the shard count.

throughput: `engine train` with the same recipe (clippo-flickr8k-cpu-small: cpu-small, batch 128,
English captions, a tenth of each batch Multi30k pairs from memory), once on the Flickr8k train
photos from the decoded in-memory cache and once on the same photos streamed from WebDataset
shards (`engine shards write --data flickr8k:split=train`); validation off, a fixed number of
steps, pairs/s from metrics.jsonl between step --warmup and the last step. The runs alternate
(memory, stream, memory, stream, ...) so that drift on a shared machine hits both alike. Target:
streaming >= 95 % of in-memory.

memory: peak RSS of a process that streams one epoch of 10, 100 and 1,000 synthetic shards (20
photos each) through the trainer's reader (`StreamBatches`, batches of 64 decoded photos). Flat
means it does not grow with the number of shards.

    engine shards write --data flickr8k:split=train --per-shard 500 --out /tmp/flickr8k-train
    flock /tmp/engine-cpu.lock .venv/bin/python benchmarks/bench_streaming.py --shards /tmp/flickr8k-train --csv out/bench_streaming.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

RECIPE = "clippo-flickr8k-cpu-small"
PAIRS = "multi30k:split=train,exclude=val"
SAMPLES_PER_SYNTHETIC_SHARD = 20


def train_command(out: Path, steps: int, shards: Path | None) -> list[str]:
    """The recipe, validation off; with `shards`, its Flickr8k photos streamed (its caption languages and pairs kept)."""
    command = [sys.executable, "-m", "engine", "train", "--config", RECIPE, "--steps", str(steps), "--set", "time_budget=null"]
    command += ["--val", "none", "--log-every", "1", "--checkpoint-every", str(100 * steps), "--out", str(out)]
    if shards:
        command += ["--data", f"shards:urls={shards}", "--data", PAIRS, "--caption-langs", "en=1"]
    return command


def pairs_per_s(shards: Path | None, steps: int, warmup: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        subprocess.run(train_command(out, warmup + steps, shards), check=True, stderr=subprocess.DEVNULL)
        records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        elapsed = {r["step"]: r["elapsed_s"] for r in records if "loss" in r}
        return 128 * steps / (elapsed[warmup + steps] - elapsed[warmup])


def synthetic_shards(folder: Path, count: int) -> None:
    """`count` shards of SAMPLES_PER_SYNTHETIC_SHARD random 96x96 JPEG photos with a caption each."""
    from PIL import Image

    import webdataset as wds

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for shard in range(count):
        with wds.TarWriter(str(folder / f"{shard:05d}.tar"), encoder=False) as tar:
            for index in range(SAMPLES_PER_SYNTHETIC_SHARD):
                buffer = io.BytesIO()
                Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(buffer, "JPEG", quality=85)
                caption = json.dumps({"caption": f"photo {index} of shard {shard}", "language": "en"}).encode()
                tar.write({"__key__": f"{shard:05d}{index:04d}", "jpg": buffer.getvalue(), "json": caption})


def read_one_epoch(folder: Path, count: int) -> None:
    """(Child process) stream one epoch of the first `count` shards through StreamBatches; print peak RSS in MB."""
    from engine.train.data import TextPairs
    from engine.train.shards import shards
    from engine.train.streaming import StreamBatches

    stream = shards(f"{folder}/{{00000..{count - 1:05d}}}.tar")
    batch = 64
    steps = count * SAMPLES_PER_SYNTHETIC_SHARD // batch
    dataset = StreamBatches(stream, None, TextPairs(), lambda texts, _: np.zeros((len(texts), 1)), 112, (batch, 0), None, 1, 0, 0, steps, 0, 1, 1, None)
    photos = sum(len(item["images"]) for item in dataset)
    print(json.dumps({"shards": count, "photos": photos, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def peak_rss(folder: Path, count: int) -> dict:
    result = subprocess.run([sys.executable, __file__, "--rss-child", str(folder), str(count)], check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def memory_table(counts: list[int]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "synthetic"
        synthetic_shards(folder, max(counts))
        print(f"\nstreaming reader, one epoch of N synthetic shards ({SAMPLES_PER_SYNTHETIC_SHARD} photos each, decoded at 112 px)")
        print("| shards | photos | peak RSS (MB) |\n| ---: | ---: | ---: |")
        for count in counts:
            row = peak_rss(folder, count)
            print(f"| {row['shards']:,} | {row['photos']:,} | {row['peak_rss_mb']:.0f} |", flush=True)
            rows.append({"table": "memory", **row})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--shards",
        type=Path,
        nargs="*",
        default=[],
        help="Flickr8k train shard folder(s) (engine shards write --data flickr8k:split=train --out DIR); none: skip",
    )
    parser.add_argument("--steps", type=int, default=40, help="timed steps per training run (default 40)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (default 10)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each source, alternating (default 2)")
    parser.add_argument("--counts", type=int, nargs="*", default=[10, 100, 1000], help="synthetic shard counts for the memory table (none: skip)")
    parser.add_argument("--csv", type=Path, default=Path("out/bench_streaming.csv"), help="where the rows are written")
    parser.add_argument("--rss-child", nargs=2, metavar=("FOLDER", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        read_one_epoch(Path(args.rss_child[0]), int(args.rss_child[1]))
        return 0

    rows: list[dict] = []
    if args.shards:
        sources: dict[str, Path | None] = {"memory": None, **{f"stream {path.name}": path for path in args.shards}}
        speeds: dict[str, list[float]] = {source: [] for source in sources}
        for _ in range(args.repeats):
            for source, shards in sources.items():
                speeds[source].append(pairs_per_s(shards, args.steps, args.warmup))
                print(f"{source}: {speeds[source][-1]:.1f} pairs/s", flush=True)
        memory = float(np.mean(speeds["memory"]))
        print(f"\n{RECIPE}, {args.steps} timed steps after {args.warmup}, {args.repeats} runs each (alternating)")
        print("| source | pairs/s (mean) | runs | ratio |\n| --- | ---: | --- | ---: |")
        for source, values in speeds.items():
            mean = float(np.mean(values))
            print(f"| {source} | {mean:.1f} | {' / '.join(f'{v:.1f}' for v in values)} | {100 * mean / memory:.0f} % |")
            rows.append(
                {
                    "table": "throughput",
                    "source": source,
                    "pairs_per_s": round(mean, 2),
                    "runs": " ".join(f"{v:.2f}" for v in values),
                    "ratio": round(mean / memory, 4),
                }
            )

    if args.counts:
        rows += memory_table(args.counts)

    args.csv.parent.mkdir(parents=True, exist_ok=True)
    fields = sorted({key for row in rows for key in row})
    with open(args.csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"\nrows written to {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
