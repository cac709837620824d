"""Embedding partitions: the collection's vectors and metadata in numbered pieces on disk.

PARTS_DIR/
    pending.json               the run writing partitions here (`partitioned`), to resume it
    vectors-00000.npy          (n, dim) float32 unit rows of partition 0
    metadata-00000.parquet     its n rows: modality, path, text, language, size, mtime

This is clip-retrieval's layout (one `.npy` and one Parquet file per partition), so tools written
for LAION's embeddings read ours. Each file is written atomically and a partition counts as done
once its metadata file exists (written after its vectors), so a build that was killed redoes only
the partitions that are missing. Indexing a partition adds `metadata-NNNNN.arrow`, an Arrow copy
of its metadata that searches memory-map to read rows by id (`PartitionMetadata`); vectors are
memory-mapped too (`PartitionVectors`): neither needs the collection to fit in RAM.
"""

from __future__ import annotations

import hashlib
import json
import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engine.atomic import atomic_path, write_atomic
from engine.errors import EngineError
from engine.index.collect import COLUMNS, Item

PARTITION_ITEMS = 10_000  # items per partition: a lost partition costs minutes of embedding, not hours
ROW_GROUP = 4096  # rows per Parquet row group and Arrow record batch


@dataclass(frozen=True)
class Partition:
    number: int
    count: int
    first_id: int

    @property
    def name(self) -> str:
        return f"{self.number:05d}"


def vectors_path(directory: Path, number: int) -> Path:
    return Path(directory) / f"vectors-{number:05d}.npy"


def metadata_path(directory: Path, number: int) -> Path:
    return Path(directory) / f"metadata-{number:05d}.parquet"


def split(items: list[Item], size: int = PARTITION_ITEMS) -> list[list[Item]]:
    """Items in partitions of `size`, in input order (so ids are the same whichever executor embeds them)."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def digest(items: list[Item], checkpoint_hash: str, size: int) -> str:
    """What a set of partitions was made from: a resumed build reuses them only if this matches."""
    hasher = hashlib.sha256(f"{checkpoint_hash}\n{size}\n".encode())
    for item in items:
        hasher.update(repr(item.key).encode("utf-8", "surrogatepass") + b"\n")
    return hasher.hexdigest()


def remove_from(directory: Path, first: int) -> None:
    """Delete partitions numbered `first` and above (an interrupted run of another job left them)."""
    for stale in [*directory.glob("vectors-*.npy"), *directory.glob("metadata-*.parquet"), *directory.glob("metadata-*.arrow")]:
        if ".tmp-" in stale.name or int(stale.name.split(".")[0].split("-")[1]) >= first:
            stale.unlink()


def write_json(path: Path, value: dict) -> None:
    write_atomic(path, json.dumps(value, indent=1) + "\n", durable=True)


def done(directory: Path, number: int) -> bool:
    return metadata_path(directory, number).exists()


def write(directory: Path, number: int, metadata: pd.DataFrame, vectors: np.ndarray, extra: dict | None = None) -> None:
    """Write one partition: vectors first, metadata last (its presence marks the partition done).
    `extra` (JSON-able, e.g. the skipped items) goes into the Parquet file's key-value metadata."""
    if len(metadata) != len(vectors):
        raise ValueError(f"partition {number}: {len(metadata)} metadata rows for {len(vectors)} vectors")
    Path(directory).mkdir(parents=True, exist_ok=True)
    with atomic_path(vectors_path(directory, number), durable=True) as tmp:
        np.save(tmp, np.ascontiguousarray(vectors, dtype="<f4"))
    table = pa.Table.from_pandas(metadata, preserve_index=False)
    if extra:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **{f"engine.{k}".encode(): json.dumps(v).encode() for k, v in extra.items()}})
    with atomic_path(metadata_path(directory, number), durable=True) as tmp:
        pq.write_table(table, tmp, row_group_size=ROW_GROUP)


def finished(directory: Path) -> list[Partition]:
    """The complete partitions in PARTS_DIR, numbered 0, 1, ... without gaps, with their id ranges."""
    directory = Path(directory)
    numbers = sorted(int(path.stem.split("-")[1]) for path in directory.glob("metadata-*.parquet") if ".tmp-" not in path.name)
    if numbers != list(range(len(numbers))):
        raise EngineError(f"{directory}: partitions {numbers[:5]}... are not numbered 0..{len(numbers) - 1}; finish the build that wrote them")
    parts, first = [], 0
    for number in numbers:
        count = pq.ParquetFile(metadata_path(directory, number)).metadata.num_rows
        parts.append(Partition(number, count, first))
        first += count
    return parts


def read_vectors(directory: Path, partition: Partition) -> np.ndarray:
    """One partition's vectors in RAM (streaming passes over the collection load one at a time)."""
    vectors = np.load(vectors_path(directory, partition.number))
    if len(vectors) != partition.count:
        raise EngineError(f"{vectors_path(directory, partition.number)}: {len(vectors)} vectors for {partition.count} metadata rows")
    return vectors


def column(directory: Path, parts: list[Partition], name: str) -> np.ndarray:
    """One metadata column over all partitions (read column-wise from the Parquet files)."""
    arrays = [pq.read_table(metadata_path(directory, p.number), columns=[name]).column(0).to_numpy(zero_copy_only=False) for p in parts]
    return np.concatenate(arrays) if arrays else np.array([], dtype=object)


def each_vectors(directory: Path, parts: list[Partition]) -> Iterator[tuple[Partition, np.ndarray]]:
    for partition in parts:
        yield partition, read_vectors(directory, partition)


def rows(items: list[Item]) -> pd.DataFrame:
    """A partition's metadata rows. Ids are not stored: an item's id is its row number counted over
    all partitions in order (`finished` gives each partition's first id), so partitions can be
    embedded in any order and on any machine."""
    frame = pd.DataFrame([(item.modality, item.path, item.text, item.language, item.size, item.mtime) for item in items], columns=COLUMNS[1:])
    return frame.astype({"modality": "string", "path": "string", "text": "string", "language": "string", "size": "Int64", "mtime": "float64"})


class PartitionVectors:
    """All partitions' vectors as one read-only (n, dim) array indexed by global id, memory-mapped:
    only the rows asked for are read from disk (exact re-ranking reads ~100 per query)."""

    def __init__(self, directory: Path, parts: list[Partition]) -> None:
        self._maps = [random_access(np.load(vectors_path(directory, p.number), mmap_mode="r")) for p in parts]
        self._starts = np.array([p.first_id for p in parts], dtype=np.int64)
        dim = self._maps[0].shape[1] if self._maps else 0
        self.shape = (sum(p.count for p in parts), dim)
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, ids) -> np.ndarray:
        if np.isscalar(ids):
            return self[np.array([ids])][0]
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) and (ids.min() < 0 or ids.max() >= len(self)):
            raise IndexError(f"vector ids must lie in 0..{len(self) - 1}")
        out = np.empty((len(ids), self.shape[1]), dtype=np.float32)
        which = np.searchsorted(self._starts, ids, side="right") - 1
        for part in np.unique(which):
            rows = which == part
            local = ids[rows] - self._starts[part]
            out[rows] = self._maps[part][local]
            release_rows(self._maps[part], local)
        return out


class PartitionMetadata:
    """The partitions' metadata, read by id from memory-mapped Arrow files (never the whole table).

    Parquet is the interchange format, but reading one row means decoding its whole row group
    (0.45 ms a row here); the Arrow IPC copy (`arrow_path`, written when the partition is indexed)
    is read in place through a memory map (0.02 ms a row), and only the pages touched are read.
    """

    def __init__(self, directory: Path, parts: list[Partition]) -> None:
        self._directory = Path(directory)
        self._parts = parts
        self._starts = np.array([p.first_id for p in parts], dtype=np.int64)
        self._tables: dict[int, pa.Table] = {}
        self._maps: dict[int, mmap.mmap] = {}
        self.total = sum(p.count for p in parts)

    def __len__(self) -> int:
        return self.total

    def rows(self, ids) -> list[dict]:
        """Metadata rows (dicts) of `ids`, in the order given."""
        ids = np.asarray(ids, dtype=np.int64)
        which = np.searchsorted(self._starts, ids, side="right") - 1
        found = [{"id": int(item), **self._table(int(part)).slice(int(item - self._starts[part]), 1).to_pylist()[0]} for item, part in zip(ids, which)]
        for part in set(which.tolist()):
            release(self._maps[part])
        return found

    def column(self, name: str) -> np.ndarray:
        """One whole column (e.g. modality, for a filter), as numpy."""
        return np.concatenate([self._table(part).column(name).to_numpy(zero_copy_only=False) for part in range(len(self._parts))] or [np.array([])])

    def _table(self, part: int) -> pa.Table:
        if part not in self._tables:
            with open(arrow_path(self._directory, self._parts[part].number), "rb") as handle:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            mapped.madvise(mmap.MADV_RANDOM)
            self._tables[part] = pa.ipc.open_file(pa.py_buffer(mapped)).read_all()  # zero-copy: rows stay on disk
            self._maps[part] = mapped
            release(mapped)  # opening the file touched its record batches
        return self._tables[part]


def random_access(array: np.memmap) -> np.memmap:
    """Tell the kernel not to read ahead: a search reads scattered rows, and the default read-ahead
    (128 KB around each) made a 1M-vector serving process hold 0.7 GB of file pages it never used."""
    if isinstance(array, np.memmap) and array._mmap is not None:
        array._mmap.madvise(mmap.MADV_RANDOM)
    return array


def release_rows(array: np.memmap, rows: np.ndarray, window: int = 65_536) -> None:
    """`release` only the fault-around windows (64 KB, aligned) holding `rows`: a whole 77 MB map
    a partition made each query walk ~20k page-table entries per partition it touched."""
    if not isinstance(array, np.memmap) or array._mmap is None:
        return
    start = array.offset % mmap.ALLOCATIONGRANULARITY
    size = array.strides[0]
    for first in np.unique((start + rows * size) // window):
        length = min(window * 2, len(array._mmap) - first * window)
        array._mmap.madvise(mmap.MADV_DONTNEED, int(first * window), int(length))


def release(array: np.memmap | mmap.mmap) -> None:
    """Unmap the pages a read touched from this process (MADV_DONTNEED; the file and the page cache
    keep them). Even without read-ahead the kernel maps up to 64 KB of cached pages around each
    fault, so 1,000 queries of ~90 re-ranked rows left a 10M-vector serving process with 5.4 GB
    resident; released after each read, the process holds only what it is reading."""
    mapped = array._mmap if isinstance(array, np.memmap) else array
    if mapped is not None and len(mapped):
        mapped.madvise(mmap.MADV_DONTNEED)


def arrow_path(directory: Path, number: int) -> Path:
    return Path(directory) / f"metadata-{number:05d}.arrow"


def write_arrow(directory: Path, number: int) -> None:
    """The memory-mappable Arrow copy of a partition's metadata (kept beside the Parquet file)."""
    if arrow_path(directory, number).exists():
        return
    table = pq.read_table(metadata_path(directory, number))
    with atomic_path(arrow_path(directory, number), durable=True) as tmp:
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=ROW_GROUP)
