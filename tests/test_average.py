"""`train.keep_every` and `engine average`: weights kept during a run, averaged over a window after it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.cli import main
from engine.model.checkpoint import load_model
from engine.train.average import kept_steps
from train_helpers import tiny_run_args, write_tiny_data


@pytest.fixture(scope="module")
def kept_run(tmp_path_factory) -> Path:
    """Six steps of a tiny run that keeps its weights every two steps (and validates on its own captions)."""
    data = write_tiny_data(tmp_path_factory.mktemp("tiny"))
    run = tmp_path_factory.mktemp("runs") / "kept"
    val = f"table:path={data / 'captions.tsv'},images={data},lang_col=lang"
    assert main(["train", *tiny_run_args(data, run, 6, "--keep-every", "2", "--val", val, "--val-langs", "en")]) == 0
    return run


def test_a_run_keeps_its_trained_weights_every_n_steps(kept_run):
    kept = kept_steps(kept_run)
    assert list(kept) == [2, 4, 6]
    last, final = load_file(str(kept[6])), load_file(str(kept_run / "checkpoint" / "model.safetensors"))
    assert last.keys() == final.keys()
    for name, tensor in final.items():
        torch.testing.assert_close(last[name], tensor, rtol=0, atol=0, msg=name)
    assert any(not torch.equal(load_file(str(kept[2]))[name], tensor) for name, tensor in final.items())  # it trained between


def test_average_writes_the_mean_of_the_window_as_a_loadable_checkpoint_and_validates_it(kept_run, tmp_path, capsys):
    out = tmp_path / "avg"
    assert main(["average", str(kept_run), "--from", "2", "--to", "4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 steps (2..4)" in printed and "mean@10" in printed and "\nen " in printed
    kept = kept_steps(kept_run)
    two, four = load_file(str(kept[2])), load_file(str(kept[4]))
    model, config = load_model(out)
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, (two[name].double() + four[name].double()).div(2).float(), msg=name)
    assert config["averaged"] == {"from": 2, "to": 4, "count": 2} and config["step"] == 4
    assert config["train"] == json.loads((kept_run / "checkpoint" / "config.json").read_text())["train"]
    assert main(["train", "--config", str(out), "--print-config"]) == 0  # its config.json is still a valid --config


@pytest.mark.parametrize(
    ("window", "message"),
    [(("--from", "7"), "none in 7..end"), (("--from", "4", "--to", "2"), "give 0 <= FROM <= TO")],
)
def test_average_refuses_an_empty_window(kept_run, tmp_path, capsys, window, message):
    assert main(["average", str(kept_run), *window, "--out", str(tmp_path / "avg")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "avg").exists()


def test_average_refuses_to_overwrite_the_run_and_runs_that_kept_nothing(kept_run, tmp_path, capsys):
    before = (kept_run / "checkpoint" / "model.safetensors").read_bytes()
    assert main(["average", str(kept_run), "--out", str(kept_run / "checkpoint")]) == 2
    assert "not over it" in capsys.readouterr().err
    assert (kept_run / "checkpoint" / "model.safetensors").read_bytes() == before
    bare = tmp_path / "bare"
    (bare / "checkpoint").mkdir(parents=True)
    for name in ("model.safetensors", "config.json"):
        (bare / "checkpoint" / name).write_bytes((kept_run / "checkpoint" / name).read_bytes())
    assert main(["average", str(bare), "--out", str(tmp_path / "avg")]) == 2
    assert "--keep-every" in capsys.readouterr().err
