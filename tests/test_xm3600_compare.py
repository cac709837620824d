"""benchmarks/compare.py: every contender is trained alike, and mismatched runs are refused."""
import runpy
from pathlib import Path

import pytest

from engine.errors import EngineError
from engine.model import build_model, get_preset
from engine.render import font_fingerprint
from engine.train.checkpoint import save_checkpoint

COMPARE = runpy.run_path(str(Path(__file__).resolve().parent.parent / "benchmarks" / "compare.py"), run_name="compare")


def without(command, *flags):
    """The command minus the named flags and their values."""
    out, skip = [], False
    for arg in command:
        if skip:
            skip = False
        elif arg in flags:
            skip = True
        else:
            out.append(arg)
    return out


def test_contenders_share_preset_data_seed_and_budget(tmp_path):
    recipe = COMPARE["RECIPE"]
    commands = {c.label: COMPARE["train_command"](c, tmp_path, "cpu-small", 15.0, None, "cpu", recipe) for c in COMPARE["CONTENDERS"]}
    common = {tuple(without(cmd, "--kind", "--tokenizer", "--out")) for cmd in commands.values()}
    assert len(common) == 1  # only the model kind, its vocabulary and the run folder differ
    shared = list(common.pop())
    assert shared[shared.index("--preset") + 1] == "cpu-small" and shared[shared.index("--time-budget") + 1] == "15.0"
    assert not any("tatoeba" in arg for arg in shared)  # Tatoeba is the held-out benchmark
    assert shared[shared.index("--loss") + 1] == recipe[recipe.index("--loss") + 1]  # one recipe for all
    assert "--tokenizer" not in commands["clippo"]
    assert str(tmp_path / "tokenizer-en.model") in commands["1t-clip-en"]
    en_vocab = COMPARE["tokenizer_command"](tmp_path, "en")
    assert en_vocab[en_vocab.index("--langs") + 1] == "en" and "--langs" not in COMPARE["tokenizer_command"](tmp_path, "all")


def test_existing_runs_and_other_presets_are_refused(tmp_path):
    config = {"preset": get_preset("cpu-tiny").to_dict(), "kind": "clippo", "font_fingerprint": font_fingerprint()}
    save_checkpoint(tmp_path / "clippo" / "checkpoint", build_model(config), config)
    clippo = [COMPARE["BY_LABEL"]["clippo"]]
    with pytest.raises(EngineError, match="already exist: pass --skip-train"):
        COMPARE["train_all"](clippo, tmp_path, "cpu-tiny", 1.0, None, "cpu", COMPARE["RECIPE"])
    with pytest.raises(EngineError, match="is a cpu-tiny model, not cpu-small"):
        COMPARE["checked_models"](None, clippo, tmp_path, "cpu-small")
    assert COMPARE["checked_models"](None, clippo, tmp_path, "cpu-tiny") == [f"clippo={tmp_path / 'clippo'}"]
