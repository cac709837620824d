"""Embedding a collection into partitions, with one local process or on a Ray cluster.

The work is cut into units of one model batch each (`units`). A unit passes through two stages:
a CPU stage that decodes its photos or renders its texts (`units.prepare`), then the model
(`units.encode`). Both executors run exactly these two functions on exactly these units, so they
produce the same vectors:

- local: a pool of forked processes prepares units while this process encodes them;
- ray: Ray Data prepares units in CPU actors and encodes them in model actors (`map_batches`),
  on a local cluster of `workers` processes or on the cluster at `--address` (`ray_embed`).

A partition is written (atomically) as soon as all its units are back; a killed build, run
again on the same items, skips the partitions already on disk.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
from tqdm import tqdm

from engine.index import partitions
from engine.index.collect import Item, Skipped
from engine.index.embed import UNSTORABLE, is_utf8
from engine.index.units import encode, prepare, units_of

EXECUTORS = ("local", "ray")
PENDING = "pending.json"


@dataclass
class Job:
    """The partitions one build or add embeds: their folder, the first partition number, their items."""

    directory: Path
    first: int
    parts: list[list[Item]]
    digest: str


def plan_job(directory: Path, items: list[Item], checkpoint_hash: str, first: int = 0, size: int = partitions.PARTITION_ITEMS) -> tuple[Job, list[Skipped]]:
    """Split the storable items into partitions numbered from `first`; items UTF-8 cannot store are skipped."""
    skipped = [Skipped(item.label, UNSTORABLE[item.modality]) for item in items if not is_utf8(item.label)]
    storable = [item for item in items if is_utf8(item.label)]
    return Job(Path(directory), first, partitions.split(storable, size), partitions.digest(storable, checkpoint_hash, size)), skipped


def run(job: Job, model: Path, encoder, executor: str = "local", workers: int | None = None, address: str | None = None) -> list[Skipped]:
    """Embed the job's missing partitions and write them; returns every item the job skipped."""
    _prepare_folder(job)
    missing = [job.first + i for i in range(len(job.parts)) if not partitions.done(job.directory, job.first + i)]
    units = [unit for number in missing for unit in units_of(number, job.parts[number - job.first])]
    assembler = Assembler(job, units)
    total = sum(len(job.parts[number - job.first]) for number in missing)
    with tqdm(total=total, desc=f"embedding ({executor})", unit="item", dynamic_ncols=True) as bar:
        results = _local(encoder, units, workers) if executor == "local" else _ray(model, units, workers, address)
        for result in results:
            assembler.add(result)
            bar.update(len(result["kept"]) + len(result["skipped"]))
    return [skip for number in range(job.first, job.first + len(job.parts)) for skip in skipped_in(job.directory, number)]


class Assembler:
    """Collects encoded units and writes each partition once all of its units are back."""

    def __init__(self, job: Job, units: list[dict]) -> None:
        self.job = job
        self.expected: dict[int, int] = {}
        for unit in units:
            self.expected[unit["partition"]] = self.expected.get(unit["partition"], 0) + 1
        self.received: dict[int, list[dict]] = {}

    def add(self, result: dict) -> None:
        number = result["partition"]
        self.received.setdefault(number, []).append(result)
        if len(self.received[number]) == self.expected[number]:
            self._write(number, sorted(self.received.pop(number), key=lambda unit: unit["seq"]))

    def _write(self, number: int, units: list[dict]) -> None:
        items = self.job.parts[number - self.job.first]
        kept = [items[row] for unit in units for row in unit["kept"]]
        vectors = np.concatenate([unit["vectors"] for unit in units])
        skipped = [pair for unit in units for pair in unit["skipped"]]
        partitions.write(self.job.directory, number, partitions.rows(kept), vectors, extra={"skipped": skipped})


def skipped_in(directory: Path, number: int) -> list[Skipped]:
    """The items a finished partition left out, with their reasons (kept in its Parquet metadata)."""
    meta = pq.read_schema(partitions.metadata_path(directory, number)).metadata or {}
    return [Skipped(item, reason) for item, reason in json.loads(meta.get(b"engine.skipped", b"[]"))]


def _prepare_folder(job: Job) -> None:
    """Keep partitions of an interrupted run of this same job; drop those of any other."""
    job.directory.mkdir(parents=True, exist_ok=True)
    pending = job.directory / PENDING
    plan = {"first": job.first, "partitions": len(job.parts), "digest": job.digest}
    if pending.exists() and json.loads(pending.read_text(encoding="utf-8")) == plan:
        return
    partitions.remove_from(job.directory, job.first)
    partitions.write_json(pending, plan)


# -- the local executor ---------------------------------------------------------------------------

_ENCODER = None  # the forked preparing processes' encoder (inherited, never pickled)


def _local(encoder, units: list[dict], workers: int | None) -> Iterator[dict]:
    """Prepare in forked processes (in order), encode here."""
    global _ENCODER
    workers = (multiprocessing.cpu_count() or 1) if workers is None else workers
    if workers <= 0 or len(units) < 2:
        yield from (encode(prepare(unit, encoder), encoder) for unit in units)
        return
    _ENCODER = encoder
    threads = torch.get_num_threads()
    # The preparing processes take `workers` cores: the model here gets the rest (at least one).
    # Oversubscribed, torch's OpenMP threads wait on each other (text units ran ~10x slower).
    torch.set_num_threads(max(1, min(threads, (multiprocessing.cpu_count() or 1) - workers)))
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from (encode(prepared, encoder) for prepared in pool.imap(_prepare_forked, units))
    finally:
        torch.set_num_threads(threads)


def _prepare_forked(unit: dict) -> dict:
    torch.set_num_threads(1)
    return prepare(unit, _ENCODER)


def _ray(model: Path, units: list[dict], workers: int | None, address: str | None) -> Iterable[dict]:
    from engine.index.ray_embed import embed_on_ray

    return embed_on_ray(model, units, workers, address)
