"""Averages of a run's kept weights, made after the run (`engine average`).

An exponential moving average (`train.ema`) must choose its decay before the run starts, and a
two-hour run on two cores cannot be repeated for each choice. A run with `train.keep_every N`
also keeps its trained weights every N steps under `snapshots/`; afterwards any window of them
can be averaged with equal weights: the tail average of stochastic weight averaging (Izmailov et
al., UAI 2018) and of latest weight averaging (Kaddour, 2022), chosen once the curve is known.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from engine.atomic import atomic_path
from engine.errors import EngineError
from engine.model.checkpoint import TOKENIZER, find_checkpoint, load_model, save_checkpoint, tensors_of
from engine.model.dual import DualEncoder

SNAPSHOTS = "snapshots"
_NAME = re.compile(r"step-(\d+)\.safetensors")


def keep_weights(out: Path, model: DualEncoder, step: int) -> None:
    """Write the trained weights at `step` to `out/snapshots/step-NNNNNNN.safetensors` (atomically)."""
    folder = Path(out) / SNAPSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / f"step-{step:07d}.safetensors", durable=True) as tmp:
        save_file(tensors_of(model), str(tmp))


def kept_steps(run: Path) -> dict[int, Path]:
    """{step: file} of the weights a run kept, in step order."""
    folder = Path(run) / SNAPSHOTS
    found = {int(m.group(1)): path for path in folder.glob("step-*.safetensors") if (m := _NAME.fullmatch(path.name))} if folder.is_dir() else {}
    return dict(sorted(found.items()))


def mean_weights(files: list[Path]) -> dict[str, torch.Tensor]:
    """The equal-weight mean of several weight files, summed in float64 so the order does not matter."""
    total: dict[str, torch.Tensor] = {}
    for path in files:
        for key, value in load_file(str(path)).items():
            total[key] = total[key] + value.double() if key in total else value.double()
    return {key: (value / len(files)).float() for key, value in total.items()}


def average_run(run: Path, first: int, last: int | None, out: Path) -> tuple[DualEncoder, list[int]]:
    """Average the weights `run` kept at steps first..last (inclusive; None: to the end) into a checkpoint at `out`.

    The checkpoint is the run's own (same config.json, same tokenizer) with the averaged weights, so
    everything that reads a checkpoint (index, query, benchmarks, `--resume` excepted) reads it.
    """
    source = find_checkpoint(run)
    if Path(out).resolve() in (source.resolve(), Path(run).resolve()):
        raise EngineError(f"--out {out}: write the average beside the run, not over it (the run's checkpoint stays resumable)")
    kept = kept_steps(run)
    if not kept:
        raise EngineError(f"{run} kept no weights: train it with --keep-every N (train.keep_every) to average afterwards")
    window = [step for step in kept if step >= first and (last is None or step <= last)]
    if not window:
        raise EngineError(f"{run} kept weights at steps {min(kept)}..{max(kept)}, none in {first}..{'end' if last is None else last}")
    model, config = load_model(source)
    model.load_state_dict(mean_weights([kept[step] for step in window]))
    facts = {key: config[key] for key in ("train", "font_fingerprint") if key in config}
    averaged = {"from": window[0], "to": window[-1], "count": len(window)}
    tokenizer = source / TOKENIZER if (source / TOKENIZER).is_file() else None
    save_checkpoint(out, model, {**facts, "step": window[-1], "averaged": averaged}, tokenizer=tokenizer)
    return model, window
