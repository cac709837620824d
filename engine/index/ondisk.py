"""An index larger than RAM: IVF-PQ over the embedding partitions, its inverted lists on disk.

INDEX_DIR/ (manifest "layout": "ondisk")
    manifest.json              as for every index, plus the partitions and segments that are live
    partitions/                the embedding partitions (`engine.index.partitions`)
    trained-<gen>.faiss        the trained, empty IVF-PQ (coarse centroids and PQ codebooks)
    segment-<k>.faiss/.ivfdata inverted lists of some partitions, memory-mapped when searching

As autofaiss does for LAION: train IVF-PQ on a bounded sample, add the partitions one at a time
into small per-partition indexes, and merge those on disk (faiss `merge_ondisk`) into one
`.ivfdata` file. Only the PQ codes (dim/2 bytes a vector) are searched; the best RERANK*k
candidates are re-scored exactly from the memory-mapped partition vectors, and metadata is read
by id from Parquet row groups. `engine index add` writes a new segment for the new partitions and
leaves the existing ones as they are; searching stacks the segments' lists (faiss
HStackInvertedLists). Every file is written under a new name and only the manifest's atomic
rename makes it live, so a killed build or add leaves the previous index searchable.

nprobe is tuned to the recall target like the in-memory indexes, but within a latency budget:
a 10M-vector build once tuned itself to every list (180 ms a query) chasing 0.95.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np
from faiss.contrib.ondisk import merge_ondisk
from tqdm import tqdm

from engine.atomic import atomic_path
from engine.errors import EngineError
from engine.index import partitions, store
from engine.index.ann import VectorSearch, faiss_threads, recall_at_10
from engine.index.factory import KNOB_LADDERS, RECALL_TARGET, TUNING_MARGIN, _others, pq_subquantizers

PARTS = "partitions"
LATENCY_BUDGET_MS = 10.0  # one-thread search time per query the tuner may spend (the rest of a query
# is the model, metadata reads and HTTP); the bar is a 20 ms p50
TRAIN_PER_LIST = 40  # k-means sample per list (faiss asks for >= 39); 10M vectors -> 164k, 126 MB
KMEANS_ITERATIONS = 15  # faiss's default 25 costs 1.7x the time for a barely better quantiser here
TUNING_QUERIES = 500  # recall@10 to +-0.01: enough to choose nprobe, far cheaper than an exact pass per 1000
RERANK = 16  # candidates re-scored exactly, per hit wanted: ~160 row reads a query from the page cache


def plan(n: int, dim: int) -> str:
    """IVF with a power of two near sqrt(N) lists (2,441 codes a list at 10M) and 8-bit PQ of 2 dims.

    Fewer lists than the in-memory indexes' 4*sqrt(N): assigning 10M vectors to 4*sqrt(N)
    centroids costs 4x the build time on a CPU, and at ~2.4k codes a list a query still scans
    only ~80k codes at nprobe 32. Codes of 2 dims a byte, not the in-memory PQ's 4: at 10M, 1,000
    near-equidistant vectors a cluster, 4-dim codes ranked the true top 10 outside the re-ranked
    pool too often (held-out recall@10 0.62, docs/scale.md); the lists stay on disk, so their
    doubled size (1 GB at 10M) costs disk and page cache, not RAM.
    """
    lists = 2 ** max(4, round(math.log2(math.sqrt(max(n, 1)))))
    return f"IVF{lists},PQ{pq_subquantizers(dim, dims_per_code=2)}np"


def parts_dir(directory: Path, manifest: dict | None = None) -> Path:
    """The folder of the index's embedding partitions (named in the manifest)."""
    return Path(directory) / (manifest or {}).get("parts", PARTS)


def build(directory: Path, manifest: dict, parts_name: str = PARTS, factory: str | None = None, seed: int = 0, budget_ms: float = LATENCY_BUDGET_MS) -> dict:
    """Train on a sample of the partitions in INDEX_DIR/`parts_name`, add them all, tune, commit."""
    directory = Path(directory)
    manifest = {**manifest, "parts": parts_name}
    parts = partitions.finished(parts_dir(directory, manifest))
    n = sum(p.count for p in parts)
    if n == 0:
        raise EngineError(f"{parts_dir(directory, manifest)}: no embedding partitions to index")
    folder = parts_dir(directory, manifest)
    dim = int(np.load(partitions.vectors_path(folder, 0), mmap_mode="r").shape[1])
    chosen = factory or plan(n, dim)
    started = time.perf_counter()
    index = _trained(dim, chosen, parts, folder, seed)
    generation = _next_generation(directory)
    trained = f"trained-{generation}.faiss"
    _write_index(index, directory / trained)
    segment = _segment(directory, folder, index, parts, f"segment-{generation}")
    searchable = _open(directory, trained, [segment], n)
    knobs, recall, ms = tune(searchable, partitions.PartitionVectors(folder, parts), folder, parts, budget_ms=budget_ms, seed=seed)
    spec = {"factory": chosen, "why": "--factory" if factory else "on disk: IVF-PQ, lists memory-mapped, exact re-ranking", "auto": factory is None}
    spec |= {"trained_on": n, "knobs": knobs, "recall_at_10": round(recall, 4), "recall_target": RECALL_TARGET, "search_ms": round(ms, 2)}
    spec |= {"latency_budget_ms": budget_ms}
    manifest = {**manifest, "layout": "ondisk", "count": n, "index": spec, "trained": trained, "segments": [segment]}
    manifest["partitions"] = len(parts)
    manifest["build_seconds"] = round(time.perf_counter() - started, 1)
    return commit(directory, manifest)


def add(directory: Path, manifest: dict) -> dict:
    """Index the partitions after the last indexed one as a new segment; earlier segments stay untouched."""
    directory = Path(directory)
    parts = partitions.finished(parts_dir(directory, manifest))
    new = [p for p in parts if p.number >= manifest["partitions"]]
    if not new:
        return manifest
    with _quiet_stdout():
        index = faiss.read_index(str(directory / manifest["trained"]))
    segment = _segment(directory, parts_dir(directory, manifest), index, new, f"segment-{_next_generation(directory)}")
    manifest = {**manifest, "count": sum(p.count for p in parts), "partitions": len(parts), "segments": manifest["segments"] + [segment]}
    return commit(directory, manifest)


def commit(directory: Path, manifest: dict) -> dict:
    """Make `manifest` live (one atomic rename) and delete files no live manifest names."""
    keep = {manifest["trained"], manifest["parts"]} | {name for segment in manifest["segments"] for name in (segment["index"], segment["ivfdata"])}
    manifest = store.write_manifest(directory, manifest)
    store.remove_leftovers(directory, keep=keep)
    return manifest


def load(directory: Path, manifest: dict) -> store.Stored:
    """The live on-disk index, memory-mapped: RAM holds the centroids, codebooks and the pages read."""
    directory = Path(directory)
    folder = parts_dir(directory, manifest)
    parts = partitions.finished(folder)[: manifest["partitions"]]
    if sum(p.count for p in parts) != manifest["count"]:
        raise EngineError(f"{directory}: its partitions hold {sum(p.count for p in parts):,} items, the manifest {manifest['count']:,}; rebuild it")
    try:
        index = _open(directory, manifest["trained"], manifest["segments"], manifest["count"])
    except RuntimeError as error:
        raise EngineError(f"{directory}: the index files are damaged or missing ({str(error).splitlines()[-1]})") from None
    return store.Stored(directory, manifest, index, partitions.PartitionMetadata(folder, parts), partitions.PartitionVectors(folder, parts))


def tune(
    index: faiss.Index, vectors, directory: Path, parts: list, target: float = RECALL_TARGET, budget_ms: float = LATENCY_BUDGET_MS, seed: int = 0
) -> tuple[dict, float, float]:
    """Smallest nprobe reaching `target` (+ margin) recall@10, never one whose one-thread search
    takes more than `budget_ms` a query; returns (knobs, recall, ms a query)."""
    n = len(vectors)
    picks = np.sort(np.random.default_rng(seed).choice(n, min(n, TUNING_QUERIES), replace=False))
    queries = vectors[picks]
    truth = _others(exact_top(queries, directory, parts, 11), picks)
    lists = faiss.extract_index_ivf(index).nlist
    best = None
    for nprobe in [v for v in KNOB_LADDERS["nprobe"] if v < lists] + [lists]:
        search = VectorSearch(index, vectors, {"nprobe": nprobe, "rerank": RERANK})
        with faiss_threads(1):
            started = time.perf_counter()
            found = np.concatenate([search.search(queries[i : i + 1], 11)[1] for i in range(len(queries))])
            ms = (time.perf_counter() - started) * 1000 / len(queries)
        if best is not None and ms > budget_ms:
            break
        best = ({"nprobe": nprobe, "rerank": RERANK}, recall_at_10(_others(found, picks), truth), ms)
        if best[1] >= target + TUNING_MARGIN:
            break
    return best


def exact_top(queries: np.ndarray, directory: Path, parts: list, k: int) -> np.ndarray:
    """Exact top-k ids by inner product, one partition in RAM at a time (not memory-mapped: the
    pages of a full pass would all count as this process's memory)."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.full((len(queries), k), -1, dtype=np.int64)
    for partition, block in tqdm(partitions.each_vectors(directory, parts), total=len(parts), desc="exact search", unit="part", leave=False):
        scores, ids = faiss.knn(queries, block, min(k, len(block)), metric=faiss.METRIC_INNER_PRODUCT)
        scores = np.concatenate([best_scores, scores], axis=1)
        ids = np.concatenate([best_ids, ids + partition.first_id], axis=1)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        best_scores, best_ids = np.take_along_axis(scores, order, 1), np.take_along_axis(ids, order, 1)
    return best_ids


def _trained(dim: int, factory: str, parts: list, folder: Path, seed: int) -> faiss.Index:
    try:
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as error:
        raise EngineError(f"--factory {factory!r}: faiss cannot build it: {str(error).splitlines()[-1]}") from None
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is None:
        raise EngineError(f"--factory {factory!r}: an on-disk index needs inverted lists (IVF...)")
    ivf.cp.niter = KMEANS_ITERATIONS
    for clustering in [ivf.cp] + ([ivf.pq.cp] if hasattr(ivf, "pq") else []):
        clustering.min_points_per_centroid = 1  # no warning per sub-quantiser for a small collection
    n = sum(p.count for p in parts)
    if n < ivf.nlist:
        raise EngineError(f"{ivf.nlist} lists need at least that many vectors, got {n}")
    sample = _sample(parts, folder, min(n, TRAIN_PER_LIST * ivf.nlist), seed)
    index.train(sample)
    return index


def _sample(parts: list, directory: Path, size: int, seed: int) -> np.ndarray:
    """`size` vectors drawn uniformly from all partitions, read one partition at a time."""
    total = sum(p.count for p in parts)
    picks = np.sort(np.random.default_rng(seed).choice(total, size, replace=False))
    out = np.empty((size, 0), dtype=np.float32)
    chunks = []
    for partition, block in tqdm(partitions.each_vectors(directory, parts), total=len(parts), desc="training sample", unit="part", leave=False):
        mine = picks[(picks >= partition.first_id) & (picks < partition.first_id + partition.count)] - partition.first_id
        chunks.append(np.ascontiguousarray(block[mine], dtype=np.float32))
    return np.concatenate(chunks) if chunks else out


def _segment(directory: Path, folder: Path, trained: faiss.Index, parts: list, name: str) -> dict:
    """One segment: each partition added to a copy of the trained index, written as a small block,
    and the blocks merged into `name`.ivfdata (RAM holds one partition and one block at a time)."""
    for stale in directory.glob("blocks.tmp-*"):
        if not _alive(stale.name.split("-")[-1]):
            shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix="blocks.tmp-", suffix=f"-{os.getpid()}") as blocks:
        files = []
        for partition, vectors in tqdm(partitions.each_vectors(folder, parts), total=len(parts), desc="adding partitions", unit="part"):
            block = faiss.clone_index(trained)
            partitions.write_arrow(folder, partition.number)
            block.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.arange(partition.first_id, partition.first_id + partition.count))
            files.append(str(Path(blocks) / f"block-{partition.name}.faiss"))
            faiss.write_index(block, files[-1])
            del block
        merged = faiss.clone_index(trained)
        ivfdata = directory / f"{name}.ivfdata"  # a name no live manifest uses: written in place, then
        ivfdata.unlink(missing_ok=True)  # made live by the manifest's rename
        with _quiet_stdout():
            merge_ondisk(merged, files, str(ivfdata))
        _fsync(ivfdata)
        _write_index(merged, directory / f"{name}.faiss")
    return {"index": f"{name}.faiss", "ivfdata": f"{name}.ivfdata", "first_partition": parts[0].number, "partitions": len(parts)}


def _open(directory: Path, trained: str, segments: list[dict], count: int) -> faiss.Index:
    """The trained index searching every segment's memory-mapped lists as one."""
    with _quiet_stdout():
        index = faiss.read_index(str(directory / trained))
        opened = [faiss.read_index(str(directory / segment["index"]), faiss.IO_FLAG_ONDISK_SAME_DIR) for segment in segments]
    lists = [faiss.extract_index_ivf(segment).invlists for segment in opened]
    if len(lists) == 1:
        stacked = lists[0]
    else:
        pointers = faiss.InvertedListsPtrVector()
        for inverted in lists:
            pointers.push_back(inverted)
        stacked = faiss.HStackInvertedLists(pointers.size(), pointers.data())
        faiss.add_to_referenced_objects(index, pointers)
    ivf = faiss.extract_index_ivf(index)
    ivf.replace_invlists(stacked, False)
    index.ntotal = ivf.ntotal = sum(segment.ntotal for segment in opened)
    for owner in [*opened, stacked]:  # faiss holds raw pointers: keep their owners alive with the index
        faiss.add_to_referenced_objects(index, owner)
    if index.ntotal != count:
        raise RuntimeError(f"segments hold {index.ntotal} vectors, manifest says {count}")
    return index


def _write_index(index: faiss.Index, path: Path) -> None:
    with atomic_path(path, durable=True) as tmp:
        faiss.write_index(index, str(tmp))


def _next_generation(directory: Path) -> int:
    return int(store.read_manifest(directory)["generation"]) + 1 if (directory / store.MANIFEST).exists() else 1


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """faiss prints progress of on-disk lists ("resizing ...") on stdout, where `--json` output goes."""
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
