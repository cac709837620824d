"""Nearest-neighbour search over the stored vectors: a faiss index plus the knobs it was tuned with.

One place answers "top k vectors for these queries" for every index type, so that the build-time
recall measurement and the user's searches run exactly the same code: the same nprobe/efSearch,
the same modality filter (a faiss ID selector, so filtering never loses results), and, for lossy
codes (PQ, SQ), the same exact re-ranking from the full vectors kept on disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import faiss
import numpy as np

# faiss switches from its SIMD loop to BLAS only for batches of at least this many queries. Its
# default (far above any batch we send) made batched flat search ~5x slower here.
faiss.cvar.distance_compute_blas_threshold = 16

RERANK_FACTOR = 8  # lossy codes: take RERANK_FACTOR * k candidates, re-score them exactly (knob "rerank" overrides it)


@contextmanager
def faiss_threads(count: int) -> Iterator[None]:
    """Run faiss with `count` OpenMP threads inside the block.

    Small jobs run many short parallel regions; on a loaded machine their spinning threads wait
    for each other (training a 4k-vector IVF-PQ took 7.4 s with 2 threads, 0.07 s with 1).
    """
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def exact_codes(index: faiss.Index) -> bool:
    """True where the index stores the vectors themselves, so its scores are exact dot products."""
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexPreTransform) else index
    if isinstance(inner, faiss.IndexIVF):
        return isinstance(inner, faiss.IndexIVFFlat)
    if isinstance(inner, faiss.IndexHNSW):
        return isinstance(faiss.downcast_index(inner.storage), faiss.IndexFlat)
    return isinstance(inner, faiss.IndexFlat)


def _core(index: faiss.Index) -> faiss.Index:
    return faiss.downcast_index(index.index) if isinstance(index, faiss.IndexPreTransform) else index


def tunable_knob(index: faiss.Index) -> str | None:
    """The search-time knob that trades speed for recall: IVF's nprobe, HNSW's efSearch, or none."""
    core = _core(index)
    if isinstance(core, faiss.IndexIVF):
        return "nprobe"
    if isinstance(core, faiss.IndexHNSW):
        return "efSearch"
    return None


class VectorSearch:
    """A faiss index over vectors 0..n-1, searched with fixed knobs and an optional id filter.

    `vectors` (n, dim) float32, usually a read-only memory map, re-scores candidates exactly
    when the index codes are lossy; only the candidates' rows are read from disk.
    """

    def __init__(self, index: faiss.Index, vectors: np.ndarray, knobs: dict | None = None) -> None:
        self.index = index  # as returned by faiss (already its concrete type; a downcast copy would not own it)
        self.vectors = vectors
        self.knobs = dict(knobs or {})
        self.rerank = not exact_codes(self.index)

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row; ids are -1 where fewer than k items qualify.

        `allowed`: optional bool mask over ids (e.g. one modality); others are never returned.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        fetch = k * int(self.knobs.get("rerank", RERANK_FACTOR)) if self.rerank else k
        fetch = min(fetch, self.index.ntotal) or 1
        selector = None
        if allowed is not None:
            bits = np.packbits(allowed.astype(np.uint8), bitorder="little")
            selector = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
        scores, ids = self.index.search(queries, fetch, params=self._params(selector))
        if self.rerank:
            scores, ids = self._rescore(queries, ids, k)
        return scores[:, :k], ids[:, :k]

    def _params(self, selector: faiss.IDSelector | None) -> faiss.SearchParameters:
        core = _core(self.index)
        if isinstance(core, faiss.IndexIVF):
            params = faiss.SearchParametersIVF(nprobe=int(self.knobs.get("nprobe", core.nprobe)))
        elif isinstance(core, faiss.IndexHNSW):
            params = faiss.SearchParametersHNSW(efSearch=int(self.knobs.get("efSearch", core.hnsw.efSearch)))
        else:
            params = faiss.SearchParameters()
        if selector is not None:
            params.sel = selector
        self._selector = selector  # faiss keeps a raw pointer: hold the object while we search
        if isinstance(self.index, faiss.IndexPreTransform):
            return faiss.SearchParametersPreTransform(index_params=params)
        return params

    def _rescore(self, queries: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact dot products for the candidates, best first (-1 candidates stay last)."""
        scores = np.full(candidates.shape, -np.inf, dtype=np.float32)
        for row, (query, ids) in enumerate(zip(queries, candidates)):
            valid = ids >= 0
            order = np.sort(ids[valid])  # sorted reads are kinder to a memory-mapped file
            rows = np.asarray(self.vectors[order], dtype=np.float32)
            scores[row, : valid.sum()] = rows @ query
            candidates[row, : valid.sum()] = order
            candidates[row, valid.sum() :] = -1
        best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, best, axis=1), np.take_along_axis(candidates, best, axis=1)


def recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the exact top-10 (its valid ids) that the approximate top-10 found."""
    shares = [len(np.intersect1d(f[f >= 0], t[t >= 0])) / max(1, (t >= 0).sum()) for f, t in zip(found[:, :10], truth[:, :10])]
    return float(np.mean(shares)) if shares else 1.0
