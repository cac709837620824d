"""Which faiss index to build for a collection, building it, and tuning it to a recall target.

The choice follows autofaiss: exact search while it is cheap, an approximate index beyond that,
and the approximate one is tuned at build time (nprobe / efSearch) on a sample of the
collection's own vectors until its recall@10 against exact search reaches RECALL_TARGET. The
measured recall goes into the manifest, so nobody has to guess what the index gives up.
"""

from __future__ import annotations

import math
import re
from contextlib import nullcontext
from dataclasses import dataclass

import faiss
import numpy as np
from tqdm import tqdm

from engine.errors import EngineError
from engine.index.ann import VectorSearch, exact_codes, faiss_threads, recall_at_10, tunable_knob

FLAT_LIMIT = 50_000  # exact IndexFlatIP up to here; above, an exact scan costs a large share of a query's
# time on one core and IVF tuned to recall 0.95 is far cheaper (docs/results.md)
RECALL_TARGET = 0.95  # recall@10 an approximate index is tuned to reach
TUNING_MARGIN = 0.01  # aim this much higher: the 1,000-query sample estimates recall only to about
# +-0.005 (at 1M vectors, 0.9501 on the sample was 0.9482 on held-out queries)
TUNING_QUERIES = 1000  # collection vectors used as queries when measuring recall
HNSW_M = 32  # graph degree; memory per vector ~ 4*dim + 8*M bytes
TRAIN_PER_LIST = 64  # k-means sample per IVF list (faiss wants >= 39); bounds training time
ADD_CHUNK = 65_536
SINGLE_THREAD_BELOW = 50_000  # vectors; smaller builds run faster on one faiss thread (see faiss_threads)
KNOB_LADDERS = {
    "nprobe": [1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096],
    "efSearch": [16, 24, 32, 48, 64, 96, 128, 192, 256, 512, 1024],
}


@dataclass(frozen=True)
class Plan:
    """A faiss factory string and the reason it was chosen (shown in the build report)."""

    factory: str
    why: str


def ivf_lists(n: int) -> int:
    """nlist ~ 4 * sqrt(N): the usual balance between coarse and fine search cost."""
    return max(1, round(4 * math.sqrt(n)))


def pq_subquantizers(dim: int, dims_per_code: int = 4) -> int:
    """Largest divisor of dim that is <= dim/dims_per_code: 8-bit codes of that many dimensions
    each (4: 1/16 of float32)."""
    return next(m for m in range(max(1, dim // dims_per_code), 0, -1) if dim % m == 0)


def bytes_per_vector(factory_kind: str, dim: int) -> float:
    """Approximate resident memory of one vector in each automatic index kind."""
    return {"hnsw": 4 * dim + 8 * HNSW_M * 1.1, "ivf-flat": 4 * dim + 8, "ivf-pq": pq_subquantizers(dim) + 8}[factory_kind]


def plan_index(n: int, dim: int, memory_budget: int | None = None) -> Plan:
    """Exact up to FLAT_LIMIT; above it IVF-Flat, or with a memory budget the fastest index that fits.

    Fastest first: HNSW (graph search, vectors and graph in RAM), IVF-Flat (vectors in RAM),
    IVF-PQ (1/16 of the vectors in RAM, candidates re-ranked exactly from the vectors on disk).
    Without a budget we pick IVF-Flat: exact distances, quick to build and to append to.
    PQ is built with "np" (no polysemous training: ~20x slower to train, and only useful for
    Hamming pre-filtering, which we do not use).
    """
    if n <= FLAT_LIMIT:
        return Plan("Flat", f"{n:,} items <= {FLAT_LIMIT:,}: exact search")
    lists = ivf_lists(n)
    if memory_budget is None:
        return Plan(f"IVF{lists},Flat", f"{n:,} items > {FLAT_LIMIT:,}: inverted lists (nlist = 4*sqrt(N))")
    need = {kind: n * bytes_per_vector(kind, dim) for kind in ("hnsw", "ivf-flat", "ivf-pq")}
    budget = f"memory budget {memory_budget / 2**30:.2f} GiB"
    if need["hnsw"] <= memory_budget:
        return Plan(f"HNSW{HNSW_M},Flat", f"{budget} holds an HNSW graph ({need['hnsw'] / 2**30:.2f} GiB)")
    if need["ivf-flat"] <= memory_budget:
        return Plan(f"IVF{lists},Flat", f"{budget} holds the vectors ({need['ivf-flat'] / 2**30:.2f} GiB) but not an HNSW graph")
    if need["ivf-pq"] <= memory_budget:
        return Plan(f"IVF{lists},PQ{pq_subquantizers(dim)}np", f"{budget} holds only PQ codes ({need['ivf-pq'] / 2**30:.2f} GiB); exact re-ranking from disk")
    raise EngineError(f"{budget} is too small even for PQ codes of {n:,} vectors ({need['ivf-pq'] / 2**30:.2f} GiB)")


def parse_size(text: str) -> int:
    """'512M', '4G', '1.5GiB', '1000000' -> bytes (powers of 1024)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?b)?\s*", text.lower())
    if not match:
        raise EngineError(f"memory size {text!r}: use a number with an optional K/M/G/T suffix, e.g. 4G")
    return int(float(match.group(1)) * 1024 ** "_kmgt".index(match.group(2) or "_"))


def build_faiss(vectors: np.ndarray, factory: str, seed: int = 0) -> faiss.Index:
    """A trained faiss index (inner product) holding `vectors` with ids 0..n-1."""
    n, dim = vectors.shape
    try:
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as error:
        raise EngineError(f"--factory {factory!r}: faiss cannot build it: {str(error).splitlines()[-1]}") from None
    with faiss_threads(1) if n < SINGLE_THREAD_BELOW else nullcontext():
        if not index.is_trained:
            lists = _core_lists(index)
            if n < lists:
                raise EngineError(f"--factory {factory!r}: {lists} lists need at least that many vectors, got {n}")
            sample_size = min(n, max(TRAIN_PER_LIST * lists, 256 * 39))
            sample = vectors[np.sort(np.random.default_rng(seed).choice(n, sample_size, replace=False))]
            index.train(np.ascontiguousarray(sample, dtype=np.float32))
        for start in tqdm(range(0, n, ADD_CHUNK), desc=f"indexing ({factory})", unit="chunk", disable=n <= ADD_CHUNK, leave=False):
            index.add(np.ascontiguousarray(vectors[start : start + ADD_CHUNK], dtype=np.float32))
    return index


def _core_lists(index: faiss.Index) -> int:
    ivf = faiss.try_extract_index_ivf(index)
    return ivf.nlist if ivf is not None else 1


def tune(index: faiss.Index, vectors: np.ndarray, target: float = RECALL_TARGET, seed: int = 0) -> tuple[dict, float]:
    """Smallest nprobe/efSearch reaching `target` (+ margin) recall@10 on a sample; returns (knobs, recall).

    The sample's queries are collection vectors, scored on their 10 nearest *other* items: the
    query itself is always found and would flatter the index (at 1M clustered vectors it did by
    ~0.01 against held-out queries). Exact indexes (flat codes, no knob) score 1.0 without
    measuring. Where even the largest setting falls short, it is returned with its lower recall.
    """
    n = len(vectors)
    knob = tunable_knob(index)
    if knob is None and exact_codes(index):
        return {}, 1.0
    picks = np.sort(np.random.default_rng(seed).choice(n, min(n, TUNING_QUERIES), replace=False))
    queries = np.ascontiguousarray(vectors[picks], dtype=np.float32)
    truth = _others(exact_top(queries, vectors, 11), picks)

    def recall(knobs: dict) -> float:
        return recall_at_10(_others(VectorSearch(index, vectors, knobs).search(queries, 11)[1], picks), truth)

    if knob is None:
        return {}, recall({})
    ceiling = _core_lists(index) if knob == "nprobe" else max(KNOB_LADDERS["efSearch"])
    for value in [v for v in KNOB_LADDERS[knob] if v < ceiling] + [ceiling]:
        reached = recall({knob: value})
        if reached >= target + TUNING_MARGIN:
            break
    return {knob: value}, reached


def _others(ids: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Each row's first 10 ids other than the row's own query id (-1 padded)."""
    out = np.full((len(ids), 10), -1, dtype=np.int64)
    for row, (found, query) in enumerate(zip(ids, own)):
        kept = found[(found != query) & (found >= 0)][:10]
        out[row, : len(kept)] = kept
    return out


def exact_top(queries: np.ndarray, vectors: np.ndarray, k: int, chunk: int = 262_144) -> np.ndarray:
    """Exact top-k ids by inner product, streaming over `vectors` in chunks (it may be a memory map)."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.full((len(queries), k), -1, dtype=np.int64)
    for start in range(0, len(vectors), chunk):
        block = np.ascontiguousarray(vectors[start : start + chunk], dtype=np.float32)
        scores, ids = faiss.knn(queries, block, min(k, len(block)), metric=faiss.METRIC_INNER_PRODUCT)
        scores = np.concatenate([best_scores, scores], axis=1)
        ids = np.concatenate([best_ids, ids + start], axis=1)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        best_scores, best_ids = np.take_along_axis(scores, order, 1), np.take_along_axis(ids, order, 1)
    return best_ids
