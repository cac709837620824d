"""`engine.load(path)`: a trained checkpoint as an Encoder for photos and texts (inference only).

The index, the benchmarks and the demo all embed through this one class, so a checkpoint's
preprocessing (image size, text rendering, tokenizer) lives in its config and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.errors import EngineError
from engine.model.inputs import TextInputs, image_pixels
from engine.model.tokenizer import Tokenizer
from engine.model.checkpoint import TOKENIZER, WEIGHTS, file_sha256, find_checkpoint, load_model


class Encoder:
    """Embeds photos and texts into the checkpoint's shared space: (N, dim) float32, unit rows."""

    def __init__(self, directory: Path, device: str = "cpu") -> None:
        self.model, self.config = load_model(directory)
        self.model.eval().to(device)
        self.device = device
        self.checkpoint_hash = file_sha256(directory / WEIGHTS)
        self.dim = self.model.config.embed_dim
        self.font_fingerprint: str | None = self.config.get("font_fingerprint") if self.model.kind == "clippo" else None
        tokenizer = Tokenizer(directory / TOKENIZER) if self.model.kind != "clippo" else None
        self._text_inputs = TextInputs(self.model.config, self.model.inputs, tokenizer, cache_size=1024)  # bounded: indexes embed millions
        self._fonts_checked = tokenizer is not None

    def encode_images(self, images: Sequence[Image.Image | str | Path], batch_size: int = 64) -> np.ndarray:
        size = self.model.config.image_size
        return self._encode(images, batch_size, lambda chunk: np.stack([image_pixels(i, size) for i in chunk]), self.model.encode_images)

    def encode_texts(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        if isinstance(texts, str):
            raise EngineError("encode_texts takes a list of strings, not one string")
        self._check_fonts()
        return self._encode(texts, batch_size, self._text_inputs, self.model.encode_texts)

    def text_inputs(self, texts: Sequence[str]) -> np.ndarray:
        """What the model reads for `texts` (rendered pages, or token ids), as `encode_texts` prepares
        them: a pipeline can prepare batches in CPU workers and encode them elsewhere (`encode_inputs`)."""
        self._check_fonts()
        return self._text_inputs(list(texts))

    @torch.inference_mode()
    def encode_inputs(self, modality: str, inputs: np.ndarray) -> np.ndarray:
        """One prepared batch -> (N, dim) unit vectors: uint8 (N, 3, S, S) photos for "image",
        `text_inputs` output for "text"."""
        encode = self.model.encode_images if modality == "image" else self.model.encode_texts
        return encode(torch.from_numpy(np.ascontiguousarray(inputs)).to(self.device)).cpu().numpy()

    def text_pixels(self, text: str, lang: str | None = None) -> np.ndarray:
        """The page the model reads for `text` (uint8 H x W, 255 = paper), drawn as `encode_texts` draws it."""
        if self.model.kind != "clippo":
            raise EngineError(f"this checkpoint ({self.model.kind}) reads tokens, not pixels: there is no page to show")
        self._check_fonts()
        return self._text_inputs([text], [lang])[0]

    def _check_fonts(self) -> None:
        """Text drawn with other fonts than at training time is a different input: refuse it (checked once)."""
        if self._fonts_checked:
            return
        from engine.render import font_fingerprint

        if self.font_fingerprint and self.font_fingerprint != font_fingerprint():
            raise EngineError(
                f"this checkpoint was trained with render fingerprint {self.font_fingerprint[:12]} (fonts and ICU), "
                f"but the installed renderer's is {font_fingerprint()[:12]}: install the fonts (fonts/manifest.json) "
                f"and the pyicu-wheels version (requirements.lock) it was trained with"
            )
        self._fonts_checked = True

    @torch.inference_mode()
    def _encode(self, items: Sequence, batch_size: int, prepare, encode) -> np.ndarray:
        out = np.empty((len(items), self.dim), dtype=np.float32)
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            out[start : start + len(chunk)] = encode(torch.from_numpy(prepare(chunk)).to(self.device)).cpu().numpy()
        return out


def load(path: str | Path, device: str = "cpu") -> Encoder:
    """Open a checkpoint directory (or a run directory holding `checkpoint/`) for inference."""
    return Encoder(find_checkpoint(path), device=device)
