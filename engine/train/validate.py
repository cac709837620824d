"""Retrieval on a held-out photo/caption split while training: R@1/5/10 both ways, per language.

Uses the training model as it is (no checkpoint round trip) and `engine.eval.retrieval`, the one
Recall@k implementation. Captions are prepared once and kept, so repeated validations only pay
for the forward passes.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.eval.retrieval import recall_at_k
from engine.model import DualEncoder
from engine.train.data import ImageCaptions


class Validation:
    def __init__(self, pool: ImageCaptions, pixels: np.ndarray, usable: np.ndarray, text_inputs, langs: list[str], batch_size: int = 256) -> None:
        self.pixels, self.batch_size = pixels, batch_size
        self.image_rows = np.flatnonzero(usable)
        new_index = np.full(len(pool.images), -1)
        new_index[self.image_rows] = np.arange(len(self.image_rows))
        self.texts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for lang in langs:
            ids = [i for i, code in enumerate(pool.caption_lang) if code == lang and usable[pool.caption_image[i]]]
            if ids:
                inputs = text_inputs([pool.caption_text[i] for i in ids], [lang] * len(ids))
                self.texts[lang] = (inputs, new_index[[pool.caption_image[i] for i in ids]])

    @torch.inference_mode()
    def _embed(self, encode, inputs: np.ndarray, device: torch.device, precision: torch.dtype | None) -> np.ndarray:
        chunks = []
        for start in range(0, len(inputs), self.batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(inputs[start : start + self.batch_size])).to(device)
            with torch.autocast(device.type, dtype=precision, enabled=precision is not None):
                chunks.append(encode(batch).float().cpu().numpy())
        return np.concatenate(chunks)

    def run(self, model: DualEncoder, precision: torch.dtype | None = torch.bfloat16) -> dict[str, float]:
        """{"en/i2t@1": ..., "en/t2i@10": ..., "en/mean@10": ...} for each language with captions."""
        was_training = model.training
        model.eval()
        device = next(model.parameters()).device
        images = self._embed(model.encode_images, self.pixels[self.image_rows], device, precision)
        metrics: dict[str, float] = {}
        for lang, (inputs, text_image) in self.texts.items():
            recall = recall_at_k(images, self._embed(model.encode_texts, inputs, device, precision), text_image)
            metrics.update({f"{lang}/{key}": value for key, value in recall.items()})
            metrics[f"{lang}/mean@10"] = (recall["i2t@10"] + recall["t2i@10"]) / 2
        model.train(was_training)
        return metrics
