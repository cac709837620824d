"""`engine demo` end to end on a tiny collection, with freshly initialised checkpoints.

An untrained model finds nothing in particular, but the pipeline (draw, index, query, grade,
report) is the real one; giving two slots the same checkpoint must give both the same figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import engine
from engine.cli import main
from index_helpers import make_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("demo") / "clippo")


def test_demo_indexes_queries_grades_and_reports(checkpoint, tmp_path, capsys):
    out = tmp_path / "demo"
    rc = main(["demo", "--count", "6", "--langs", "en,th", "--out", str(out), *same_checkpoint_everywhere(checkpoint)])
    printed = capsys.readouterr().out
    assert rc == 0
    assert len(list((out / "collection").glob("scene-*.png"))) == 6
    for table in (printed.split("text->image R@1 per language")[1].split("== text search")[0], printed.split("text->text R@1 per language")[1]):
        rows = [line.split() for line in table.splitlines() if line.startswith(("English", "Thai"))]
        assert [row[0] for row in rows] == ["English", "Thai"]
        assert all(row[2] == row[3] for row in rows)  # same checkpoint in both slots, same R@1
    texts = engine.open_index(out / "texts-clippo-text")
    assert len(texts) == 6 and sorted(set(texts.metadata["language"])) == ["en", "th"]  # the text collection alternates the languages
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("<tr>") == 2 * 3 and 'lang="th"' in page and page.count('src="thumbs/') == 2 * 2 * 3  # pictures, then texts
    assert page.count("<li ") == 2 * 2 * 3 and "One text collection in 2 languages" in page
    with Image.open(out / "report.png") as png:
        assert png.width > 900 and png.height > 3 * 60
    command = printed.strip().splitlines()[-1].split()
    assert command[1:] == ["serve", str(out / "index-clippo")]  # the last line: how to open the page
    assert len(engine.open_index(command[2])) == 6


def same_checkpoint_everywhere(checkpoint: Path) -> list[str]:
    return ["--clippo", str(checkpoint), "--baseline", str(checkpoint), "--text-model", str(checkpoint)]


def test_missing_checkpoint_says_how_to_make_it(checkpoint, tmp_path, capsys):
    rc = main(["demo", "--quick", "--out", str(tmp_path), "--clippo", str(tmp_path / "nothing-here")])
    error = capsys.readouterr().err
    assert rc == 2 and "checkpoint is missing" in error and "scripts/train_demo_models" in error and "Traceback" not in error
    rc = main(["demo", "--quick", "--out", str(tmp_path), *same_checkpoint_everywhere(checkpoint), "--text-model", str(tmp_path / "nothing")])
    error = capsys.readouterr().err
    assert rc == 2 and "CLIPPO text checkpoint is missing" in error and "scripts/train_text_model" in error


def test_unknown_language_is_refused(checkpoint, tmp_path, capsys):
    rc = main(["demo", "--langs", "en,xx", "--out", str(tmp_path), *same_checkpoint_everywhere(checkpoint)])
    assert rc == 2 and "no scene captions in xx" in capsys.readouterr().err
