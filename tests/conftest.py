"""Fixtures shared by several test files (pytest finds them here without an import)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.model import DualEncoder, architecture, inputs_for
from engine.model.checkpoint import save_checkpoint
from engine.render import font_fingerprint


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """An untrained cpu-tiny CLIPPO checkpoint: scores are near chance, the plumbing is real."""
    import torch

    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("runs") / "tiny"
    save_checkpoint(directory, DualEncoder(architecture("cpu-tiny"), inputs_for("cpu-tiny")), {"font_fingerprint": font_fingerprint()})
    return directory
