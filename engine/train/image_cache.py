"""Decode every training/validation photo once, at the model's input size, into a .npy file.

Decoding and resizing a JPEG costs about as much CPU as a forward pass on the small presets;
doing it once and memory-mapping the result keeps the data loader workers nearly idle. The file
name hashes the image list and size, so a different pool or preset gets its own cache.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from engine.atomic import atomic_path
from engine.model.inputs import image_pixels

CHUNK = 256


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "engine" / "images"


def _decode_chunk(paths: list[Path], size: int) -> tuple[np.ndarray, list[str | None]]:
    pixels = np.full((len(paths), 3, size, size), 255, dtype=np.uint8)
    errors: list[str | None] = []
    for row, path in enumerate(paths):
        try:
            pixels[row] = image_pixels(path, size)
            errors.append(None)
        except Exception as error:  # any undecodable file is reported and left out of training
            errors.append(f"{path}: {error}")
    return pixels, errors


def cached_images(paths: list[Path], size: int, cache_dir: Path | None = None, workers: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3, size, size) uint8 memory map of the photos, and a bool array of the ones that decoded."""
    if not paths:  # a text-only run
        return np.zeros((0, 3, size, size), dtype=np.uint8), np.zeros(0, dtype=bool)
    cache_dir = Path(cache_dir or default_cache_dir())
    key = hashlib.sha256(("\n".join(map(str, paths)) + f"\n{size}").encode()).hexdigest()[:24]
    pixels_path, valid_path = cache_dir / f"{key}-{size}.npy", cache_dir / f"{key}-{size}.valid.npy"
    if not (pixels_path.exists() and valid_path.exists()):
        cache_dir.mkdir(parents=True, exist_ok=True)
        valid = np.zeros(len(paths), dtype=bool)
        chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
        with atomic_path(pixels_path) as tmp:  # the pixels last: present means complete
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(paths), 3, size, size))
            with ProcessPoolExecutor(workers) as pool, tqdm(total=len(paths), desc=f"decoding photos at {size}px", unit="img") as bar:
                for index, (pixels, errors) in enumerate(pool.map(_decode_chunk, chunks, [size] * len(chunks))):
                    out[index * CHUNK : index * CHUNK + len(pixels)] = pixels
                    valid[index * CHUNK : index * CHUNK + len(pixels)] = [e is None for e in errors]
                    for error in filter(None, errors):
                        tqdm.write(f"skipping unreadable photo {error}")
                    bar.update(len(pixels))
            out.flush()
            del out
            with atomic_path(valid_path) as valid_tmp:
                np.save(valid_tmp, valid)
    return np.load(pixels_path, mmap_mode="r"), np.load(valid_path)
