"""`engine index build --executor local|ray`: embedding partitions, resumed after a kill, and the
Ray executor (a local cluster of 2 worker processes) giving the local executor's vectors."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.index import build as builder
from engine.index import partitioned, partitions, store
from engine.index.collect import images_in, text_item
from index_helpers import TEXTS, make_broken, make_checkpoint, make_photos

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny")


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("collection") / "photos"
    make_photos(folder, count=70)
    make_broken(folder / "broken")
    return folder


def collection(photos: Path) -> list:
    return images_in(photos) + [text_item(f"{text} {i}") for i in range(20) for text in TEXTS]


def test_partitioned_local_build_equals_the_in_memory_build(checkpoint, photos, tmp_path):
    items = collection(photos)
    plain = builder.build(tmp_path / "plain", checkpoint, items, [])
    parted = builder.build(tmp_path / "parted", checkpoint, items, [], executor="local", partition_size=50)
    assert parted.manifest["count"] == plain.manifest["count"] == 190
    assert sorted(s.item for s in parted.skipped) == sorted(s.item for s in plain.skipped) and len(parted.skipped) == 3
    a, b = store.load(tmp_path / "plain"), store.load(tmp_path / "parted")
    assert a.metadata.equals(b.metadata)
    # Partitions cut the model batches elsewhere: GEMMs of other shapes round differently on some CPUs
    # (1e-7 seen on an AMD EPYC without AVX-512), so the vectors match to float rounding, not bit for bit.
    np.testing.assert_allclose(np.asarray(a.vectors), np.asarray(b.vectors), atol=1e-6)
    # the in-memory index made from partitions drops them once it is committed
    assert not [path.name for path in (tmp_path / "parted").iterdir() if path.name.startswith(store.PARTS)]


def test_a_killed_build_redoes_only_the_missing_partitions(checkpoint, photos, tmp_path):
    out = tmp_path / "index"
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(f"{text} {i}" for i in range(40) for text in TEXTS) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "engine", "index", "build", str(out), "--model", str(checkpoint), "--images", str(photos), "--texts", str(texts)]
    command += ["--executor", "local", "--partition-size", "30", "--workers", "1"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None and len(finished(out)) < 2:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the build finished before it could be killed"
    (folder,) = out.glob("partitions-*")
    done = [part.number for part in partitions.finished(folder)]
    assert len(done) >= 2 and not (out / store.MANIFEST).exists()

    resumed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    embedded = int(resumed.stderr.split("embedding (local)")[-1].split("/")[1].split()[0])  # the bar's total
    assert embedded == 313 - sum(min(30, 313 - 30 * number) for number in done)  # 73 photos and 240 texts, less the finished partitions
    builder.build(tmp_path / "fresh", checkpoint, images_in(photos) + [text_item(line) for line in texts.read_text().splitlines()], [])
    a, b = store.load(out), store.load(tmp_path / "fresh")
    assert a.metadata.equals(b.metadata)
    np.testing.assert_allclose(np.asarray(a.vectors), np.asarray(b.vectors), atol=1e-6)  # other batch cuts: float rounding


def finished(out: Path) -> list[Path]:
    return [path for path in out.glob("partitions-*/metadata-*.parquet") if ".tmp-" not in path.name]


def test_a_partition_counts_only_once_its_metadata_is_written(tmp_path):
    folder = tmp_path / "parts"
    partitions.write(folder, 0, partitions.rows([text_item("a"), text_item("b")]), np.ones((2, 4), np.float32), extra={"skipped": [["x.jpg", "broken"]]})
    partitions.vectors_path(folder, 1).write_bytes(b"half a partition")  # vectors written, then killed
    assert [p.count for p in partitions.finished(folder)] == [2]
    assert [(s.item, s.reason) for s in partitioned.skipped_in(folder, 0)] == [("x.jpg", "broken")]


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed: bash scripts/install_extras ray")
def test_ray_with_two_workers_gives_the_local_executors_vectors(checkpoint, photos, tmp_path):
    items = collection(photos)
    local = builder.build(tmp_path / "local", checkpoint, items, [], executor="local", partition_size=64)
    ray = builder.build(tmp_path / "ray", checkpoint, items, [], executor="ray", workers=2, partition_size=64)
    assert ray.manifest["count"] == local.manifest["count"] == 190 and len(ray.skipped) == 3
    a, b = store.load(tmp_path / "local"), store.load(tmp_path / "ray")
    assert a.metadata.equals(b.metadata)
    assert float(np.abs(np.asarray(a.vectors) - np.asarray(b.vectors)).max()) <= 1e-5
    hit = engine.open_index(tmp_path / "ray").search(photos / "p0.png", k=1)
    assert hit.loc[0, "item"] == str(photos / "p0.png")
