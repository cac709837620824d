"""Items -> vectors: photos decoded in worker processes, everything encoded in batches.

Decoding a photo (JPEG/PNG/TIFF decompression, mode conversion, resizing) costs about as much as
encoding it with a small model, so worker processes decode while the main process runs the
model. A photo that cannot be decoded is skipped with its reason; it never stops the build.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from engine.index.collect import Item, Skipped
from engine.images import UnreadableImage
from engine.model.inputs import image_pixels
from engine.model.precision import cpu_has_native_bf16

IMAGE_BATCH = 64
TEXT_BATCH = 256
POOL_MIN = 32  # fewer photos than this are decoded in-process
UNSTORABLE = {"image": "file name is not valid UTF-8; rename the file to index it", "text": "text is not valid Unicode (it holds a lone surrogate)"}


@dataclass
class Embedded:
    items: list[Item]  # the items that were embedded, in input order (images first, then texts)
    vectors: np.ndarray  # (len(items), dim) float32, unit rows
    skipped: list[Skipped]


def encode_texts(encoder, texts: Sequence[str]) -> np.ndarray:
    """Texts -> unit vectors (bf16 autocast where the CPU has it natively, as in training)."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cpu_has_native_bf16()):
        return encoder.encode_texts(list(texts), batch_size=TEXT_BATCH)


def encode_images(encoder, images: Sequence[Image.Image]) -> np.ndarray:
    """Decoded pictures -> unit vectors (bf16 autocast as above; the encoder resizes them)."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cpu_has_native_bf16()):
        return encoder.encode_images(list(images), batch_size=IMAGE_BATCH)


def embed_items(encoder, items: Sequence[Item], workers: int | None = None) -> Embedded:
    """Embed photos then texts with one progress bar; undecodable photos land in `skipped`, and so
    do items the UTF-8 metadata cannot store (non-UTF-8 file names, texts with lone surrogates)."""
    skipped = [Skipped(item.label, UNSTORABLE[item.modality]) for item in items if not is_utf8(item.label)]
    photos = [item for item in items if item.modality == "image" and is_utf8(item.path)]
    texts = [item for item in items if item.modality == "text" and is_utf8(item.text)]
    kept: list[Item] = []
    parts: list[np.ndarray] = []
    with tqdm(total=len(items), desc="embedding", unit="item", dynamic_ncols=True) as bar:
        batch: list[tuple[Item, Image.Image]] = []
        for item, pixels, reason in _decoded(photos, encoder.model.config.image_size, workers):
            if pixels is None:
                skipped.append(Skipped(item.path, reason))
                bar.update(1)
            else:
                batch.append((item, Image.fromarray(pixels.transpose(1, 2, 0))))
            if len(batch) == IMAGE_BATCH:
                _flush(encoder, batch, kept, parts, bar)
        if batch:
            _flush(encoder, batch, kept, parts, bar)
        for start in range(0, len(texts), TEXT_BATCH):
            chunk = texts[start : start + TEXT_BATCH]
            parts.append(encode_texts(encoder, [item.text for item in chunk]))
            kept += chunk
            bar.update(len(chunk))
    vectors = np.concatenate(parts) if parts else np.empty((0, encoder.dim), dtype=np.float32)
    return Embedded(kept, vectors, skipped)


def is_utf8(text: str) -> bool:
    """Whether `text` can be stored as UTF-8 (no lone surrogates, e.g. from undecodable file names)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _flush(encoder, batch: list, kept: list, parts: list, bar: tqdm) -> None:
    parts.append(encode_images(encoder, [picture for _, picture in batch]))
    kept += [item for item, _ in batch]
    bar.update(len(batch))
    batch.clear()


def _decoded(photos: list[Item], size: int, workers: int | None) -> Iterator[tuple[Item, np.ndarray | None, str | None]]:
    """(item, uint8 (3, size, size) pixels or None, reason) in input order, decoded by a process pool."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    jobs = [(item.path, size) for item in photos]
    if workers <= 0 or len(photos) < POOL_MIN:  # a pool costs more than it saves on a handful
        yield from ((item, *_decode(job)) for item, job in zip(photos, jobs))
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:  # workers use only PIL and numpy
        yield from ((item, *result) for item, result in zip(photos, pool.imap(_decode, jobs, chunksize=16)))


def _decode(job: tuple[str, int]) -> tuple[np.ndarray | None, str | None]:
    path, size = job
    try:
        return image_pixels(path, size), None
    except UnreadableImage as error:  # also raised for vanished or unreadable files
        return None, str(error)
