"""engine index build / add / query on a small generated collection, with a fresh cpu-tiny model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.cli import main
from engine.errors import EngineError
from engine.index import build as builder
from engine.index import factory, store
from engine.index.collect import images_in
from index_helpers import TEXTS, make_broken, make_checkpoint, make_photos

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny")


@pytest.fixture
def photos(tmp_path) -> Path:
    make_photos(tmp_path / "photos")
    make_broken(tmp_path / "photos" / "broken")
    return tmp_path / "photos"


def test_build_then_query_by_image_and_similar(checkpoint, photos, tmp_path, capsys):
    out = tmp_path / "index"
    assert main(["index", "build", str(out), "--model", str(checkpoint), "--images", str(photos), "--workers", "0"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["count"] == 8 and manifest["counts"] == {"image": 8, "text": 0}
    assert manifest["index"]["factory"] == "Flat" and manifest["index"]["recall_at_10"] == 1.0
    assert manifest["checkpoint"]["hash"] == engine.load(checkpoint).checkpoint_hash
    assert manifest["dim"] == 128 and manifest["format_version"] == store.FORMAT_VERSION

    index = engine.open_index(out)
    for path in sorted(photos.rglob("p*.*")):  # CMYK, palette, 16-bit... each finds itself first
        hits = index.search(path, k=3)
        assert hits.loc[0, "item"] == str(path.resolve()) and hits.loc[0, "score"] > 0.99
        assert list(hits.columns) == ["rank", "score", "id", "modality", "item", "language"]
    similar = index.search_similar(0, k=20)
    assert 0 not in similar["id"].tolist() and len(similar) == 7 and similar["rank"].tolist() == list(range(1, 8))

    capsys.readouterr()
    assert main(["query", str(out), "--image", str(photos / "p0.png"), "-k", "2", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results[0]["item"] == str((photos / "p0.png").resolve()) and len(results) == 2


def test_skipped_items_are_reported_not_fatal(checkpoint, photos, tmp_path, capsys):
    out = tmp_path / "index"
    assert main(["index", "build", "--model", str(checkpoint), "--images", str(photos), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    skipped = json.loads((out / "manifest.json").read_text())["skipped"]
    assert sorted(Path(s["item"]).name for s in skipped) == ["empty.jpg", "fake.jpg", "truncated.jpg"]
    assert all(s["reason"] for s in skipped) and "skipped 3 item(s)" in printed and "truncated.jpg" in printed


def test_photo_pool_and_inline_decoding_agree(checkpoint, tmp_path):
    make_photos(tmp_path / "many", count=40)
    items = images_in(tmp_path / "many")
    pooled = builder.build(tmp_path / "a", checkpoint, items, [], workers=2)
    inline = builder.build(tmp_path / "b", checkpoint, items, [], workers=0)
    assert pooled.added == inline.added == 40
    a, b = store.load(tmp_path / "a"), store.load(tmp_path / "b")
    assert a.metadata["path"].tolist() == b.metadata["path"].tolist()
    np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-6)


def test_add_skips_what_is_already_indexed(checkpoint, tmp_path):
    paths = make_photos(tmp_path / "photos", count=12)
    out = tmp_path / "index"
    first = builder.build(out, checkpoint, images_in(tmp_path / "photos"), [])
    make_photos(tmp_path / "photos", count=4, start=12)
    again = builder.add(out, images_in(tmp_path / "photos"), [])
    assert (first.added, again.added) == (12, 4)
    os.utime(paths[0], (time.time() + 5, time.time() + 5))  # a changed file (new mtime) is embedded again
    changed = builder.add(out, images_in(tmp_path / "photos"), [])
    assert changed.added == 1 and builder.add(out, images_in(tmp_path / "photos"), []).added == 0
    stored = store.load(out)
    assert stored.manifest["count"] == 17 and stored.metadata["id"].tolist() == list(range(17))
    assert not stored.metadata.duplicated(["path", "mtime"]).any()
    assert [h["operation"] for h in stored.manifest["history"]] == ["build", "add", "add"]
    assert sorted(p.name for p in out.iterdir()) == [".lock", "index-3.faiss", "manifest.json", "metadata-3.parquet", "vectors-3.npy"]


def test_add_that_outgrows_exact_search_rebuilds_an_approximate_index(checkpoint, tmp_path, monkeypatch):
    make_photos(tmp_path / "photos", count=24)
    out = tmp_path / "index"
    builder.build(out, checkpoint, images_in(tmp_path / "photos"), [])
    monkeypatch.setattr(factory, "FLAT_LIMIT", 30)  # the real limit is 50k; the logic is the same
    make_photos(tmp_path / "photos", count=16, start=24)
    builder.add(out, images_in(tmp_path / "photos"), [])
    manifest = store.read_manifest(out)
    assert manifest["count"] == 40 and manifest["index"]["factory"].startswith("IVF")
    assert "nprobe" in manifest["index"]["knobs"] and 0 < manifest["index"]["recall_at_10"] <= 1
    assert engine.open_index(out).search(tmp_path / "photos" / "p0.png", k=1).loc[0, "item"] == str(tmp_path / "photos" / "p0.png")


def test_a_build_killed_midway_leaves_the_old_index_usable(checkpoint, tmp_path):
    make_photos(tmp_path / "old", count=6)
    out = tmp_path / "index"
    builder.build(out, checkpoint, images_in(tmp_path / "old"), [])
    before = engine.open_index(out).search(tmp_path / "old" / "p0.png", k=6)
    make_photos(tmp_path / "new", count=120)
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "index", "build", "--model", str(checkpoint), "--images", str(tmp_path / "new"), "--out", str(out), "--workers", "2"],
        cwd=REPO,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    progress = b""
    while b"embedding" not in progress and process.poll() is None:
        progress += process.stderr.read1(1024)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    after = engine.open_index(out).search(tmp_path / "old" / "p0.png", k=6)
    assert after[["id", "item"]].equals(before[["id", "item"]]) and store.read_manifest(out)["count"] == 6


def test_a_crash_while_committing_leaves_the_old_index_and_is_cleaned_up(checkpoint, tmp_path, monkeypatch):
    make_photos(tmp_path / "photos", count=10)
    out = tmp_path / "index"
    builder.build(out, checkpoint, images_in(tmp_path / "photos"), [])
    real_write = store._write

    def crash_at_commit(path, write):
        if path.name == store.MANIFEST:  # everything else of generation 2 is on disk: die mid-manifest
            path.with_name(f"{path.name}.tmp-{os.getpid()}").write_text('{"format": "engine-ind')
            raise OSError("simulated power cut")
        real_write(path, write)

    monkeypatch.setattr(store, "_write", crash_at_commit)
    with pytest.raises(EngineError, match="power cut"):
        builder.build(out, checkpoint, more_photos(tmp_path), [])
    # a failed write cleans up after itself
    assert not (out / "index-2.faiss").exists() and store.read_manifest(out)["generation"] == 1
    assert engine.open_index(out).search(tmp_path / "photos" / "p3.png", k=1).loc[0, "item"] == str(tmp_path / "photos" / "p3.png")
    monkeypatch.setattr(store, "_write", real_write)
    builder.build(out, checkpoint, images_in(tmp_path / "photos"), [])
    assert sorted(p.name for p in out.iterdir() if p.name != ".lock") == ["index-2.faiss", "manifest.json", "metadata-2.parquet", "vectors-2.npy"]


def more_photos(tmp_path: Path):
    make_photos(tmp_path / "second", count=3, start=20)
    return images_in(tmp_path / "second")


def test_another_checkpoint_or_font_fingerprint_is_refused(checkpoint, tmp_path, capsys):
    make_photos(tmp_path / "photos", count=4)
    out = tmp_path / "index"
    builder.build(out, checkpoint, images_in(tmp_path / "photos"), [])
    other = make_checkpoint(tmp_path / "other", seed=1)
    with pytest.raises(EngineError, match="not the one this index was built with"):
        engine.open_index(out, model=other)
    assert main(["query", str(out), "--image", str(tmp_path / "photos" / "p0.png"), "--model", str(other)]) == 2
    assert "not the one this index was built with" in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["checkpoint"]["font_fingerprint"] = "0" * 64  # as if built with other fonts
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(EngineError, match="font fingerprint"):
        engine.open_index(out)


def test_user_mistakes_exit_2_with_a_message(checkpoint, tmp_path, capsys):
    assert main(["index", "build", "--model", str(checkpoint), "--out", str(tmp_path / "i")]) == 2
    assert main(["index", "build", str(tmp_path / "i"), "--out", str(tmp_path / "j"), "--model", str(checkpoint), "--images", str(tmp_path)]) == 2
    assert main(["query", str(tmp_path), "a dog"]) == 2
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["index", "build", "--model", str(checkpoint), "--images", str(tmp_path), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "nothing to index" in err and "is not an index" in err and "not empty and not an index" in err


def test_photos_and_texts_share_one_index(checkpoint, tmp_path, capsys):
    pytest.importorskip("engine.render", reason="the renderer (engine.render) is not available")
    make_photos(tmp_path / "photos", count=6)
    (tmp_path / "texts.txt").write_text("\n".join(TEXTS + ["", "a red circle"]) + "\n", encoding="utf-8")
    out = tmp_path / "index"
    assert (
        main(
            [
                "index",
                "build",
                "--model",
                str(checkpoint),
                "--images",
                str(tmp_path / "photos"),
                "--texts",
                str(tmp_path / "texts.txt"),
                "--lang",
                "mul",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    index = engine.open_index(out)
    assert index.manifest["counts"] == {"image": 6, "text": len(TEXTS)}  # blank line and repeated text dropped
    for text in TEXTS:
        hits = index.search(text, k=3)
        assert hits.loc[0, "item"] == text and hits.loc[0, "modality"] == "text" and hits.loc[0, "language"] == "mul"
    assert set(index.search("a red circle", k=20, modality="image")["modality"]) == {"image"}
    only_texts = index.search("a red circle", k=20, modality="text")
    assert len(only_texts) == len(TEXTS) and set(only_texts["modality"]) == {"text"}
    capsys.readouterr()
    assert main(["query", str(out), "黄色的正方形", "-k", "2"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["rank", "score", "modality", "item"] and "黄色的正方形" in table[1]
