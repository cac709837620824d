"""Streamed training sources: WebDataset photo/caption shards and text-pair tables, read one shard at a time.

`--data shards:urls=shards/{00000..00999}.tar` names tar shards in the img2dataset / open_clip
layout: each sample is `KEY.jpg` (or .jpeg/.png/.webp) with `KEY.txt` and/or `KEY.json`
({"caption": ..., "language": ...}; `engine shards write` adds "captions": [{"caption", "language"}, ...]
holding every caption of the photo). `--data pair-shards:path=pairs/{000..099}.parquet` names text-pair
tables (TSV/CSV or Parquet; a Parquet row group is a shard of its own).

Unlike `engine.train.data`'s sources, these build no pool: they list their shards and read one
when asked, so memory does not grow with the collection. `engine.train.streaming` decides which
shard each process and worker reads, in which order, and where a resumed run picks up.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import EngineError
from engine.train.data import register_source

IMAGE_SUFFIXES = ("jpg", "jpeg", "png", "webp")


class CorruptSample(Exception):
    """A sample that cannot be used (no photo, an undecodable photo, no caption, bad JSON): skipped and counted."""


def expand_urls(urls: str) -> list[str]:
    """Shard paths from `+`-separated items, each a file, a folder (its *.tar) or a brace pattern (`{000..099}`)."""
    from braceexpand import braceexpand  # a webdataset dependency

    found: list[str] = []
    for item in filter(None, urls.split("+")):
        path = Path(item)
        if path.is_dir():
            found += sorted(str(p) for p in path.glob("*.tar"))
        else:
            found += list(braceexpand(item))
    if not found:
        raise EngineError(f"no shards in {urls!r}")
    missing = [url for url in found if "://" not in url and not url.startswith("pipe:") and not Path(url).exists()]
    if missing:
        raise EngineError(f"{len(missing)} of {len(found)} shard(s) not found, e.g. {missing[0]}")
    return found


def _webdataset():
    try:
        import webdataset
    except ImportError:
        raise EngineError("streamed shards need the webdataset library: bash scripts/install_extras streaming") from None
    return webdataset


@dataclass(frozen=True)
class PhotoShards:
    """Photo/caption tar shards; a sample decodes to (pixels, [(caption, language), ...])."""

    shards: tuple[str, ...]
    lang: str = "und"  # language of a caption whose sample does not say

    def read(self, shard: str) -> Iterator[dict]:
        """The raw samples of one shard ({"__key__", "jpg", "txt", ...} of bytes), in tar order.

        A truncated or unreadable tar raises (tarfile.ReadError, OSError, ...) after its good samples.
        """
        from webdataset.tariterators import group_by_keys, tar_file_iterator

        wds = _webdataset()
        with wds.gopen(shard, "rb") as stream:
            files = ({**item, "__url__": shard} for item in tar_file_iterator(stream))
            yield from group_by_keys(files)

    def decode(self, raw: dict, size: int) -> tuple[np.ndarray, list[tuple[str, str]]]:
        """(3, size, size) uint8 pixels, decoded as the in-memory cache decodes a file, and the captions; raises CorruptSample."""
        from engine.images import UnreadableImage, load_rgb
        from engine.model.inputs import image_pixels

        captions = self.captions(raw)
        data = next((raw[s] for s in IMAGE_SUFFIXES if s in raw), None)
        if data is None:
            raise CorruptSample(f"{raw.get('__key__')}: no photo")
        try:
            return image_pixels(load_rgb(data, min_side=size), size), captions
        except UnreadableImage as error:
            raise CorruptSample(f"{raw.get('__key__')}: {error}") from None

    def captions(self, raw: dict) -> list[tuple[str, str]]:
        try:
            meta = json.loads(raw["json"]) if "json" in raw else {}
            if not isinstance(meta, dict):
                raise ValueError("not an object")
            found = [(str(c["caption"]), str(c.get("language") or self.lang)) for c in meta.get("captions", [])]
            if not found and meta.get("caption"):
                found = [(str(meta["caption"]), str(meta.get("language") or self.lang))]
            if not found and "txt" in raw:
                found = [(raw["txt"].decode("utf-8"), str(meta.get("language") or self.lang))]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
            raise CorruptSample(f"{raw.get('__key__')}: bad caption ({error})") from None
        found = [(text, lang) for text, lang in found if text.strip()]
        if not found:
            raise CorruptSample(f"{raw.get('__key__')}: no caption")
        return found


@dataclass(frozen=True)
class PairShards:
    """Text-pair tables read a shard at a time: (file, row group) for Parquet, a whole file for TSV/CSV."""

    shards: tuple[tuple[str, int], ...]
    left_col: str | None = None  # default: "left" where there is one, else the first column
    right_col: str | None = None  # default: "right" where there is one, else the second column
    lang: str = "und"  # language of the left text, unless the row has a "lang" column
    right_lang: str = "en"  # unless the row has a "right_lang" column

    def read(self, shard: tuple[str, int]) -> Iterator[dict]:
        path, group = shard
        if path.endswith(".parquet"):
            import pyarrow.parquet as pq

            rows = pq.ParquetFile(path).read_row_group(group).to_pylist()
            yield from rows
            return
        with open(path, encoding="utf-8", newline="") as handle:
            yield from csv.DictReader(handle, delimiter="\t" if path.endswith((".tsv", ".tab")) else ",", quoting=csv.QUOTE_NONE)

    def decode(self, row: dict) -> tuple[str, str, str, str]:
        """(left, right, lang, right_lang); raises CorruptSample for a short row or an empty text."""
        columns = list(row)
        try:
            left = row[self.left_col or ("left" if "left" in row else columns[0])]
            right = row[self.right_col or ("right" if "right" in row else columns[1])]
        except (KeyError, IndexError) as error:
            raise CorruptSample(f"row without column {error}") from None
        if not isinstance(left, str) or not isinstance(right, str) or not left.strip() or not right.strip():
            raise CorruptSample("empty or missing text")
        return left, right, str(row.get("lang") or self.lang), str(row.get("right_lang") or self.right_lang)


@register_source("shards")
def shards(urls: str, lang: str = "und") -> PhotoShards:
    """WebDataset photo/caption shards, streamed (paths, folders or brace patterns joined by '+')."""
    _webdataset()
    return PhotoShards(tuple(expand_urls(urls)), lang)


@register_source("pair-shards")
def pair_shards(path: str, left_col: str | None = None, right_col: str | None = None, lang: str = "und", right_lang: str = "en") -> PairShards:
    """Text-pair tables (TSV/CSV, Parquet), streamed; files given like `shards` urls."""
    from braceexpand import braceexpand

    _webdataset()
    units: list[tuple[str, int]] = []
    for item in filter(None, path.split("+")):
        for name in braceexpand(item):
            if not Path(name).is_file():
                raise EngineError(f"pair-shards: {name}: no such file")
            if name.endswith(".parquet"):
                import pyarrow.parquet as pq

                units += [(name, group) for group in range(pq.ParquetFile(name).metadata.num_row_groups)]
            else:
                units.append((name, 0))
    if not units:
        raise EngineError(f"pair-shards: no files in {path!r}")
    return PairShards(tuple(units), left_col, right_col, lang, right_lang)


Stream = PhotoShards | PairShards
