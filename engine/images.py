"""Decode any image file a user points us at into a plain 8-bit RGB picture, or say why not.

Collections are messy: truncated downloads, zero-byte files, HTML saved as `.jpg`, decompression
bombs, CMYK scans, 16-bit TIFFs, palette GIFs with transparency. A build must skip the bad ones
with a reason and convert the odd ones faithfully (Pillow's own `convert("RGB")` clips 16-bit
values to white and drops alpha onto black), so every decode goes through `load_rgb`.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps

# Pictures with more pixels than this are refused as likely decompression bombs (Pillow's own
# default warns at ~89 Mpx and only refuses at twice that).
MAX_PIXELS = 89_478_485
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_SRGB = ImageCms.createProfile("sRGB")


class UnreadableImage(Exception):
    """An image file that cannot be decoded; the message says why (for the skipped-items report)."""


def load_rgb(source: str | Path | bytes, min_side: int | None = None) -> Image.Image:
    """Decode `source` (a path or the file's bytes) to an RGB image, upright per its EXIF tag.

    With `min_side`, large pictures are reduced by an integer factor while their shorter side
    stays >= min_side: the encoder makes the final resize, workers only shrink what they ship.
    Raises UnreadableImage for anything that is not a decodable, reasonably sized picture.
    """
    try:
        if not isinstance(source, bytes) and not stat.S_ISREG(os.stat(source).st_mode):
            raise UnreadableImage("not a regular file (reading a FIFO or a device could block for ever)")
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise UnreadableImage(f"{width}x{height} pixels exceeds the {MAX_PIXELS:,}-pixel limit (decompression bomb?)")
                if min_side and image.format == "JPEG":
                    image.draft(image.mode, _reduced_size(image.size, min_side))  # DCT-domain downscale: much faster
                image.load()
                picture = to_rgb(ImageOps.exif_transpose(image))
    except UnreadableImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UnreadableImage(f"decompression bomb: {error}") from None
    except Exception as error:  # Pillow's decoders raise OSError, ValueError, SyntaxError, struct.error...
        raise UnreadableImage(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__) from None
    if min_side:
        factor = min(picture.size) // min_side
        if factor >= 2:
            picture = picture.reduce(factor)
    return picture


def _reduced_size(size: tuple[int, int], min_side: int) -> tuple[int, int]:
    """The smallest size with the same aspect ratio whose shorter side is still >= min_side."""
    scale = min_side / min(size)
    return (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB the way a viewer would show it."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(_high_depth_to_uint8(np.asarray(image), image.mode)).convert("RGB")
    if image.mode == "CMYK":
        return _cmyk_to_rgb(image)
    if image.mode == "P" or image.mode == "1":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in _ALPHA_MODES:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")  # transparent = paper white
    return image.convert("RGB")


def _high_depth_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """Scale 16-bit, 32-bit or float grey values to 0..255 (Pillow's converter would clip them)."""
    if mode.startswith("I;16"):
        top = 65535.0
    elif mode == "F":
        top = 1.0 if values.size and values.max() <= 1.0 else 255.0
    else:  # "I": 32-bit container, usually holding 16-bit samples
        top = 65535.0 if values.size and values.max() > 255 else 255.0
    return np.clip(np.rint(values.astype(np.float64) / top * 255.0), 0, 255).astype(np.uint8)


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    """CMYK through its embedded ICC profile where there is one (print scans), else Pillow's formula."""
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: fall back to the plain formula below
    return image.convert("RGB")
