"""The checkpoint directory: model.safetensors + config.json (+ tokenizer.model, + train_state.pt).

Writes go to `<dir>.tmp-<pid>` and are renamed into place; the previous checkpoint is moved to
`<dir>.old` first and deleted only once the new one is in place, so a kill -9 at any moment
leaves one complete checkpoint (`find_checkpoint` falls back to `.old`); the temporary directory
a killed run left is removed by the next save.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from engine.errors import EngineError
from engine.model import DualEncoder, build_model

WEIGHTS, CONFIG, TOKENIZER, TRAIN_STATE = "model.safetensors", "config.json", "tokenizer.model", "train_state.pt"
FORMAT_VERSION = 1


def save_checkpoint(directory: Path, model: DualEncoder, config: dict, train_state: dict | None = None, tokenizer: Path | None = None) -> None:
    """Write a complete checkpoint atomically (see module docstring)."""
    directory = Path(directory)
    tmp = directory.with_name(f"{directory.name}.tmp-{os.getpid()}")
    old = directory.with_name(f"{directory.name}.old")
    for stale in directory.parent.glob(f"{directory.name}.tmp-*"):  # ours, or left by a killed run
        if stale == tmp or not _process_alive(stale.name.rpartition("-")[2]):
            shutil.rmtree(stale, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}, str(tmp / WEIGHTS))
    config = {**config, "format": FORMAT_VERSION}
    if tokenizer is not None:
        shutil.copyfile(tokenizer, tmp / TOKENIZER)
        config["tokenizer"] = TOKENIZER
    (tmp / CONFIG).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if train_state is not None:
        torch.save(train_state, tmp / TRAIN_STATE)
    _fsync_tree(tmp)
    if directory.exists():
        shutil.rmtree(old, ignore_errors=True)
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def _process_alive(pid: str) -> bool:
    """Whether the process that named a temporary directory still runs (and may still be writing it)."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_tree(directory: Path) -> None:
    """Flush the files to disk before the rename makes them the checkpoint."""
    for path in directory.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def find_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory, a run directory holding `checkpoint/`, or the `.old` left by a crash."""
    path = Path(path)
    for candidate in (path, path / "checkpoint", path.with_name(f"{path.name}.old"), path / "checkpoint.old"):
        if (candidate / CONFIG).is_file() and (candidate / WEIGHTS).is_file():
            return candidate
    raise EngineError(f"{path} is not a checkpoint: expected {CONFIG} and {WEIGHTS} in it or in {path}/checkpoint")


def read_config(directory: Path) -> dict:
    try:
        return json.loads((directory / CONFIG).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise EngineError(f"cannot read {directory / CONFIG}: {error}") from None


def load_model(directory: Path) -> tuple[DualEncoder, dict]:
    """The model with its weights, and its config."""
    config = read_config(directory)
    model = build_model(config)
    try:
        state = load_file(str(directory / WEIGHTS))
        model.load_state_dict(state)
    except Exception as error:  # safetensors/torch raise many types for a damaged or mismatched file
        raise EngineError(f"cannot load weights from {directory / WEIGHTS}: {error}") from None
    return model, config


def load_train_state(directory: Path) -> dict | None:
    path = directory / TRAIN_STATE
    return torch.load(path, weights_only=False) if path.is_file() else None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
