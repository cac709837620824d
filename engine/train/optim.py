"""The optimizer: AdamW, or Muon for the weights of the linear layers with AdamW for the rest.

Muon (Jordan et al. 2024) replaces each matrix's momentum by its nearest semi-orthogonal matrix
(five Newton-Schulz iterations), so every direction of the update moves at the same rate. Here it
takes the weights of every linear layer (the patch embedding and the output projection too,
which learned more on the demo's scenes than the blocks alone: docs/training-notes.md); token tables, position embeddings, biases, norms, the
pooling probe and the temperature stay with AdamW. Each update is scaled by
0.2 sqrt(max(rows, cols)), which gives it AdamW's size (Liu et al. 2025), so one `--lr` and one
`--weight-decay` serve both. The learning-rate schedule is a multiplier set on every group
each step (`set_lr_scale`), so both optimizers follow the same curve.

`torch.optim.Muon` always runs its Newton-Schulz iterations in bf16, which CPUs without native bf16
emulate many times slower than fp32 (docs/results.md). `Muon` below runs them in the trainer's
compute dtype: bf16 where the model's matmuls are bf16 (CUDA, CPUs with AMX or AVX512-BF16),
the gradient's own dtype otherwise.
"""

from __future__ import annotations

import math

import torch

from engine.train.config import OPTIMIZERS

BETAS, EPS = (0.9, 0.98), 1e-6


class Optimizer:
    """One or two torch optimizers stepped, scheduled and saved as one."""

    def __init__(self, model: torch.nn.Module, name: str, lr: float, weight_decay: float, matmul_dtype: torch.dtype | None = None) -> None:
        if name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
        linear = {id(module.weight) for module in model.modules() if isinstance(module, torch.nn.Linear)}
        matrices, decay, no_decay = [], [], []
        for param_name, param in model.named_parameters():
            if name == "muon" and id(param) in linear:
                matrices.append(param)
            elif param.ndim >= 2 and "pos" not in param_name and "probe" not in param_name:
                decay.append(param)  # weight decay on matrices only: not on biases, norms, positions, probe, temperature
            else:
                no_decay.append(param)
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        self.parts: list[torch.optim.Optimizer] = [torch.optim.AdamW(groups, lr=lr, betas=BETAS, eps=EPS)]
        if matrices:
            self.parts.append(Muon(matrices, lr=lr, weight_decay=weight_decay, matmul_dtype=matmul_dtype))
        self.base_lr = lr

    def set_lr_scale(self, scale: float) -> None:
        for group in self.param_groups:
            group["lr"] = self.base_lr * scale

    @property
    def param_groups(self) -> list[dict]:
        return [group for part in self.parts for group in part.param_groups]

    @property
    def lr(self) -> float:
        return self.param_groups[0]["lr"]

    def zero_grad(self) -> None:
        for part in self.parts:
            part.zero_grad(set_to_none=True)

    def step(self) -> None:
        for part in self.parts:
            part.step()

    def state_dict(self) -> list[dict]:
        return [part.state_dict() for part in self.parts]

    def load_state_dict(self, states: list[dict] | dict) -> None:
        if isinstance(states, dict):  # checkpoints from before Muon saved AdamW's state alone
            states = [states]
        if len(states) != len(self.parts):
            raise ValueError(f"the saved optimizer has {len(states)} parts, this one {len(self.parts)}")
        for part, state in zip(self.parts, states):
            part.load_state_dict(state)


class Muon(torch.optim.Optimizer):
    """Nesterov momentum, orthogonalised by Newton-Schulz, scaled to AdamW's update size, decoupled decay."""

    def __init__(self, params, lr: float, weight_decay: float, momentum: float = 0.95, ns_steps: int = 5, matmul_dtype: torch.dtype | None = None) -> None:
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay, "momentum": momentum, "ns_steps": ns_steps})
        self.matmul_dtype = matmul_dtype  # None: the gradient's dtype

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if "momentum" not in state:
                    state["momentum"] = torch.zeros_like(param)
                buffer = state["momentum"].lerp_(param.grad, 1 - group["momentum"])
                update = orthogonalise(param.grad.lerp(buffer, group["momentum"]), group["ns_steps"], self.matmul_dtype)
                param.mul_(1 - group["lr"] * group["weight_decay"])
                param.add_(update, alpha=-group["lr"] * 0.2 * math.sqrt(max(param.shape)))


def orthogonalise(matrix: torch.Tensor, steps: int, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Approximately U V^T of matrix = U S V^T: the quintic Newton-Schulz iteration of Muon's authors.

    Its coefficients push singular values to about 0.7-1.2 in five steps rather than exactly 1,
    which trains as well (Jordan et al. 2024); for the same reason bf16 (`dtype`) is precise enough.
    """
    a, b, c = 3.4445, -4.7750, 2.0315
    tall = matrix.size(0) > matrix.size(1)  # iterate on the wide side, where the Gram matrix is smaller
    x = matrix.T if tall else matrix
    x = (x / x.norm().clamp(min=1e-7)).to(dtype or matrix.dtype)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return (x.T if tall else x).to(matrix.dtype)
