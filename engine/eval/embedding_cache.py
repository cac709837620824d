"""Embeddings computed once per (checkpoint, inputs) and kept on disk as .npy files.

A benchmark embeds the same images and captions for every language table, protocol and rerun;
on CPU that is the slow part. The cache key is the checkpoint's weight hash plus every input
(for files: resolved path, size and modification time), so a retrained model or an edited image
never reuses stale vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine.atomic import atomic_path

CHUNK = 512  # items per encoder call: small enough for a live progress bar


def cache_key(checkpoint_hash: str, kind: str, items: Sequence[str | Path]) -> str:
    """sha256 over the checkpoint hash, the input kind and each input (files by path, size, mtime)."""
    digest = hashlib.sha256(f"{checkpoint_hash}\0{kind}\0".encode())
    for item in items:
        if isinstance(item, Path):
            stat = item.stat()
            digest.update(f"{item.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
        else:
            digest.update(item.encode("utf-8", "surrogatepass") + b"\0\1")
    return digest.hexdigest()


def embed_cached(
    cache_dir: Path,
    checkpoint_hash: str,
    kind: str,
    items: Sequence[str | Path],
    encode: Callable[[list], np.ndarray],
    desc: str,
) -> np.ndarray:
    """`encode(items)` in chunks under a progress bar, or the stored result of an earlier call."""
    path = cache_dir / f"{kind}-{cache_key(checkpoint_hash, kind, items)[:32]}.npy"
    if path.is_file():
        cached = np.load(path)
        if len(cached) == len(items):
            return cached
    chunks = []
    with tqdm(total=len(items), desc=desc, unit=kind.rstrip("s"), leave=False) as bar:
        for start in range(0, len(items), CHUNK):
            batch = list(items[start : start + CHUNK])
            chunks.append(np.asarray(encode(batch), dtype=np.float32))
            bar.update(len(batch))
    embeddings = np.concatenate(chunks) if chunks else np.zeros((0, 0), dtype=np.float32)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        np.save(tmp, embeddings)
    return embeddings
