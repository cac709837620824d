"""`engine.open_index(path).search("...")`: queries in, a pandas DataFrame of hits out.

The index remembers which checkpoint embedded it (path, weights hash, font fingerprint). A query
embedded by any other model, or text rendered with other fonts, would land in a different space
and return confident nonsense, so opening checks both and refuses a mismatch with a clear error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from engine.errors import EngineError
from engine.index import ondisk, store
from engine.index.ann import VectorSearch, faiss_threads
from engine.index.embed import encode_images, encode_texts
from engine.images import UnreadableImage, load_rgb

MODALITIES = ("any", "image", "text")


@contextmanager
def one_thread() -> Iterator[None]:
    """Answer one query on one thread (torch and faiss), restoring the settings afterwards.

    A single query gains little from a second thread, and on a busy machine spinning OpenMP
    threads wait for each other, which made queries many times slower (docs/reference.md).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with faiss_threads(1):
            yield
    finally:
        torch.set_num_threads(before)


def open_encoder(manifest: dict, model: str | Path | None = None):
    """The checkpoint the index was built with (or `model`), verified against the manifest."""
    import engine

    recorded = manifest["checkpoint"]
    path = Path(model) if model else Path(recorded["path"])
    if not model and not path.exists():
        raise EngineError(f"the index was built with checkpoint {path}, which is gone; pass --model with a copy of it")
    encoder = engine.load(path)
    if encoder.checkpoint_hash != recorded["hash"]:
        raise EngineError(
            f"checkpoint {path} (weights sha256 {encoder.checkpoint_hash[:12]}) is not the one this index was built with "
            f"({recorded['hash'][:12]}, {recorded['path']}): its vectors live in another space; use that checkpoint or rebuild"
        )
    if encoder.font_fingerprint != recorded["font_fingerprint"]:
        raise EngineError(
            f"font fingerprint {str(encoder.font_fingerprint)[:12]} of {path} differs from the index's "
            f"{str(recorded['font_fingerprint'])[:12]}: text would render differently than at build time; rebuild the index"
        )
    return encoder


class Index:
    """An opened index: search by text, by picture, by vector, or by an item already in it."""

    def __init__(self, stored: store.Stored, encoder) -> None:
        self.directory = stored.directory
        self.manifest = stored.manifest
        self.metadata = stored.metadata
        self.encoder = encoder
        self._vectors = VectorSearch(stored.index, stored.vectors, stored.manifest["index"]["knobs"])
        self._masks: dict[str, np.ndarray] = {}
        if isinstance(self.metadata, pd.DataFrame):  # plain arrays for the result columns: per-query
            # pandas indexing cost more than the search
            self._modality = self.metadata["modality"].to_numpy(dtype=object)
            self._item = np.where(self._modality == "image", self.metadata["path"].to_numpy(dtype=object), self.metadata["text"].to_numpy(dtype=object))
            self._language = self.metadata["language"].to_numpy(dtype=object, na_value=None)
            self._masks = {name: self._modality == name for name in ("image", "text")}

    def __len__(self) -> int:
        return len(self.metadata)

    def search(self, query: str | Path | Image.Image, k: int = 10, modality: str = "any") -> pd.DataFrame:
        """Hits for a text (str) or a picture (PIL image or Path to a file), best first."""
        if isinstance(query, str):
            return self.search_text(query, k, modality)
        if isinstance(query, (Path, Image.Image)):
            return self.search_image(query, k, modality)
        raise EngineError(f"search() takes a str (text) or a Path / PIL image (picture), not {type(query).__name__}")

    def search_text(self, text: str, k: int = 10, modality: str = "any") -> pd.DataFrame:
        with one_thread():
            return self.search_vector(encode_texts(self.encoder, [text])[0], k, modality)

    def search_image(self, image: str | Path | bytes | Image.Image, k: int = 10, modality: str = "any") -> pd.DataFrame:
        try:
            picture = image if isinstance(image, Image.Image) else load_rgb(image, min_side=self.encoder.model.config.image_size)
        except UnreadableImage as error:
            raise EngineError(f"cannot read the query image: {error}") from None
        with one_thread():
            return self.search_vector(encode_images(self.encoder, [picture])[0], k, modality)

    def search_similar(self, item_id: int, k: int = 10, modality: str = "any") -> pd.DataFrame:
        """Items nearest to item `item_id` (itself left out)."""
        hits = self.search_vector(self.vector(item_id), k + 1, modality)
        hits = hits[hits["id"] != item_id].head(k).reset_index(drop=True)
        hits["rank"] = np.arange(1, len(hits) + 1)
        return hits

    def search_vector(self, vector: np.ndarray, k: int = 10, modality: str = "any") -> pd.DataFrame:
        if modality not in MODALITIES:
            raise EngineError(f"modality {modality!r}: choose one of {', '.join(MODALITIES)}")
        if k < 1:
            raise EngineError(f"k must be at least 1, got {k}")
        allowed = self._mask(modality)
        with one_thread():
            scores, ids = self._vectors.search(np.asarray(vector, dtype=np.float32)[None, :], k, allowed)
        found = ids[0][ids[0] >= 0]
        hits = pd.DataFrame({"rank": np.arange(1, len(found) + 1), "score": scores[0][: len(found)], "id": found})
        if isinstance(self.metadata, pd.DataFrame):
            return hits.assign(modality=self._modality[found], item=self._item[found], language=self._language[found])
        rows = self.metadata.rows(found)  # an on-disk index: only the hits' rows are read
        items = [row["path"] if row["modality"] == "image" else row["text"] for row in rows]
        return hits.assign(modality=[row["modality"] for row in rows], item=items, language=[row["language"] for row in rows])

    def _mask(self, modality: str) -> np.ndarray | None:
        """Which ids a modality filter lets through (None: all); an on-disk index reads the column once."""
        if modality == "any":
            return None
        if modality not in self._masks:
            self._masks[modality] = self.metadata.column("modality") == modality
        return self._masks[modality]

    def vector(self, item_id: int) -> np.ndarray:
        """The stored embedding of item `item_id`."""
        self.item(item_id)
        return np.asarray(self._vectors.vectors[item_id], dtype=np.float32)

    def item(self, item_id: int) -> dict:
        """One row of metadata as a plain dict (None for empty cells)."""
        if not 0 <= item_id < len(self.metadata):
            raise EngineError(f"no item {item_id}: ids run from 0 to {len(self.metadata) - 1}")
        if isinstance(self.metadata, pd.DataFrame):
            return _plain(self.metadata.iloc[item_id].to_dict())
        return _plain(self.metadata.rows([item_id])[0])


def records(hits: pd.DataFrame) -> list[dict]:
    """Hits as JSON-ready dicts (for --json and the HTTP API)."""
    return [_plain(row) for row in hits.to_dict("records")]


def _plain(row: dict) -> dict:
    """numpy/pandas scalars -> Python ones, missing values -> None."""
    return {key: None if pd.isna(value) else value.item() if hasattr(value, "item") else value for key, value in row.items()}


def load_stored(path: str | Path) -> store.Stored:
    """The live generation of INDEX_DIR, in memory (`store`) or memory-mapped on disk (`ondisk`)."""
    if store.read_manifest(Path(path)).get("layout") == "ondisk":
        return ondisk.load(Path(path), store.read_manifest(Path(path)))
    return store.load(Path(path))


def open_index(path: str | Path, model: str | Path | None = None) -> Index:
    """Open INDEX_DIR for searching with the checkpoint recorded in it (or `model`, if it matches)."""
    stored = load_stored(path)
    return Index(stored, open_encoder(stored.manifest, model))
