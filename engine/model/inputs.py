"""What the model eats: photos as uint8 (3, S, S) and captions as rendered uint8 (S, S) pages.

One definition used by the trainer, the data loaders and `engine.load`, so a checkpoint sees at
inference exactly the pixels it was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from engine.images import load_rgb, to_rgb
from engine.model.config import InputConfig, ModelConfig


def render_config(model: ModelConfig, inputs: InputConfig, lang: str | None = None):
    """The renderer settings of a model: a square page of its input size, text at `inputs.text_px`."""
    from engine.render import RenderConfig  # the renderer loads fonts: import only when text is drawn

    grid = model.patch if inputs.text_grid else 0
    return RenderConfig(width=model.image_size, height=model.image_size, font_size=inputs.text_px, lang=lang, grid=grid)


def image_pixels(image: Image.Image | str | Path, size: int) -> np.ndarray:
    """Any picture or image file -> uint8 (3, size, size) RGB, squashed to the square input.

    Mode conversion (CMYK, 16-bit, palette, alpha onto white) is `engine.images`' job, so that
    indexing and training decode alike. Squashing (no crop) matches the Flickr8k images,
    which were squashed to 224x224 before they reached us.
    """
    picture = load_rgb(image, min_side=size) if isinstance(image, (str, Path)) else to_rgb(image)
    if picture.size != (size, size):
        picture = picture.resize((size, size), Image.BICUBIC)
    return np.asarray(picture, dtype=np.uint8).transpose(2, 0, 1).copy()


class TextInputs:
    """Texts -> model input: rendered uint8 pages (CLIPPO) or padded token ids (baselines).

    Keeps one renderer per language hint (the hint picks CJK faces) and an LRU cache of pages, so
    captions seen again (several epochs, validation) are not drawn twice.
    """

    def __init__(self, model: ModelConfig, inputs: InputConfig, tokenizer=None, cache_size: int = 20_000) -> None:
        self.model, self.inputs, self.tokenizer = model, inputs, tokenizer
        self._renderers: dict[str | None, object] = {}
        self.page = lru_cache(maxsize=cache_size)(self._render)

    def __call__(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> np.ndarray:
        if self.tokenizer is not None:
            return self.tokenizer.encode(texts, self.inputs.context_length)
        hints = langs if langs is not None else [None] * len(texts)
        return np.stack([self.page(text, render_lang(lang)) for text, lang in zip(texts, hints)])

    def _render(self, text: str, lang: str | None) -> np.ndarray:
        if lang not in self._renderers:
            from engine.render import Renderer

            self._renderers[lang] = Renderer(render_config(self.model, self.inputs, lang))
        return self._renderers[lang].render(text).pixels


# Tatoeba's ISO 639-3 codes whose script needs a language hint to pick the right CJK face.
_RENDER_HINTS = {"cmn": "zh", "wuu": "zh", "yue": "zh-Hant", "jpn": "ja", "kor": "ko"}


def render_lang(lang: str | None) -> str | None:
    """The renderer's BCP-47 hint for a data language code (None when it needs none)."""
    if lang in (None, "und"):
        return None
    return _RENDER_HINTS.get(lang, lang)
