"""The benchmark scripts end to end with a freshly initialised cpu-tiny checkpoint (real encoder)."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import EngineError
from engine.eval.harness import parse_model_specs
from engine.paths import shared_data_dir
from harness_helpers import run_main

REPO = Path(__file__).resolve().parent.parent


def run_script(name: str, *args) -> subprocess.CompletedProcess:
    """The script as a user runs it: its own process, exit status, stderr."""
    return subprocess.run([sys.executable, str(REPO / "benchmarks" / name), *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture
def mini_xm3600(tmp_path) -> Path:
    """Four photos (flat colours) with English and German captions, one image captionless."""
    (tmp_path / "images").mkdir()
    colours = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (20, 40, 220), "grey": (128, 128, 128)}
    for key, rgb in colours.items():
        Image.new("RGB", (64, 64), rgb).save(tmp_path / "images" / f"{key}.jpg")
    rows = [
        {"image/key": "red", "en": {"caption": ["a red square", "something red"]}, "de": {"caption": ["ein rotes Quadrat"]}},
        {"image/key": "green", "en": {"caption": ["a green square"]}, "de": {"caption": []}},
        {"image/key": "blue", "en": {"caption": ["a blue square"]}},
        {"image/key": "grey"},
    ]
    (tmp_path / "captions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return tmp_path


def test_xm3600_script_writes_every_output_and_reuses_its_cache(tiny_checkpoint, mini_xm3600, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--captions", mini_xm3600 / "captions.jsonl", "--models", f"a={tiny_checkpoint}", f"b={tiny_checkpoint}", "--out", out, "--json"]
    summary = json.loads(run_main("run_xm3600.py", *args, capsys=capsys))
    assert summary["protocol"] == "all" and summary["n_images"] == 4
    assert summary["models"]["a"]["languages"]["en"]["texts"] == 4
    assert summary["models"]["a"]["languages"]["de"]["queried_images"] == 1
    assert summary["models"]["a"]["checkpoint_hash"] == summary["models"]["b"]["checkpoint_hash"]
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 2 * 2 * 2 * 3  # models x languages x directions x k
    assert all(0.0 <= float(r["recall"]) <= 1.0 for r in rows)
    assert "| **mean** |" in (out / "results.md").read_text()
    assert (out / "results.png").read_bytes().startswith(b"\x89PNG")
    # One image set and one caption list per language, embedded once: "b" shares "a"'s checkpoint.
    cached = sorted(p.name for p in (out / "cache").iterdir())
    assert len(cached) == 3
    assert "| en |" in run_main("run_xm3600.py", *args[:-1], "--protocol", "first", capsys=capsys)
    assert len(list((out / "cache").iterdir())) == 3 + 1  # only English "first" is new (German has one caption)


def test_xm3600_script_reports_user_mistakes(tiny_checkpoint, mini_xm3600, tmp_path):
    (mini_xm3600 / "images" / "blue.jpg").unlink()
    result = run_script("run_xm3600.py", "--captions", mini_xm3600 / "captions.jsonl", "--models", tiny_checkpoint, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "1 of 4 images are missing" in result.stderr and "Traceback" not in result.stderr


def test_model_labels_must_be_unique():
    assert parse_model_specs(["runs/clippo", "en=runs/x/1t"]) == [("clippo", Path("runs/clippo")), ("en", Path("runs/x/1t"))]
    with pytest.raises(EngineError, match="two models are labelled clippo"):
        parse_model_specs(["a/clippo", "b/clippo"])


def test_tatoeba_script_on_shared_data(tiny_checkpoint, tmp_path, capsys):
    if shared_data_dir() is None:
        pytest.skip("shared data (../shared/data or $ENGINE_DATA) is absent")
    printed = run_main("run_tatoeba.py", "--models", tiny_checkpoint, "--langs", "deu", "cmn", "--limit", "5", "--out", tmp_path / "out", capsys=capsys)
    assert "| deu |" in printed and "| cmn |" in printed
    rows = list(csv.DictReader((tmp_path / "out" / "results.csv").open()))
    assert {(r["language"], r["direction"]) for r in rows} == {(lang, d) for lang in ("deu", "cmn") for d in ("xx2en", "en2xx")}


def test_xm3600_script_on_a_slice_of_shared_flickr8k_val(tiny_checkpoint, tmp_path, capsys):
    data = shared_data_dir()
    if data is None:
        pytest.skip("shared data (../shared/data or $ENGINE_DATA) is absent")
    lines = (data / "xm3600_format/flickr8k_val/captions.jsonl").read_text(encoding="utf-8").splitlines()[:6]
    (tmp_path / "captions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_main(
        "run_xm3600.py",
        "--captions",
        tmp_path / "captions.jsonl",
        "--images",
        data / "flickr8k/images",
        "--models",
        tiny_checkpoint,
        "--langs",
        "ar",
        "zh",
        "--protocol",
        "first",
        "--out",
        tmp_path / "out",
        capsys=capsys,
    )
    rows = list(csv.DictReader((tmp_path / "out" / "results.csv").open()))
    assert len(rows) == 2 * 2 * 3
    by_k = {k: np.array([float(r["recall"]) for r in rows if r["k"] == k]) for k in ("1", "5", "10")}
    assert np.all(by_k["1"] <= by_k["5"]) and np.all(by_k["5"] <= by_k["10"])  # recall grows with k
