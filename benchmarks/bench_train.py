"""Training throughput per preset: the raw model step against the whole trainer, in one run.

raw: `_train_step` (forward, global loss, backward, AdamW) on random uint8 tensors already in
memory: the ceiling. end-to-end: `engine train` on real data (Flickr8k photos, captions rendered
in DataLoader workers, Multi30k pairs), measured from its metrics log after warm-up. The target
for cpu-small is end-to-end >= 90 % of raw. Pairs/s counts batch rows (photo/caption or text/text).
A second table measures blank-patch dropping on real captions: patches kept per text and
text-encoding speed with and without it (inference, model only).

    flock /tmp/engine-cpu.lock .venv/bin/python benchmarks/bench_train.py --presets cpu-tiny cpu-small
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from engine.cli import run_reporting_errors
from engine.model import DualEncoder, architecture, inputs_for
from engine.model.inputs import TextInputs
from engine.model.precision import autocast_dtype
from engine.train.cli import add_train_arguments, resolve
from engine.train.data import load_source
from engine.train.loop import _train_step
from engine.train.optim import Optimizer

DATA = ("flickr8k:split=train", "multi30k:split=train,exclude=val")


def train_args(preset: str, batch: int, steps: int, out: Path, extra: list[str]) -> list[str]:
    data = [arg for spec in DATA for arg in ("--data", spec)]
    return [
        "--preset",
        preset,
        *data,
        "--batch-size",
        str(batch),
        "--steps",
        str(steps),
        "--log-every",
        "1",
        "--checkpoint-every",
        str(10 * steps),
        "--out",
        str(out),
        *extra,
    ]


def raw_pairs_per_s(preset_name: str, batch: int, steps: int, warmup: int, extra: list[str]) -> float:
    """The model step alone on random inputs with the trainer's batch composition."""
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    config = resolve(parser.parse_args(train_args(preset_name, batch, steps, Path("unused"), extra)))
    torch.manual_seed(0)
    model = DualEncoder(config.model, config.input)
    precision = autocast_dtype(config.train.precision, torch.device("cpu"))
    optimizer = Optimizer(model, config.train.optimizer, config.train.lr, config.train.weight_decay, matmul_dtype=precision)
    n_pairs = round(batch * config.train.pair_share)
    n_images = (batch - n_pairs) // config.train.captions_per_photo
    size = config.model.image_size
    batch_tensors = {
        "images": torch.randint(0, 256, (n_images, 3, size, size), dtype=torch.uint8),
        "texts": torch.randint(0, 256, (batch + n_pairs, size, size), dtype=torch.uint8),
        "step": torch.tensor(0),
    }
    for _ in range(warmup):
        _train_step(model, optimizer, batch_tensors, n_images, config, torch.device("cpu"), precision, 1, config.input.photo_mask)
    started = time.perf_counter()
    for _ in range(steps):
        _train_step(model, optimizer, batch_tensors, n_images, config, torch.device("cpu"), precision, 1, config.input.photo_mask)
    return batch * steps / (time.perf_counter() - started)


def end_to_end_pairs_per_s(preset: str, batch: int, steps: int, warmup: int, extra: list[str]) -> float:
    """`engine train` on real data; speed from its metrics log between step `warmup` and the last step."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        command = [sys.executable, "-m", "engine", "train", *train_args(preset, batch, warmup + steps, out, extra)]
        subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
        records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        elapsed = {r["step"]: r["elapsed_s"] for r in records if "loss" in r}
        return batch * steps / (elapsed[warmup + steps] - elapsed[warmup])


@torch.inference_mode()
def text_encoding(preset_name: str, n_texts: int) -> dict:
    """Blank-patch dropping on real captions (Flickr8k val, English): patches kept and texts/s, model only."""
    model_config, inputs = architecture(preset_name), inputs_for(preset_name, text_grid=False)
    captions = load_source("flickr8k:split=val,langs=en").caption_text[:n_texts]
    pages = torch.from_numpy(TextInputs(model_config, inputs)(captions))
    torch.manual_seed(0)
    model = DualEncoder(model_config, inputs).eval()
    _, mask = model.patches(pages, drop=True)
    row = {
        "preset": preset_name,
        "patches_full": model_config.grid**2,
        "patches_kept_mean": mask.sum(1).float().mean().item(),
        "patches_kept_max": int(mask.sum(1).max()),
    }
    for drop in (False, True):
        model.drop_blank = drop
        model.encode_texts(pages[:64])
        started = time.perf_counter()
        for start in range(0, len(pages), 256):
            model.encode_texts(pages[start : start + 256])
        row[f"texts_per_s_{'drop' if drop else 'full'}"] = len(pages) / (time.perf_counter() - started)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["cpu-tiny", "cpu-small"])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per measurement (default: 20)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default: 5)")
    parser.add_argument("--texts", type=int, default=1024, help="captions for the text-encoding (blank-patch) table")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("train_flags", nargs=argparse.REMAINDER, help="after --: extra engine train flags, e.g. -- --drop-blank")
    args = parser.parse_args()
    extra = [flag for flag in args.train_flags if flag != "--"]
    rows = []
    print(f"{'preset':<10} {'raw pairs/s':>12} {'end-to-end':>11} {'ratio':>6}   flags: {' '.join(extra) or '(defaults)'}")
    for preset in args.presets:
        raw = raw_pairs_per_s(preset, args.batch_size, args.steps, args.warmup, extra)
        real = end_to_end_pairs_per_s(preset, args.batch_size, args.steps, args.warmup, extra)
        rows.append({"preset": preset, "batch_size": args.batch_size, "flags": extra, "raw_pairs_per_s": raw, "end_to_end_pairs_per_s": real})
        print(f"{preset:<10} {raw:12.1f} {real:11.1f} {real / raw:6.0%}", flush=True)
    print(f"\n{'preset':<10} {'patches':>8} {'kept (mean/max)':>16} {'texts/s full':>13} {'texts/s dropped':>16}")
    for preset in args.presets:
        row = text_encoding(preset, args.texts)
        rows.append(row)
        print(
            f"{preset:<10} {row['patches_full']:8d} {row['patches_kept_mean']:10.1f} / {row['patches_kept_max']:<3d}"
            f" {row['texts_per_s_full']:13.1f} {row['texts_per_s_drop']:16.1f}",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
