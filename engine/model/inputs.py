"""What the model eats: photos as uint8 (3, S, S) and captions as rendered uint8 (S, S) pages.

One definition used by the trainer, the data loaders and `engine.load`, so a checkpoint sees at
inference exactly the pixels it was trained on.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engine.model.presets import Preset


def render_config(preset: Preset, lang: str | None = None):
    """The renderer settings of a preset: a square page of the model's input size, text at `text_px`."""
    from engine.render import RenderConfig  # the renderer loads fonts: import only when text is drawn

    return RenderConfig(width=preset.image_size, height=preset.image_size, font_size=preset.text_px, lang=lang)


def image_pixels(image: Image.Image | str | Path, size: int) -> np.ndarray:
    """Any picture or image file -> uint8 (3, size, size) RGB, squashed to the square input.

    Mode conversion (CMYK, 16-bit, palette, alpha onto white) is `engine.index.images`' job, so
    that indexing and training decode alike. Squashing (no crop) matches the Flickr8k images,
    which were squashed to 224x224 before they reached us.
    """
    from engine.index.images import _to_rgb as to_rgb, load_rgb  # shared decoder (index module owns it)

    picture = load_rgb(image, min_side=size) if isinstance(image, (str, Path)) else to_rgb(image)
    if picture.size != (size, size):
        picture = picture.resize((size, size), Image.BICUBIC)
    return np.asarray(picture, dtype=np.uint8).transpose(2, 0, 1).copy()
