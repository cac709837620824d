"""The on-disk index: 100k synthetic vectors in partitions -> IVF-PQ with memory-mapped lists.

Recall against exact search on held-out queries, `add` writing a new segment without touching
the existing files, a failed add leaving the index as it was, and the end-to-end CLI path
(`engine index build --executor local --ondisk`, `engine query --json`, `engine index add`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fastapi.testclient import TestClient

import engine
from engine.cli import main
from engine.errors import EngineError
from engine.index import ondisk, partitions, store
from engine.index.ann import VectorSearch, recall_at_10
from engine.index.search import load_stored
from engine.index.serve import create_app
from index_helpers import TEXTS, make_checkpoint

DIM = 64


def clustered(count: int, seed: int, centres: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(seed)
    block = centres[rng.integers(0, len(centres), count)] + 0.5 * rng.standard_normal((count, DIM), dtype=np.float32)
    return block / np.linalg.norm(block, axis=1, keepdims=True)


def write_parts(folder: Path, first: int, count: int, size: int, centres: np.ndarray) -> None:
    for number in range(first, first + count):
        ids = np.arange(number * size, (number + 1) * size)
        rows = pd.DataFrame({"modality": "image", "path": [f"/synthetic/{i}.jpg" for i in ids], "text": None, "language": None, "size": 1, "mtime": 0.0})
        rows = rows.astype({"modality": "string", "path": "string", "text": "string", "language": "string"})
        partitions.write(folder, number, rows, clustered(size, number, centres))


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A 100k-vector on-disk index in 10 partitions (built once for the module's tests)."""
    directory = tmp_path_factory.mktemp("ondisk") / "index"
    centres = np.random.default_rng(0).standard_normal((1000, DIM)).astype(np.float32)
    write_parts(ondisk.parts_dir(directory), 0, 10, 10_000, centres)
    ondisk.build(directory, {"checkpoint": {"kind": "synthetic"}, "dim": DIM, "skipped": [], "history": []})
    return directory, centres


def test_100k_on_disk_index_reaches_recall_on_held_out_queries(big):
    directory, centres = big
    stored = load_stored(directory)
    manifest = stored.manifest
    assert manifest["layout"] == "ondisk" and manifest["count"] == 100_000 and manifest["index"]["factory"] == "IVF256,PQ32np"
    assert manifest["index"]["knobs"]["rerank"] == ondisk.RERANK
    assert manifest["index"]["search_ms"] <= manifest["index"]["latency_budget_ms"] or manifest["index"]["knobs"]["nprobe"] == 1
    queries = clustered(200, 999, centres)
    truth = ondisk.exact_top(queries, ondisk.parts_dir(directory), partitions.finished(ondisk.parts_dir(directory)), 10)
    found = VectorSearch(stored.index, stored.vectors, manifest["index"]["knobs"]).search(queries, 10)[1]
    assert recall_at_10(found, truth) >= 0.9
    # vectors and metadata by id, from memory maps and Arrow files
    assert np.array_equal(stored.vectors[[12_345]], np.load(partitions.vectors_path(ondisk.parts_dir(directory), 1))[[2_345]])
    assert stored.metadata.rows([12_345])[0] == {
        "id": 12_345,
        "modality": "image",
        "path": "/synthetic/12345.jpg",
        "text": None,
        "language": None,
        "size": 1,
        "mtime": 0.0,
    }
    assert isinstance(stored.vectors._maps[0], np.memmap)


def test_add_writes_a_new_segment_and_leaves_existing_files_untouched(big, tmp_path, monkeypatch):
    directory, centres = big
    before = store.read_manifest(directory)
    files = {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in directory.iterdir() if path.is_file() and path.name != store.MANIFEST}
    write_parts(ondisk.parts_dir(directory), 10, 2, 10_000, centres)

    # a failure at the commit (disk full at the manifest): the old index stays live and searchable
    def full_disk(*args):
        raise EngineError("cannot write the index: No space left on device")

    monkeypatch.setattr(store, "write_manifest", full_disk)
    with pytest.raises(EngineError, match="No space"):
        ondisk.add(directory, before)
    monkeypatch.undo()
    assert store.read_manifest(directory) == before and load_stored(directory).index.ntotal == 100_000

    after = ondisk.add(directory, before)
    assert after["count"] == 120_000 and len(after["segments"]) == 2 and after["generation"] == before["generation"] + 1
    for path, identity in files.items():  # nothing that was there was rewritten
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == identity
    stored = load_stored(directory)
    search = VectorSearch(stored.index, stored.vectors, after["index"]["knobs"])
    new_vector = stored.vectors[[115_000]]
    assert search.search(new_vector, 1)[1][0, 0] == 115_000  # found through the stacked segments
    old_vector = stored.vectors[[5]]
    assert search.search(old_vector, 1)[1][0, 0] == 5
    leftovers = [path.name for path in directory.iterdir() if ".tmp-" in path.name]
    assert not leftovers


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny")


def test_cli_builds_queries_and_extends_an_on_disk_index(checkpoint, tmp_path, capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(f"{text} {i}" for i in range(60) for text in TEXTS) + "\n", encoding="utf-8")
    out = tmp_path / "index"
    args = ["index", "build", str(out), "--model", str(checkpoint), "--texts", str(texts), "--executor", "local", "--ondisk", "--partition-size", "100"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "on disk: 4 partitions" in printed
    manifest = store.read_manifest(out)
    assert manifest["layout"] == "ondisk" and manifest["count"] == 360 and manifest["counts"] == {"image": 0, "text": 360}
    assert main(["query", str(out), f"{TEXTS[2]} 7", "--json", "-k", "3"]) == 0
    hits = json.loads(capsys.readouterr().out)  # nothing but JSON on stdout (faiss's on-disk messages are silenced)
    assert hits[0]["item"] == f"{TEXTS[2]} 7" and hits[0]["modality"] == "text"
    more = tmp_path / "more.txt"
    more.write_text("\n".join(f"{TEXTS[0]} extra {i}" for i in range(150)) + f"\n{TEXTS[0]} 1\n", encoding="utf-8")  # one already indexed
    assert main(["index", "add", str(out), "--texts", str(more), "--partition-size", "100"]) == 0
    assert "150 new items" in capsys.readouterr().out
    manifest = store.read_manifest(out)
    assert manifest["count"] == 510 and manifest["partitions"] == 6 and len(manifest["segments"]) == 2
    index = engine.open_index(out)
    assert index.item(509)["text"].startswith(f"{TEXTS[0]} extra")
    with TestClient(create_app(index)) as client:  # `engine serve` over the memory-mapped index
        assert client.get("/health").json()["count"] == 510
        assert client.get("/items/12").json()["text"] == index.item(12)["text"]
        found = client.get("/search", params={"q": f"{TEXTS[3]} 5", "k": 3, "modality": "text"}).json()["results"]
        assert len(found) == 3 and all(hit["modality"] == "text" for hit in found)
    hits = index.search_text(f"{TEXTS[0]} extra 42", k=10)  # an untrained model: near-identical renders score alike
    assert hits["item"].str.startswith(f"{TEXTS[0]} extra").all()


def test_ondisk_needs_an_executor(checkpoint, tmp_path, capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text("one\ntwo\n", encoding="utf-8")
    assert main(["index", "build", str(tmp_path / "i"), "--model", str(checkpoint), "--texts", str(texts), "--ondisk"]) != 0
    assert "--ondisk needs --executor" in capsys.readouterr().err
