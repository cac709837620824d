"""Checkpoints: weights, config and train state survive a round trip; a crash mid-write loses nothing."""

from __future__ import annotations

import torch

from engine.model import DualEncoder, architecture, inputs_for
from engine.model.checkpoint import export_checkpoint, find_checkpoint, load_model, load_train_state, save_checkpoint

TINY = architecture("cpu-tiny")


def test_round_trip_restores_weights_config_and_train_state(tmp_path):
    torch.manual_seed(0)
    model = DualEncoder(TINY, inputs_for("cpu-tiny", drop_blank=True))
    config = {"step": 7}
    save_checkpoint(tmp_path / "ckpt", model, config, train_state={"step": 7, "rng": torch.get_rng_state()})
    save_checkpoint(tmp_path / "ckpt", model, {**config, "step": 8}, train_state={"step": 8})  # overwrite in place
    loaded, loaded_config = load_model(tmp_path / "ckpt")
    assert loaded_config["step"] == 8 and loaded.drop_blank and load_train_state(tmp_path / "ckpt")["step"] == 8
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # no tmp or .old left behind


def test_a_crash_between_the_renames_leaves_the_old_checkpoint_findable(tmp_path):
    model = DualEncoder(TINY)
    save_checkpoint(tmp_path / "run" / "checkpoint", model)
    (tmp_path / "run" / "checkpoint").rename(tmp_path / "run" / "checkpoint.old")  # state right after the first rename
    assert find_checkpoint(tmp_path / "run") == tmp_path / "run" / "checkpoint.old"


def test_export_ships_half_weights_without_train_state_and_keeps_the_model_card(tmp_path):
    torch.manual_seed(0)
    model = DualEncoder(TINY, inputs_for("cpu-tiny"))
    save_checkpoint(tmp_path / "run" / "checkpoint", model, {"step": 3}, train_state={"step": 3})
    shipped = tmp_path / "assets" / "model"
    shipped.mkdir(parents=True)
    (shipped / "MODEL_CARD.md").write_text("# card\n", encoding="utf-8")
    export_checkpoint(tmp_path / "run", shipped, torch.float16)
    assert sorted(p.name for p in shipped.iterdir()) == ["MODEL_CARD.md", "config.json", "model.safetensors"]
    full, half = (tmp_path / "run" / "checkpoint" / "model.safetensors").stat().st_size, (shipped / "model.safetensors").stat().st_size
    assert 0.45 < half / full < 0.55
    loaded, config = load_model(shipped)
    assert config["step"] == 3
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert b.dtype == a.dtype and torch.allclose(a, b, rtol=1e-3, atol=1e-4), name  # cast back to float32 on load
    pages = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.allclose(model.encode_images(pages), loaded.encode_images(pages), atol=1e-2)
