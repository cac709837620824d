"""The trainer end to end on tiny generated data: it learns, resumes after kill -9 on the same
loss curve, and two torchrun processes compute the same global-batch loss as one process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.cli import main
from engine.train.loop import photo_mask_at
from train_helpers import tiny_run_args, write_tiny_data


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    return write_tiny_data(tmp_path_factory.mktemp("tiny"))


def _losses(run: Path) -> dict[int, float]:
    """Step -> loss; a step logged twice (re-run after a resume) keeps its last value."""
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in records if "loss" in r}


def test_training_lowers_the_loss_and_validates(tiny_data, tmp_path):
    out = tmp_path / "run"
    val = f"table:path={tiny_data / 'captions.tsv'},images={tiny_data},lang_col=lang"
    assert main(["train", *tiny_run_args(tiny_data, out, 30, "--lr", "3e-3", "--val", val, "--val-langs", "en,de", "--val-every", "15")]) == 0
    losses = _losses(out)
    assert sum(losses[s] for s in (28, 29, 30)) < sum(losses[s] for s in (1, 2, 3))
    final = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()][-1]
    assert final["final"] and set(final["val"]) >= {"en/i2t@1", "de/t2i@10", "en/mean@10"}
    assert (out / "checkpoint" / "model.safetensors").exists() and (out / "checkpoint" / "train_state.pt").exists()


@pytest.mark.parametrize(
    "flags",
    [
        ("--optimizer", "adamw"),
        ("--optimizer", "muon"),
        ("--optimizer", "muon", "--photo-mask", "0.5", "--photo-flip", "--photo-crop", "0.5", "--captions-per-photo", "2"),
        ("--optimizer", "muon", "--ema", "0.8", "--drop-path", "0.3"),
    ],
    ids=["adamw", "muon", "muon-masked-flipped-cropped-two-captions", "muon-averaged-stochastic-depth"],
)
def test_resume_after_kill_9_follows_the_uninterrupted_loss_curve(tiny_data, tmp_path, flags):
    steps = 24
    assert main(["train", *tiny_run_args(tiny_data, tmp_path / "whole", steps, "--checkpoint-every", "100", *flags)]) == 0
    killed = tmp_path / "killed"
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.train", *tiny_run_args(tiny_data, killed, steps, "--checkpoint-every", "3", *flags)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while process.poll() is None and not ((killed / "metrics.jsonl").exists() and max(_losses(killed), default=0) >= 7):
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    saved_step = json.loads((killed / "checkpoint" / "config.json").read_text())["step"]
    assert 3 <= saved_step < steps
    assert main(["train", *tiny_run_args(tiny_data, killed, steps, "--checkpoint-every", "3", *flags, "--resume")]) == 0
    whole, resumed = _losses(tmp_path / "whole"), _losses(killed)
    assert sorted(resumed) == sorted(whole) == list(range(1, steps + 1))
    for step in whole:
        assert resumed[step] == pytest.approx(whole[step], abs=1e-4), step
    saved = [load_file(run / "checkpoint" / "model.safetensors") for run in (tmp_path / "whole", killed)]
    for name, tensor in saved[0].items():  # the weights it ends with too (averaged ones where train.ema is set)
        torch.testing.assert_close(saved[1][name], tensor, rtol=1e-4, atol=1e-5, msg=name)


def test_an_unmasked_tail_changes_only_the_last_steps(tiny_data, tmp_path):
    """FLIP's unmasked tuning: with half the patches masked, `--unmasked-tail 0.25` of 12 steps trains the first
    9 exactly as before (same loss) and the last 3 on whole photos (another loss)."""
    flags = ("--photo-mask", "0.5", "--checkpoint-every", "100")
    assert main(["train", *tiny_run_args(tiny_data, tmp_path / "masked", 12, *flags)]) == 0
    assert main(["train", *tiny_run_args(tiny_data, tmp_path / "tail", 12, *flags, "--unmasked-tail", "0.25")]) == 0
    masked, tail = _losses(tmp_path / "masked"), _losses(tmp_path / "tail")
    for step in range(1, 10):
        assert tail[step] == pytest.approx(masked[step], abs=1e-6), step
    assert tail[10] != pytest.approx(masked[10], abs=1e-4)
    assert photo_mask_at(8, 12, 0.5, 0.25) == 0.5 and photo_mask_at(9, 12, 0.5, 0.25) == 0.0
    assert photo_mask_at(11, None, 0.5, 0.25) == 0.5  # the step count not yet estimated: masked


def test_resume_refuses_changed_settings_and_fresh_runs_refuse_to_overwrite(tiny_data, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *tiny_run_args(tiny_data, out, 2)]) == 0
    assert main(["train", *tiny_run_args(tiny_data, out, 2)]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["train", *tiny_run_args(tiny_data, out, 4, "--resume", "--seed", "1")]) == 2
    assert "train.seed (saved 0, now 1)" in capsys.readouterr().err
    assert main(["train", *tiny_run_args(tiny_data, out, 4, "--resume", "--text-grid")]) == 2  # captions would be laid out anew
    assert "input.text_grid (saved False, now True)" in capsys.readouterr().err
    assert main(["train", *tiny_run_args(tiny_data, out, 4, "--resume", "--val-every", "2", "--keep-every", "2")]) == 0  # reporting, keeping may change


def test_a_checkpoints_own_config_trains_the_same_run(tiny_data, tmp_path, capsys):
    """config.json of a checkpoint is a valid --config: two steps from it give the first loss of the run it came from."""
    first = tmp_path / "first"
    assert main(["train", *tiny_run_args(tiny_data, first, 2, "--photo-mask", "0.5", "--photo-flip")]) == 0
    saved = first / "checkpoint" / "config.json"
    config = json.loads(saved.read_text())
    assert config["train"]["data"][0]["kind"] == "table" and config["input"]["photo_flip"] is True
    assert str(first) not in saved.read_text()  # the run directory is not part of the config
    again = tmp_path / "again"
    assert main(["train", "--config", str(saved), "--cache-dir", str(tiny_data / "cache"), "--out", str(again)]) == 0
    assert _losses(again)[1] == pytest.approx(_losses(first)[1], abs=1e-6)
    assert main(["train", "--config", str(first), "--print-config"]) == 0  # a run directory works too
    printed = json.loads(capsys.readouterr().out)
    assert printed["train"] == config["train"] and printed["model"] == config["model"]


@pytest.mark.parametrize("extra", [(), ("--captions-per-photo", "2", "--batch-size", "16")], ids=["one-caption", "two-captions"])
def test_two_torchrun_processes_compute_the_single_process_global_loss(tiny_data, tmp_path, extra):
    single, double = tmp_path / "single", tmp_path / "double"
    assert main(["train", *tiny_run_args(tiny_data, single, 3, *extra)]) == 0
    torchrun = Path(sys.executable).with_name("torchrun")
    result = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "engine.train", *tiny_run_args(tiny_data, double, 3, *extra)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-5000:]  # the rank's own error comes before torchrun's summary
    assert "Warning" not in result.stderr, result.stderr[-2000:]  # e.g. a deprecated collective
    one, two = _losses(single), _losses(double)
    assert sorted(two) == [1, 2, 3]
    for step in one:  # step 1: same global batch; steps 2-3: also the same averaged gradients
        assert two[step] == pytest.approx(one[step], abs=1e-4), step


def test_time_budget_step_count_follows_the_measured_speed(monkeypatch):
    """Slow first steps must not fix the step count: later estimates use the faster pace and fill the budget."""
    from types import SimpleNamespace

    from engine.train import loop

    now = [0.0]
    monkeypatch.setattr(loop, "time", SimpleNamespace(monotonic=lambda: now[0]))
    schedule = loop.WarmupCosine(warmup=5, total=None)
    clock = loop.StepClock(deadline=100.0, first_step=0, val_every=0)
    estimates, step = [], 0
    while schedule.total is None or step < schedule.total:
        step += 1
        now[0] += 2.0 if step <= 12 else 1.0  # two seconds a step at first, then one
        if clock.estimate(step, schedule, rank=0, world=1):
            estimates.append(schedule.total)
    assert estimates[0] < estimates[-1]
    # 24 s for the first 12 steps, then 1 s a step; 5 s are kept for the final validation and save
    assert 12 + (100 - 24 - 5) - 2 <= step <= 12 + (100 - 24 - 5)
    assert now[0] <= 100.0


def test_a_text_grid_run_is_read_back_with_its_layout(tiny_data, tmp_path):
    import numpy as np
    import torch

    import engine
    from engine.render import RenderConfig
    from engine.render.renderer import Renderer

    out = tmp_path / "run"
    assert main(["train", *tiny_run_args(tiny_data, out, 2, "--text-grid")]) == 0
    config = json.loads((out / "checkpoint" / "config.json").read_text())
    assert config["input"]["text_grid"] is True
    encoder = engine.load(out / "checkpoint")
    text = "a yellow bar and a red circle"
    pages = {grid: Renderer(RenderConfig(64, 64, 8, grid=grid)).render(text).pixels for grid in (0, 8)}
    assert not np.array_equal(pages[0], pages[8])
    with torch.inference_mode():
        expected = {grid: encoder.model.encode_texts(torch.from_numpy(page[None])).numpy()[0] for grid, page in pages.items()}
    got = encoder.encode_texts([text])[0]
    assert np.allclose(got, expected[8], atol=1e-5) and not np.allclose(got, expected[0], atol=1e-3)


def test_a_baseline_fits_its_vocabulary_and_ships_it(tiny_data, tmp_path):
    out = tmp_path / "baseline"
    assert main(["train", *tiny_run_args(tiny_data, out, 2, "--kind", "1t-clip", "--set", "train.vocab.size=20", "--set", "train.vocab.langs=en")]) == 0
    import engine

    encoder = engine.load(out)
    assert (out / "checkpoint" / "tokenizer.model").is_file() and encoder.config["vocab_size"] == 20
    assert encoder.encode_texts(["a red circle"]).shape == (1, encoder.dim)
