"""The teacher's part of a training step: fixed targets for the text rows and photos, and a projection.

(a) Every text row with a target (a caption the teacher reads; either text of a translation pair,
aimed at its English side) is pulled to it; (b) every photo is pulled to its caption's target, or
to the mean of all its captions' targets (`teacher.photo_target`), a fixed point as in LiT's
locked tower, while the contrastive loss between the student's photo and text embeddings runs as
before. The student's embedding (`model.embed_dim`) reaches the teacher's space through one learned
linear projection where the sizes differ. The projection is trained with the model and saved in
train_state.pt (a resume needs it), not in the model: the shipped encoder never needs the teacher.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.train.config import TeacherConfig
from engine.train.data import ImageCaptions, TextPairs
from engine.train.loss import distillation_loss
from engine.train.teacher import TargetTable, spec, target_table, teacher_targets, with_photo_means


class Distiller(nn.Module):
    def __init__(self, config: TeacherConfig, embed_dim: int, targets: np.ndarray) -> None:
        super().__init__()
        self.config = config
        dim = spec(config.name).dim
        self.project = nn.Linear(embed_dim, dim, bias=False) if dim != embed_dim else nn.Identity()
        self.last: dict[str, float] = {}
        self.register_buffer("targets", torch.from_numpy(np.ascontiguousarray(targets, dtype=np.float32)), persistent=False)

    @classmethod
    def prepare(
        cls, config: TeacherConfig, images: ImageCaptions, pairs: TextPairs, caption_langs: dict[str, float] | None, embed_dim: int, cache_dir: Path | None
    ) -> tuple[Distiller, TargetTable]:
        """The teacher's targets of every training text (cached; the missing ones embedded now) and a fresh projection."""
        table = target_table(config.name, images, pairs, caption_langs)
        targets = teacher_targets(config.name, table.texts, cache_dir)
        if config.photo_target == "mean":
            table, targets = with_photo_means(table, targets, images.caption_image, len(images.images))
        return cls(config, embed_dim, targets), table

    def forward(self, image_emb: torch.Tensor | None, text_emb: torch.Tensor, target_ids: torch.Tensor, photo_ids: torch.Tensor) -> dict:
        """{"text": loss (a), "image": loss (b), "total": their weighted sum}; a part without rows is 0."""
        config, parts = self.config, {}
        for name, emb, ids, weight in (("text", text_emb, target_ids, config.text_weight), ("image", image_emb, photo_ids, config.image_weight)):
            rows = ids >= 0
            if weight == 0 or emb is None or not rows.any():
                parts[name] = torch.zeros((), device=text_emb.device)
                continue
            student = F.normalize(self.project(emb[rows].float()), dim=-1)
            parts[name] = distillation_loss(config.loss, student, self.targets[ids[rows]], ids[rows], config.temperature)
        parts["total"] = config.text_weight * parts["text"] + config.image_weight * parts["image"]
        self.last = {"distill_text": parts["text"].item(), "distill_image": parts["image"].item()}  # for the metrics log
        return parts
