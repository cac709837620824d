"""Small JPEG previews of indexed photos for the search page, found by item id alone.

The path comes from the index's metadata, never from the request, so no URL can name a file the
index does not hold. Previews are kept in memory under a byte budget (least recently used out
first) and remade when the file on disk changes; the ETag is derived from the file's size and
mtime, so a browser's revalidation costs one `stat`, not a decode.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engine.errors import EngineError
from engine.images import UnreadableImage, load_rgb

MIN_SIZE, MAX_SIZE = 32, 512
JPEG_QUALITY = 85


@dataclass(frozen=True)
class Thumbnail:
    etag: str
    jpeg: bytes


class Thumbnails:
    """JPEG previews of the index's photos, cached up to `budget_bytes`."""

    def __init__(self, metadata, budget_bytes: int = 32 * 2**20) -> None:
        self._metadata = metadata  # a DataFrame, or an on-disk index's PartitionMetadata (read by id)
        if isinstance(metadata, pd.DataFrame):
            self._modality = metadata["modality"].to_numpy(dtype=object)
            self._path = metadata["path"].to_numpy(dtype=object, na_value=None)
        self._budget = budget_bytes
        self._cache: OrderedDict[tuple[int, int], Thumbnail] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def etag(self, item_id: int, size: int) -> str:
        """The current ETag of a preview (raises EngineError like `get`)."""
        path = self._photo(item_id)
        try:
            stat = path.stat()
        except OSError:
            raise EngineError(f"photo {item_id} ({path}) is no longer on disk: it was moved or deleted after indexing") from None
        key = f"{item_id}:{size}:{stat.st_size}:{stat.st_mtime_ns}"
        return '"' + hashlib.sha256(key.encode()).hexdigest()[:20] + '"'

    def get(self, item_id: int, size: int) -> Thumbnail:
        """The preview of photo `item_id`, its longer side at most `size` px (never enlarged)."""
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise EngineError(f"size must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
        etag = self.etag(item_id, size)
        with self._lock:
            cached = self._cache.get((item_id, size))
            if cached is not None and cached.etag == etag:
                self._cache.move_to_end((item_id, size))
                return cached
        made = Thumbnail(etag, self._make(self._photo(item_id), size))
        self._store((item_id, size), made)
        return made

    def _photo(self, item_id: int) -> Path:
        if not 0 <= item_id < len(self._metadata):
            raise EngineError(f"no item {item_id}: ids run from 0 to {len(self._metadata) - 1}")
        if isinstance(self._metadata, pd.DataFrame):
            modality, path = self._modality[item_id], self._path[item_id]
        else:
            row = self._metadata.rows([item_id])[0]
            modality, path = row["modality"], row["path"]
        if modality != "image" or not path:
            raise EngineError(f"item {item_id} is a text, not a photo: it has no thumbnail")
        return Path(path)

    @staticmethod
    def _make(path: Path, size: int) -> bytes:
        try:
            picture = load_rgb(path, min_side=size)  # big JPEGs decode reduced
        except UnreadableImage as error:
            if not path.exists():
                raise EngineError(f"photo {path} is no longer on disk: it was moved or deleted after indexing") from None
            raise EngineError(f"photo {path} can no longer be read: {error}") from None
        picture.thumbnail((size, size))
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=JPEG_QUALITY)
        return buffer.getvalue()

    def _store(self, key: tuple[int, int], made: Thumbnail) -> None:
        if len(made.jpeg) > self._budget:
            return
        with self._lock:
            old = self._cache.pop(key, None)
            if old is not None:
                self._bytes -= len(old.jpeg)
            self._cache[key] = made
            self._bytes += len(made.jpeg)
            while self._bytes > self._budget:
                _, evicted = self._cache.popitem(last=False)
                self._bytes -= len(evicted.jpeg)

    @property
    def cached_bytes(self) -> int:
        return self._bytes
