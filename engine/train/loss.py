"""Every training loss in one place: the softmax contrastive loss (CLIP) and the sigmoid loss (SigLIP).

Row i of `left` and row i of `right` are a positive pair (photo/caption, or two translations);
every other row is a negative. With several captions per photo, `owner[j]` names the `left` row
that `right` row j belongs to: a photo is then positive with each of its captions. Losses run in
fp32. Under torchrun, `gather_global` collects the features of all ranks *with* gradients, so
each rank computes the loss over the global batch; the trainer then averages gradients across
ranks (each rank's gradient is world_size times the global one's share, which the average
cancels).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.distributed._functional_collectives import all_gather_single_autograd

from engine.train.config import LOSSES


def _world_size() -> int:
    """Processes in the torchrun job; 1 when running alone."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def gather_global(features: torch.Tensor) -> torch.Tensor:
    """Concatenate every rank's rows in rank order, keeping the autograd graph; identity when alone."""
    if _world_size() == 1:
        return features
    # torch's recommended successor of the deprecated torch.distributed.nn.functional.all_gather
    return all_gather_single_autograd(features.contiguous(), gather_dim=0, group=dist.group.WORLD)


def global_owner(owner: torch.Tensor, left_rows: int) -> torch.Tensor:
    """Every rank's `owner` indices in the global batch (each rank holds `left_rows` left rows)."""
    return torch.cat([owner + rank * left_rows for rank in range(_world_size())])


def _positives(owner: torch.Tensor, left_rows: int) -> torch.Tensor:
    """(left_rows, len(owner)) 1.0 where right row j belongs to left row i, else 0.0."""
    return (owner[None, :] == torch.arange(left_rows, device=owner.device)[:, None]).float()


def softmax_loss(left: torch.Tensor, right: torch.Tensor, temperature: torch.Tensor, owner: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE: left->right cross-entropy against its positives (shared equally), right->left against its owner."""
    logits = temperature.float() * left.float() @ right.float().T
    positives = _positives(owner, len(left))
    return (F.cross_entropy(logits, positives / positives.sum(dim=1, keepdim=True)) + F.cross_entropy(logits.T, owner)) / 2


def sigmoid_loss(left: torch.Tensor, right: torch.Tensor, temperature: torch.Tensor, bias: torch.Tensor, owner: torch.Tensor) -> torch.Tensor:
    """SigLIP: each (i, j) pair is a binary positive/negative decision; summed per left row, averaged over left rows."""
    logits = temperature.float() * left.float() @ right.float().T + bias.float()
    signs = 2.0 * _positives(owner, len(left)) - 1
    return -F.logsigmoid(signs * logits).sum() / len(logits)


def contrastive_loss(
    kind: str, left: torch.Tensor, right: torch.Tensor, temperature: torch.Tensor, bias: torch.Tensor, owner: torch.Tensor | None = None
) -> torch.Tensor:
    """The global-batch loss of the named kind (this rank's rows are gathered with everyone's first).

    `owner` (default: row j belongs to left row j) maps each right row to its left row on this rank.
    """
    if owner is None:
        owner = torch.arange(len(right), device=right.device)
    owner = global_owner(owner, len(left))
    left, right = gather_global(left), gather_global(right)
    if kind == "softmax":
        return softmax_loss(left, right, temperature, owner)
    if kind == "sigmoid":
        return sigmoid_loss(left, right, temperature, bias, owner)
    raise ValueError(f"unknown loss {kind!r}; choose one of {LOSSES}")


def distillation_loss(kind: str, student: torch.Tensor, targets: torch.Tensor, target_ids: torch.Tensor, temperature: float = 0.05) -> torch.Tensor:
    """Pull each (projected, unit) student row to its fixed teacher target (unit rows of `targets`).

    `mse`: squared distance to the own target (Reimers & Gurevych 2020), i.e. 2 - 2 cos.
    `contrastive`: InfoNCE of each row against every target of the batch at a fixed temperature;
    rows that share a target (a pair's two texts both aim at its English side) count it once,
    and a target that appears twice is a positive wherever it appears (`target_ids` tells).
    Computed on this rank's rows: the targets need no gathering, they carry no gradient.
    """
    student, targets = student.float(), targets.float()
    if kind == "mse":
        return (student - targets).pow(2).sum(dim=1).mean()
    if kind == "contrastive":
        logits = student @ targets.T / temperature
        positives = (target_ids[:, None] == target_ids[None, :]).float()
        return F.cross_entropy(logits, positives / positives.sum(dim=1, keepdim=True))
    raise ValueError(f"unknown distillation loss {kind!r}; choose mse or contrastive")
