"""Units of embedding work: one model batch of one partition, and the two stages it goes through.

A unit holds up to IMAGE_BATCH photos or TEXT_BATCH texts of one partition. `prepare` is the CPU
stage (decode photos, render texts), `encode` the model stage. The local and the Ray executor
(`partitioned`, `ray_embed`) both run exactly these, on exactly these batches, so both give the
same vectors. A unit is a plain dict of JSON-able values (plus the prepared pixels), so that it
can travel between Ray actors.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.index.collect import Item
from engine.index.embed import IMAGE_BATCH, TEXT_BATCH
from engine.images import UnreadableImage
from engine.model.inputs import image_pixels
from engine.model.precision import cpu_has_native_bf16


def units_of(number: int, items: list[Item]) -> list[dict]:
    """One partition's units: its photos in batches of IMAGE_BATCH, then its texts in TEXT_BATCH."""
    photos = [i for i, item in enumerate(items) if item.modality == "image"]
    texts = [i for i, item in enumerate(items) if item.modality == "text"]
    batches = [("image", photos[s : s + IMAGE_BATCH]) for s in range(0, len(photos), IMAGE_BATCH)]
    batches += [("text", texts[s : s + TEXT_BATCH]) for s in range(0, len(texts), TEXT_BATCH)]
    return [
        {"partition": number, "seq": seq, "modality": modality, "rows": rows, "inputs": [items[i].label for i in rows]}
        for seq, (modality, rows) in enumerate(batches)
    ]


def prepare(unit: dict, encoder) -> dict:
    """CPU stage: decode the unit's photos (undecodable ones are skipped with the reason) or render its texts."""
    if unit["modality"] == "text":
        return {**unit, "kept": unit["rows"], "skipped": [], "pixels": encoder.text_inputs(unit["inputs"])}
    size = encoder.model.config.image_size
    kept, skipped, pixels = [], [], []
    for row, path in zip(unit["rows"], unit["inputs"]):
        try:
            pixels.append(image_pixels(path, size))
            kept.append(row)
        except UnreadableImage as error:
            skipped.append([path, str(error)])
    stacked = np.stack(pixels) if pixels else np.zeros((0, 3, size, size), dtype=np.uint8)
    return {**unit, "kept": kept, "skipped": skipped, "pixels": stacked}


def encode(prepared: dict, encoder) -> dict:
    """Model stage: the prepared batch -> unit vectors (bf16 autocast where the CPU has it, as `embed`)."""
    result = {key: value for key, value in prepared.items() if key != "pixels"}
    if not len(prepared["pixels"]):
        return {**result, "vectors": np.zeros((0, encoder.dim), dtype=np.float32)}
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cpu_has_native_bf16()):
        return {**result, "vectors": encoder.encode_inputs(prepared["modality"], prepared["pixels"])}
