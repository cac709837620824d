"""A freshly initialised cpu-tiny checkpoint and a small generated collection for the index tests.

A random model still maps identical inputs to identical vectors, which is all a round trip
needs: an item queried with itself must come back first.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from engine.model import DualEncoder, architecture, inputs_for
from engine.model.checkpoint import save_checkpoint

COLOURS = {"red": (220, 30, 30), "green": (30, 180, 60), "blue": (40, 60, 220), "yellow": (240, 220, 40)}
TEXTS = ["a red circle", "ein grüner Kreis", "un carré bleu", "黄色的正方形", "красный круг", "دائرة زرقاء"]


def make_checkpoint(directory: Path, seed: int = 0) -> Path:
    """Save an untrained cpu-tiny CLIPPO model (with the installed fonts' fingerprint, if the renderer exists)."""
    try:
        from engine.render import font_fingerprint

        fonts = font_fingerprint()
    except ImportError:
        fonts = None
    torch.manual_seed(seed)
    model = DualEncoder(architecture("cpu-tiny"), inputs_for("cpu-tiny", drop_blank=False))
    save_checkpoint(directory, model, {"font_fingerprint": fonts})
    return directory


def shape(colour: str, kind: str, size: tuple[int, int] = (96, 72)) -> Image.Image:
    image = Image.new("RGB", size, (250, 250, 245))
    draw = ImageDraw.Draw(image)
    box = (size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4)
    (draw.ellipse if kind == "circle" else draw.rectangle)(box, fill=COLOURS[colour])
    return image


def make_photos(folder: Path, count: int = 8, start: int = 0) -> list[Path]:
    """`count` distinct shapes in assorted formats and awkward modes, some in a subfolder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "more").mkdir(exist_ok=True)
    paths = []
    for i in range(start, start + count):
        picture = shape(list(COLOURS)[i % 4], ("circle", "square")[(i // 4) % 2], (64 + 8 * i, 48 + 5 * i))
        variant = i % 6
        if variant == 0:
            path, saved = folder / f"p{i}.png", picture
        elif variant == 1:
            path, saved = folder / "more" / f"p{i}.jpg", picture.convert("CMYK")
        elif variant == 2:
            path, saved = folder / f"p{i}.gif", picture.convert("P")
        elif variant == 3:
            path, saved = folder / f"p{i}.png", Image.fromarray((np.asarray(picture.convert("L"), np.uint16) * 257))
        elif variant == 4:
            path, saved = folder / "more" / f"p{i}.webp", picture.convert("RGBA")
        else:
            path, saved = folder / f"p{i}.tiff", picture
        saved.save(path)
        paths.append(path)
    return paths


def make_broken(folder: Path) -> list[Path]:
    """A zero-byte file, a text file named .jpg, and a truncated JPEG."""
    folder.mkdir(parents=True, exist_ok=True)
    empty, fake, truncated = folder / "empty.jpg", folder / "fake.jpg", folder / "truncated.jpg"
    empty.write_bytes(b"")
    fake.write_text("<html>404 not found</html>")
    buffer = io.BytesIO()
    Image.effect_noise((160, 120), 60).convert("RGB").save(buffer, "JPEG")
    truncated.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return [empty, fake, truncated]
