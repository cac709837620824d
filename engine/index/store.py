"""The index folder on disk, and how it changes without ever being half-written.

INDEX_DIR/
    manifest.json            what the index is (checkpoint, fonts, dim, count, index type, recall,
                             skipped items) and which generation's files are live
    index-<gen>.faiss        the faiss index
    metadata-<gen>.parquet   one row per vector: id, modality, path, text, language, size, mtime
    vectors-<gen>.npy        the float32 embeddings (exact re-ranking, search by id, rebuilding)

An index larger than RAM ("layout": "ondisk", `engine.index.ondisk`) keeps embedding partitions
and memory-mapped inverted-list segments instead of the last three files, committed the same way.

A build or add writes a new generation's files under temporary names, renames them, and only
then replaces manifest.json (one atomic rename): that rename is the commit. A process killed at
any earlier moment leaves the old manifest pointing at the old, untouched files; leftovers are
removed by the next writer. A lock file keeps two writers from interleaving.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import pandas as pd

from engine.atomic import atomic_path
from engine.errors import EngineError

FORMAT = "engine-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LOCK = ".lock"
PARTS = "partitions"  # embedding partitions of a partitioned build (engine.index.partitions)


@dataclass
class Stored:
    """One generation of an index as read back from disk (vectors memory-mapped, read-only)."""

    directory: Path
    manifest: dict
    index: faiss.Index
    metadata: pd.DataFrame
    vectors: np.ndarray


def read_manifest(directory: Path) -> dict:
    """The manifest, or a clear error if `directory` is not an index of a format we read."""
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EngineError(f"{directory} is not an index (no {MANIFEST}); create one with `engine index build`") from None
    except (OSError, json.JSONDecodeError) as error:
        raise EngineError(f"cannot read {path}: {error}") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise EngineError(f"{path}: not an engine index of format version {FORMAT_VERSION}")
    return manifest


def load(directory: Path) -> Stored:
    """Read the live generation named by the manifest."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest.get("layout") == "ondisk":
        raise EngineError(f"{directory} is an on-disk index: open it with engine.index.search.load_stored")
    files = manifest["files"]
    try:
        index = faiss.read_index(str(directory / files["index"]))
        metadata = pd.read_parquet(directory / files["metadata"])
        vectors = np.load(directory / files["vectors"], mmap_mode="r")
    except (OSError, RuntimeError, ValueError) as error:
        raise EngineError(f"{directory}: the index files are damaged or missing ({error})") from None
    if not (index.ntotal == len(metadata) == len(vectors) == manifest["count"]):
        raise EngineError(f"{directory}: index, metadata and vectors disagree on the item count; rebuild it")
    return Stored(directory, manifest, index, metadata, vectors)


@contextmanager
def writer_lock(directory: Path) -> Iterator[None]:
    """Hold the index's write lock; a second build/add on the same folder fails fast."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EngineError(f"{directory} is being written by another `engine index` process") from None
        yield


def check_writable(directory: Path) -> None:
    """Refuse to write an index into a folder that holds something else."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise EngineError(f"index directory {directory}: exists and is not a directory")
    if directory.is_dir() and not (directory / MANIFEST).exists():
        foreign = [p.name for p in directory.iterdir() if p.name != LOCK and not _ours(p.name)]
        if foreign:
            raise EngineError(f"index directory {directory}: folder is not empty and not an index ({', '.join(sorted(foreign)[:3])}...); choose another")


def commit(directory: Path, manifest: dict, index: faiss.Index, metadata: pd.DataFrame, vectors: np.ndarray) -> dict:
    """Write a new generation and make it live atomically; returns the manifest as written."""
    directory = Path(directory)
    previous = int(read_manifest(directory)["generation"]) if (directory / MANIFEST).exists() else 0
    generation = previous + 1
    files = {"index": f"index-{generation}.faiss", "metadata": f"metadata-{generation}.parquet", "vectors": f"vectors-{generation}.npy"}
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "generation": generation, "files": files, **manifest}
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    try:
        _write(directory / files["vectors"], lambda tmp: _save_vectors(tmp, vectors))
        _write(directory / files["metadata"], lambda tmp: metadata.to_parquet(tmp, index=False))
        _write(directory / files["index"], lambda tmp: _write_faiss(index, tmp))
        _write(directory / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"))  # the commit
    except OSError as error:  # a full disk, a quota, a file-size limit: the old generation stays live
        remove_leftovers(directory, keep=set(read_manifest(directory)["files"].values()) if previous else set())
        kept = "; the previous index there is unchanged" if previous else ""
        raise EngineError(f"cannot write the index to {directory}: {error.strerror or error}{kept}") from None
    _fsync(directory)
    remove_leftovers(directory, keep=set(files.values()))
    return manifest


def write_manifest(directory: Path, manifest: dict) -> dict:
    """Make `manifest` the live one as the next generation (one atomic rename); returns it as written."""
    directory = Path(directory)
    generation = int(read_manifest(directory)["generation"]) + 1 if (directory / MANIFEST).exists() else 1
    manifest = {**manifest, "format": FORMAT, "format_version": FORMAT_VERSION, "generation": generation, "files": manifest.get("files", {})}
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    try:
        _write(directory / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    except OSError as error:
        raise EngineError(f"cannot write the index to {directory}: {error.strerror or error}") from None
    _fsync(directory)
    return manifest


def remove_leftovers(directory: Path, keep: set[str]) -> None:
    """Delete earlier generations and temporary files of interrupted writes."""
    for path in Path(directory).iterdir():
        if _ours(path.name) and path.name not in keep and path.name != MANIFEST:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def _ours(name: str) -> bool:
    return name.startswith(("index-", "metadata-", "vectors-", "trained-", "segment-", PARTS, f"{MANIFEST}.tmp-")) or ".tmp-" in name


def _write(path: Path, write) -> None:
    """Write through a temporary name, flush it to disk, rename it into place."""
    with atomic_path(path, durable=True) as tmp:
        write(tmp)


def _write_faiss(index: faiss.Index, path: Path) -> None:
    """faiss reports a failed write as a RuntimeError; make it the OSError it is."""
    try:
        faiss.write_index(index, str(path))
    except RuntimeError as error:
        raise OSError(f"faiss could not write {path.name}: {str(error).splitlines()[-1]}") from None


def _save_vectors(path: Path, vectors: np.ndarray, chunk: int = 262_144) -> None:
    """Stream (possibly memory-mapped) vectors into a .npy file without holding a second copy."""
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f4", "fortran_order": False, "shape": vectors.shape})
        for start in range(0, len(vectors), chunk):
            handle.write(np.ascontiguousarray(vectors[start : start + chunk], dtype="<f4").tobytes())


def _fsync(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
