"""benchmarks/compare.py: every contender is a recipe of one family, trained alike; mismatched runs are refused."""

import runpy
from dataclasses import replace
from pathlib import Path

import pytest

from engine.configs import recipe
from engine.errors import EngineError
from engine.model import DualEncoder, architecture, inputs_for
from engine.model.checkpoint import save_checkpoint
from engine.render import font_fingerprint

COMPARE = runpy.run_path(str(Path(__file__).resolve().parent.parent / "benchmarks" / "compare.py"), run_name="compare")


def test_contenders_are_recipes_that_differ_only_in_kind_and_vocabulary(tmp_path):
    configs = {label: recipe(COMPARE["recipe_name"](label)) for label in COMPARE["LABELS"]}
    clippo = configs["clippo"]
    for config in configs.values():
        assert config.train.data == clippo.train.data and config.train.val == clippo.train.val
        assert replace(config.train, vocab=clippo.train.vocab) == clippo.train  # one optimisation, data, seed and budget
        assert replace(config.model, kind="clippo") == clippo.model
        assert replace(config.input, text_grid=clippo.input.text_grid) == clippo.input
        assert not any(source.kind == "tatoeba" for source in config.train.data)  # Tatoeba is the held-out benchmark
    assert configs["1t-clip-en"].train.vocab.langs == ("en",) and configs["1t-clip-all"].train.vocab.langs == ()
    command = COMPARE["train_command"]("1t-clip-en", tmp_path, ["time_budget=5"])
    assert command[command.index("--config") + 1] == "1t-clip-en-flickr8k-cpu-small" and "time_budget=5" in command


def test_existing_runs_and_mixed_sizes_are_refused(tmp_path):
    fonts = {"font_fingerprint": font_fingerprint()}
    save_checkpoint(tmp_path / "clippo" / "checkpoint", DualEncoder(architecture("cpu-tiny"), inputs_for("cpu-tiny")), fonts)
    with pytest.raises(EngineError, match="already exist: pass --skip-train"):
        COMPARE["train_all"](["clippo"], tmp_path, [], "cpu")
    assert COMPARE["checked_models"](None, ["clippo"], tmp_path) == [f"clippo={tmp_path / 'clippo'}"]
    save_checkpoint(tmp_path / "other" / "checkpoint", DualEncoder(architecture("cpu-small"), inputs_for("cpu-small")), fonts)
    with pytest.raises(EngineError, match="the comparison needs one architecture"):
        COMPARE["checked_models"](None, ["clippo", "other"], tmp_path)
