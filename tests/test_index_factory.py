"""Index choice by size and memory budget, recall tuning, filtering and exact re-ranking, on real faiss."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import EngineError
from engine.index.ann import VectorSearch, recall_at_10
from engine.index.factory import build_faiss, exact_top, parse_size, plan_index, tune


def clustered(n: int, dim: int = 32, clusters: int = 50, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    vectors = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_plan_follows_size_and_memory_budget():
    assert plan_index(50_000, 192).factory == "Flat"
    assert plan_index(100_000, 192).factory == "IVF1265,Flat"
    assert plan_index(1_000_000, 192).factory == "IVF4000,Flat"
    assert plan_index(1_000_000, 192, parse_size("4G")).factory == "HNSW32,Flat"
    assert plan_index(1_000_000, 192, parse_size("800M")).factory == "IVF4000,Flat"
    assert plan_index(1_000_000, 192, parse_size("100M")).factory == "IVF4000,PQ48np"
    with pytest.raises(EngineError, match="too small"):
        plan_index(1_000_000, 192, parse_size("10M"))


def test_parse_size():
    assert parse_size("4G") == 4 * 2**30 and parse_size("512m") == 512 * 2**20 and parse_size("1.5GiB") == int(1.5 * 2**30)
    assert parse_size("1000") == 1000
    with pytest.raises(EngineError, match="memory size"):
        parse_size("lots")


def test_exact_top_matches_brute_force_across_chunks():
    vectors, queries = clustered(3000), clustered(20, seed=1)
    expected = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :10]
    found = exact_top(queries, vectors, 10, chunk=700)
    assert recall_at_10(found, expected) == 1.0


@pytest.mark.parametrize("factory", ["IVF64,Flat", "HNSW16,Flat", "IVF64,PQ8np"])
def test_tuning_reaches_the_recall_target(factory):
    vectors = clustered(20_000)
    index = build_faiss(vectors, factory)
    knobs, recall = tune(index, vectors, target=0.95)
    assert recall >= 0.95 and set(knobs) == ({"efSearch"} if factory.startswith("HNSW") else {"nprobe"})
    queries = vectors[:200]
    measured = recall_at_10(VectorSearch(index, vectors, knobs).search(queries, 10)[1], exact_top(queries, vectors, 10))
    assert measured >= 0.9  # the tuned setting holds on other queries of the same collection


def test_pq_candidates_are_rescored_exactly():
    vectors = clustered(5000)
    search = VectorSearch(build_faiss(vectors, "IVF16,PQ4np"), vectors, {"nprobe": 16})
    assert search.rerank
    scores, ids = search.search(vectors[:5], 10)
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", vectors[:5], vectors[ids]), rtol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()


@pytest.mark.parametrize("factory", ["Flat", "IVF32,Flat", "HNSW16,Flat", "IVF32,PQ8x4np"])
def test_filter_returns_only_allowed_ids(factory):
    vectors = clustered(4000)
    index = build_faiss(vectors, factory)
    knobs, _ = tune(index, vectors)
    allowed = np.zeros(len(vectors), dtype=bool)
    allowed[::7] = True
    scores, ids = VectorSearch(index, vectors, knobs).search(vectors[1:4], 10, allowed)
    assert (ids >= 0).all() and allowed[ids].all()
    if factory == "Flat":  # exact: the best allowed items, in order
        expected = np.flatnonzero(allowed)[np.argsort(-(vectors[1:4] @ vectors[allowed].T), axis=1)[:, :10]]
        assert (ids == expected).all()


def test_fewer_allowed_items_than_k_gives_short_results():
    vectors = clustered(500)
    allowed = np.zeros(500, dtype=bool)
    allowed[[3, 77]] = True
    scores, ids = VectorSearch(build_faiss(vectors, "Flat"), vectors).search(vectors[:1], 5, allowed)
    assert sorted(ids[0][ids[0] >= 0].tolist()) == [3, 77] and (ids[0][2:] == -1).all()


def test_bad_factory_string_is_a_clear_error():
    with pytest.raises(EngineError, match="--factory"):
        build_faiss(clustered(100), "NotAnIndex42")
