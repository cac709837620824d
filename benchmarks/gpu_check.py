"""One short check on a CUDA GPU: train b16 on the trainer's real path and report speed and memory.

Trains `b16` (224x224, patch 16, text at 16 px) for a few hundred steps through `engine train`'s
own loop on the built-in scene collection (pictures drawn with Pillow, captions rendered from the
pinned fonts in DataLoader workers), then measures text encoding through `engine.load`. Prints a
table and writes JSON (to --json, or $OUT/gpu_check.json when $OUT is set). About 2-3 minutes on
an H100. Without CUDA it stops with a clear message; `--device cpu --preset cpu-tiny --steps 3`
exercises the same logic on a CPU.

    .venv/bin/python benchmarks/gpu_check.py                       # on the GPU machine
    .venv/bin/python benchmarks/gpu_check.py --device cpu --preset cpu-tiny --steps 3 --scenes 64
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

import engine
from engine.cli import run_reporting_errors
from engine.errors import EngineError
from engine.model import architecture
from engine.train.cli import add_train_arguments, resolve
from engine.train.data import load_source
from engine.train.loop import train


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--preset", default="b16")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--scenes", type=int, default=4096, help="generated photos to train on (default: 4096)")
    parser.add_argument("--workers", type=int, default=min(12, (os.cpu_count() or 2) - 2) or 1)
    parser.add_argument("--texts", type=int, default=4096, help="captions to time text encoding on (default: 4096)")
    parser.add_argument("--json", type=Path, default=Path(os.environ["OUT"]) / "gpu_check.json" if os.environ.get("OUT") else None)
    return parser.parse_args()


def train_config(args: argparse.Namespace):
    size = architecture(args.preset).image_size
    flags = [
        "--preset",
        args.preset,
        "--data",
        f"scenes:count={args.scenes},size={size}",
        "--batch-size",
        str(args.batch_size),
        "--steps",
        str(args.steps),
        "--warmup",
        str(min(50, args.steps)),
        "--workers",
        str(args.workers),
        "--device",
        args.device,
        "--log-every",
        "1",
        "--checkpoint-every",
        str(10 * args.steps),
        "--set",
        "time_budget=null",
        "--val",
        "none",
    ]
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    config = resolve(parser.parse_args(flags))
    config.check_runnable()
    return config


def measure(args: argparse.Namespace) -> dict:
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        raise EngineError("no CUDA GPU visible to torch: run this on the GPU machine, or use --device cpu --preset cpu-tiny --steps 3")
    result = {
        "device": torch.cuda.get_device_name(0) if cuda else platform.processor() or "cpu",
        "preset": args.preset,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "torch": torch.__version__,
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        started = time.monotonic()
        train(train_config(args), out)
        result["train_wall_s"] = time.monotonic() - started
        result["peak_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30 if cuda else None
        records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        elapsed = {r["step"]: r["elapsed_s"] for r in records if "loss" in r}
        first = min(10, args.steps - 1) or 1
        timed = args.steps - first
        # every row is one photo and one rendered caption, each a full ViT pass
        result["pairs_per_s"] = args.batch_size * timed / (elapsed[args.steps] - elapsed[first]) if timed else float("nan")
        losses = [r["loss"] for r in records if "loss" in r]
        result["first_loss"], result["last_loss"] = losses[0], losses[-1]
        encoder = engine.load(out, device=args.device)
        captions = load_source(f"scenes:count={args.scenes},size={architecture(args.preset).image_size},langs=en+ar+hi+th+ja+ru").caption_text
        texts = (captions * (args.texts // max(1, len(captions)) + 1))[: args.texts]
        encoder.encode_texts(texts[:256])  # warm-up: fonts, kernels
        started = time.monotonic()
        encoder.encode_texts(texts)
        result["text_encode_texts_per_s"] = len(texts) / (time.monotonic() - started)
    return result


def main() -> int:
    args = parse()
    result = measure(args)
    rows = [
        ("device", result["device"]),
        ("preset / batch", f"{result['preset']} / {result['batch_size']}"),
        ("train pairs/s (1 photo + 1 caption each)", f"{result['pairs_per_s']:.1f}"),
        ("train images/s (ViT passes)", f"{2 * result['pairs_per_s']:.1f}"),
        ("peak GPU memory", f"{result['peak_memory_gib']:.1f} GiB" if result["peak_memory_gib"] is not None else "n/a (cpu)"),
        ("loss first -> last step", f"{result['first_loss']:.3f} -> {result['last_loss']:.3f}"),
        ("text encoding via engine.load (render + ViT, fp32)", f"{result['text_encode_texts_per_s']:.1f} texts/s"),
        ("train wall time", f"{result['train_wall_s']:.0f} s"),
    ]
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name:<{width}}  {value}" for name, value in rows))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
