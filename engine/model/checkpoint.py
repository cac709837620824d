"""The checkpoint directory: model.safetensors + config.json (+ tokenizer.model, + train_state.pt).

config.json (format 2) holds the model's `model` and `input` configs, the `train` config of the
run that made it (resolved, no machine paths: it is itself a valid `engine train --config`),
and what inference needs besides: `vocab_size`, `font_fingerprint`, `step` (and `averaged`: the
window of kept weights an `engine average` checkpoint holds). Format 1 (a
`preset` that mixed architecture and input settings, and argparse's `train_args`) is read and
converted on load, so older checkpoints keep working.

The directory is written aside and renamed into place (`engine.atomic`); a kill -9 at any
moment leaves one complete checkpoint (`find_checkpoint` falls back to `.old`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from engine.atomic import atomic_path
from engine.errors import EngineError
from engine.model.config import InputConfig, ModelConfig
from engine.model.dual import DualEncoder
from engine.typed import from_dict, to_dict

WEIGHTS, CONFIG, TOKENIZER, TRAIN_STATE = "model.safetensors", "config.json", "tokenizer.model", "train_state.pt"
FORMAT_VERSION = 2
# Keys of config.json besides the three configs: facts about this checkpoint, not settings.
FACTS = ("format", "vocab_size", "font_fingerprint", "step", "averaged")


def save_checkpoint(directory: Path, model: DualEncoder, extra: dict | None = None, train_state: dict | None = None, tokenizer: Path | None = None) -> None:
    """Write a complete checkpoint atomically; `extra` adds the `train` config, `step`, `font_fingerprint`."""
    config = {"format": FORMAT_VERSION, "model": to_dict(model.config), "input": to_dict(model.inputs), "vocab_size": model.vocab_size, **(extra or {})}
    with atomic_path(Path(directory), durable=True) as tmp:
        tmp.mkdir(parents=True)
        save_file(tensors_of(model), str(tmp / WEIGHTS))
        if tokenizer is not None:
            shutil.copyfile(tokenizer, tmp / TOKENIZER)
        (tmp / CONFIG).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if train_state is not None:
            torch.save(train_state, tmp / TRAIN_STATE)


def tensors_of(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's weights as safetensors stores them: detached, contiguous, on the CPU."""
    return {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}


def find_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory, a run directory holding `checkpoint/`, or the `.old` left by a crash."""
    path = Path(path)
    for candidate in (path, path / "checkpoint", path.with_name(f"{path.name}.old"), path / "checkpoint.old"):
        if (candidate / CONFIG).is_file() and (candidate / WEIGHTS).is_file():
            return candidate
    raise EngineError(f"{path} is not a checkpoint: expected {CONFIG} and {WEIGHTS} in it or in {path}/checkpoint")


def read_config(directory: Path) -> dict:
    """config.json in format 2 (format 1 converted)."""
    try:
        config = json.loads((directory / CONFIG).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise EngineError(f"cannot read {directory / CONFIG}: {error}") from None
    return upgrade(config) if config.get("format", 1) == 1 else config


def upgrade(old: dict) -> dict:
    """A format-1 config.json as format 2: the preset split into `model` and `input`.

    Format 1 stored argparse's namespace (absolute run paths included); its training settings are
    not carried over, so such a checkpoint loads for inference but does not `--resume`.
    """
    preset = dict(old["preset"])
    model = {key: preset[key] for key in ("name", "width", "depth", "heads", "image_size", "patch", "embed_dim", "mlp_ratio", "pool")}
    inputs = {
        "text_px": preset["text_px"],
        "text_grid": preset.get("text_grid", False),
        "context_length": preset.get("context_length", 64),
        "drop_blank": bool(old.get("drop_blank", False)),
        "drop_flat": bool(old.get("drop_flat", False)),
        "photo_mask": 0.0,
        "photo_flip": False,
        "photo_crop": 1.0,
        "tokenizer": None,
    }
    return {
        "format": FORMAT_VERSION,
        "model": {**model, "kind": old.get("kind", "clippo")},
        "input": inputs,
        **{key: old[key] for key in FACTS[1:] if key in old},
    }


def model_configs(config: dict, where: str) -> tuple[ModelConfig, InputConfig]:
    return from_dict(ModelConfig, config["model"], f"{where}: model"), from_dict(InputConfig, config["input"], f"{where}: input")


def load_model(directory: Path) -> tuple[DualEncoder, dict]:
    """The model with its weights, in inference mode (no stochastic depth), and its config.json (format 2)."""
    config = read_config(directory)
    model_config, inputs = model_configs(config, str(directory / CONFIG))
    model = DualEncoder(model_config, inputs, config.get("vocab_size"))
    try:
        model.load_state_dict(load_file(str(directory / WEIGHTS)))
    except Exception as error:  # safetensors/torch raise many types for a damaged or mismatched file
        raise EngineError(f"cannot load weights from {directory / WEIGHTS}: {error}") from None
    return model.eval(), config


def export_checkpoint(source: Path, target: Path, dtype: torch.dtype | None = None) -> None:
    """A checkpoint to ship: weights (cast to `dtype`, e.g. float16 to halve the file), config.json and
    tokenizer.model, no optimizer state. Other files already in `target` (a model card) are kept;
    the folder is replaced atomically. Loading casts the weights back to the model's float32."""
    source, target = find_checkpoint(source), Path(target)
    weights = load_file(str(source / WEIGHTS))
    if dtype is not None:
        weights = {k: v.to(dtype) if v.is_floating_point() else v for k, v in weights.items()}
    kept = [p for p in target.iterdir() if p.is_file() and p.name not in (WEIGHTS, CONFIG, TOKENIZER, TRAIN_STATE)] if target.is_dir() else []
    with atomic_path(target, durable=True) as tmp:
        tmp.mkdir(parents=True)
        save_file(weights, str(tmp / WEIGHTS))
        for name in (CONFIG, TOKENIZER):
            if (source / name).is_file():
                shutil.copyfile(source / name, tmp / name)
        for path in kept:
            shutil.copyfile(path, tmp / path.name)


def load_train_state(directory: Path) -> dict | None:
    path = directory / TRAIN_STATE
    return torch.load(path, weights_only=False) if path.is_file() else None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
