"""`engine index build` and `engine index add`: embed items, choose and tune the index, commit.

Both end in the same place (`_commit`): pick the faiss index for the new total, tune it to the
recall target, and write a new generation atomically. `add` reuses the trained index when its
kind still suits the grown collection and retrains from the stored vectors when it does not
(e.g. crossing the exact-search limit), so a collection can grow one folder at a time.

With `--executor local|ray` a build embeds into partitions first (`partitioned`: resumable,
and on Ray distributable), then builds the index from them: an in-memory one as above, or with
`--ondisk` an IVF-PQ whose lists and vectors stay on disk (`ondisk`), for collections larger
than RAM. `add` to an on-disk index embeds new partitions and adds them as a new segment.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import faiss
import numpy as np
import pandas as pd

from engine.errors import EngineError
from engine.index import ondisk, partitioned, partitions, store
from engine.index.collect import COLUMNS, Item, Skipped, unique_new
from engine.index.embed import embed_items
from engine.index.factory import RECALL_TARGET, build_faiss, plan_index, tune
from engine.index.search import load_stored, open_encoder

RETRAIN_GROWTH = 4  # an IVF trained on N vectors is retrained once the collection exceeds 4N


@dataclass
class Report:
    """What one build/add did: the manifest now live, items added, items skipped (with reasons)."""

    manifest: dict
    added: int
    skipped: list[Skipped]
    seconds: float


def build(
    out: Path,
    model: Path,
    items: list[Item],
    skipped: list[Skipped],
    factory: str | None = None,
    memory_budget: int | None = None,
    workers: int | None = None,
    executor: str | None = None,
    address: str | None = None,
    on_disk: bool = False,
    partition_size: int = partitions.PARTITION_ITEMS,
) -> Report:
    """A new index of `items` in `out` (replacing any index there only once the new one is complete).

    `executor` ("local" or "ray") embeds through resumable partitions; `on_disk` needs it."""
    import engine

    store.check_writable(out)
    started = time.perf_counter()
    encoder = engine.load(model)
    with store.writer_lock(out):
        checkpoint = {
            "path": str(Path(model).resolve()),
            "hash": encoder.checkpoint_hash,
            "font_fingerprint": encoder.font_fingerprint,
            "kind": encoder.model.kind,
            "model": encoder.config["model"]["name"],
        }
        base = {"checkpoint": checkpoint, "dim": encoder.dim, "built_at": _now(), "skipped": [], "history": []}
        if executor is not None:
            fresh = unique_new(items, set())
            job, unstorable = partitioned.plan_job(out, fresh, encoder.checkpoint_hash, size=partition_size)
            job.directory = Path(out) / f"{store.PARTS}-{job.digest[:12]}"  # a rerun of the same build resumes there
            skipped = skipped + unstorable + partitioned.run(job, model, encoder, executor, workers, address)
            return _index_partitions(out, job.directory, skipped, base, factory, memory_budget, executor, on_disk, started)
        embedded = embed_items(encoder, unique_new(items, set()), workers)
        if not embedded.items:
            raise EngineError("nothing to index: no readable images or texts were found" + _first_reasons(skipped + embedded.skipped))
        return _commit(out, base, _rows(embedded.items, 0), embedded.vectors, None, factory, memory_budget, skipped + embedded.skipped, "build", started)


def _index_partitions(out: Path, folder: Path, skipped, base: dict, factory, memory_budget, executor: str, on_disk: bool, started: float) -> Report:
    """The index of the embedding partitions in `folder`: on disk, or in memory as `build` makes it."""
    parts = partitions.finished(folder)
    if not sum(p.count for p in parts):
        raise EngineError("nothing to index: no readable images or texts were found" + _first_reasons(skipped))
    if on_disk:
        manifest = {**base, "counts": _counts(folder, parts), "skipped": [{"item": s.item, "reason": s.reason} for s in skipped]}
        manifest["history"] = [{"operation": "build", "at": _now(), "added": sum(p.count for p in parts), "executor": executor}]
        manifest = ondisk.build(out, manifest, folder.name, factory)
        return Report(manifest, manifest["count"], skipped, time.perf_counter() - started)
    metadata = pd.concat([pd.read_parquet(partitions.metadata_path(folder, p.number)) for p in parts], ignore_index=True)
    metadata.insert(0, "id", np.arange(len(metadata), dtype=np.int64))
    vectors = np.concatenate([vectors for _, vectors in partitions.each_vectors(folder, parts)])
    return _commit(out, base, metadata.astype(_rows([], 0).dtypes.to_dict()), vectors, None, factory, memory_budget, skipped, "build", started)


def _counts(directory: Path, parts: list) -> dict:
    modality = partitions.column(directory, parts, "modality")
    return {"image": int((modality == "image").sum()), "text": int((modality == "text").sum())}


def add(
    directory: Path,
    items: list[Item],
    skipped: list[Skipped],
    model: Path | None = None,
    workers: int | None = None,
    executor: str | None = None,
    address: str | None = None,
    partition_size: int = partitions.PARTITION_ITEMS,
) -> Report:
    """Append the items not already in the index (same image path and mtime, or same text)."""
    started = time.perf_counter()
    with store.writer_lock(directory):
        current = load_stored(directory)
        if current.manifest.get("layout") == "ondisk":
            return _add_ondisk(current, items, skipped, model, workers, executor or "local", address, partition_size, started)
        encoder = open_encoder(current.manifest, model)
        rows = zip(current.metadata["modality"], current.metadata["path"], current.metadata["mtime"], current.metadata["text"])
        known = {("image", path, mtime) if kind == "image" else ("text", text) for kind, path, mtime, text in rows}
        embedded = embed_items(encoder, unique_new(items, known), workers)
        all_skipped = skipped + embedded.skipped
        if not embedded.items:
            return Report(current.manifest, 0, all_skipped, time.perf_counter() - started)
        metadata = pd.concat([current.metadata, _rows(embedded.items, len(current.metadata))], ignore_index=True)
        vectors = np.concatenate([current.vectors, embedded.vectors])
        return _commit(directory, current.manifest, metadata, vectors, current, None, None, all_skipped, "add", started)


def _add_ondisk(current: store.Stored, items, skipped, model, workers, executor, address, partition_size, started) -> Report:
    """New partitions after the indexed ones, added as a new segment; nothing already there is rewritten."""
    encoder = open_encoder(current.manifest, model)
    columns = {name: current.metadata.column(name) for name in ("modality", "path", "mtime", "text")}
    known = {("image", path, mtime) if kind == "image" else ("text", text) for kind, path, mtime, text in zip(*columns.values())}
    fresh = unique_new(items, known)
    manifest = current.manifest
    job, unstorable = partitioned.plan_job(
        ondisk.parts_dir(current.directory, manifest), fresh, encoder.checkpoint_hash, manifest["partitions"], partition_size
    )
    skipped = skipped + unstorable + partitioned.run(job, Path(model or manifest["checkpoint"]["path"]), encoder, executor, workers, address)
    parts = partitions.finished(job.directory)
    before = manifest["count"]
    counts = _counts(job.directory, parts)
    reported = [{"item": s.item, "reason": s.reason} for s in skipped]
    entry = {"operation": "add", "at": _now(), "added": sum(p.count for p in parts) - before, "skipped": len(reported), "executor": executor}
    manifest = {**manifest, "counts": counts, "updated_at": _now(), "skipped": manifest["skipped"] + reported, "history": manifest["history"] + [entry]}
    manifest = ondisk.add(current.directory, manifest)
    return Report(manifest, manifest["count"] - before, skipped, time.perf_counter() - started)


def _commit(
    directory: Path,
    manifest: dict,
    metadata: pd.DataFrame,
    vectors: np.ndarray,
    current: store.Stored | None,
    factory: str | None,
    memory_budget: int | None,
    skipped: list[Skipped],
    operation: str,
    started: float,
) -> Report:
    """Choose/extend the faiss index, tune it, and write the new generation."""
    previous = manifest.get("index", {})
    index, spec = _index_for(vectors, current, previous, factory, memory_budget)
    knobs, recall = tune(index, vectors)
    counts = metadata["modality"].value_counts().to_dict()
    seconds = time.perf_counter() - started
    added = len(metadata) - (len(current.metadata) if current else 0)
    reported = [{"item": s.item, "reason": s.reason} for s in skipped]
    manifest = {
        **{key: value for key, value in manifest.items() if key not in ("format", "format_version", "generation", "files")},
        "count": len(metadata),
        "counts": {"image": int(counts.get("image", 0)), "text": int(counts.get("text", 0))},
        "index": {**spec, "knobs": knobs, "recall_at_10": round(recall, 4), "recall_target": RECALL_TARGET},
        "updated_at": _now(),
        "skipped": manifest.get("skipped", []) + reported,
        "history": manifest.get("history", [])
        + [{"operation": operation, "at": _now(), "added": added, "skipped": len(reported), "seconds": round(seconds, 2)}],
    }
    return Report(store.commit(directory, manifest, index, metadata, vectors), added, skipped, seconds)


def _index_for(vectors: np.ndarray, current: store.Stored | None, previous: dict, factory: str | None, memory_budget: int | None) -> tuple[faiss.Index, dict]:
    """Extend the current faiss index where it still suits the collection, else build a new one."""
    n, dim = vectors.shape
    if current is not None:
        factory, memory_budget = (None if previous["auto"] else previous["factory"]), previous.get("memory_budget")
        plan = plan_index(n, dim, memory_budget)
        same_kind = factory is not None or _kind(plan.factory) == _kind(previous["factory"])
        if same_kind and n <= RETRAIN_GROWTH * previous["trained_on"]:
            index = current.index
            index.add(np.ascontiguousarray(vectors[current.index.ntotal :], dtype=np.float32))
            return index, previous
    plan = plan_index(n, dim, memory_budget) if factory is None else None
    chosen = factory or plan.factory
    index = build_faiss(vectors, chosen)
    spec = {"factory": chosen, "why": plan.why if plan else "--factory", "auto": factory is None, "memory_budget": memory_budget, "trained_on": n}
    return index, spec


def _kind(factory: str) -> str:
    """'IVF4000,Flat' -> 'IVF,Flat': the index structure without its sizes."""
    return re.sub(r"\d+", "", factory)


def _rows(items: list[Item], first_id: int) -> pd.DataFrame:
    """Metadata rows for `items`, ids counting from `first_id` (ids are row numbers and faiss ids)."""
    frame = pd.DataFrame([(item.modality, item.path, item.text, item.language, item.size, item.mtime) for item in items], columns=COLUMNS[1:])
    frame.insert(0, "id", np.arange(first_id, first_id + len(items), dtype=np.int64))
    return frame.astype({"modality": "string", "path": "string", "text": "string", "language": "string", "size": "Int64", "mtime": "float64"})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _first_reasons(skipped: list[Skipped]) -> str:
    return "".join(f"\n  skipped {s.item}: {s.reason}" for s in skipped[:5])
