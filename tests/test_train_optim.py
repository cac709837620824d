"""The optimizer: Muon's orthogonalisation, which parameters it takes, and that it trains."""

from __future__ import annotations

import itertools

import torch

from engine.model import DualEncoder, architecture, inputs_for
from engine.train.optim import Optimizer, orthogonalise


def test_orthogonalise_brings_singular_values_two_decades_apart_near_one_in_fp32_and_bf16():
    torch.manual_seed(0)
    for (rows, cols), dtype in itertools.product([(384, 128), (128, 512), (128, 128)], (None, torch.bfloat16)):
        rank = min(rows, cols)
        left, _ = torch.linalg.qr(torch.randn(rows, rank))
        right, _ = torch.linalg.qr(torch.randn(cols, rank))
        matrix = left @ torch.diag(torch.logspace(-1, 1, rank)) @ right.T
        result = orthogonalise(matrix, 5, dtype)
        singular = torch.linalg.svdvals(result)
        assert result.shape == (rows, cols) and result.dtype == torch.float32  # the update in the weights' dtype
        assert 0.5 < singular.min() and singular.max() < 1.3, (rows, cols, dtype, singular.min(), singular.max())


def test_muon_takes_the_linear_layers_and_adamw_the_rest():
    model = DualEncoder(architecture("cpu-tiny", kind="2t-clip"), inputs_for("cpu-tiny", drop_blank=True, drop_flat=True), 100)
    optimizer = Optimizer(model, "muon", 1e-3, 0.1)
    adamw, muon = optimizer.parts
    names = {id(p): n for n, p in model.named_parameters()}
    in_muon = {names[id(p)] for group in muon.param_groups for p in group["params"]}
    in_adamw = {names[id(p)] for group in adamw.param_groups for p in group["params"]}
    assert in_muon == {n for n, p in model.named_parameters() if n.endswith(".weight") and p.ndim == 2} - {"tokens.table.weight"}
    assert {"patches.proj.weight", "trunk.proj.weight", "trunk.head.q.weight", "text_trunk.blocks.0.attn.qkv.weight"} <= in_muon
    assert in_muon.isdisjoint(in_adamw) and in_muon | in_adamw == set(names.values())
    assert {"tokens.table.weight", "tokens.pos", "patches.pos", "trunk.head.probe"} <= in_adamw
    optimizer.set_lr_scale(0.5)
    assert {group["lr"] for group in optimizer.param_groups} == {5e-4}


def test_muon_lowers_a_regression_loss_as_fast_as_adamw():
    """A two-layer net fitting a random linear map: both optimizers cut the loss tenfold in 200 steps."""
    for name in ("adamw", "muon"):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.GELU(), torch.nn.Linear(64, 16))
        target, inputs = torch.randn(32, 16), torch.randn(256, 32)
        optimizer = Optimizer(net, name, 1e-2, 0.0)
        losses = []
        for _ in range(200):
            loss = (net(inputs) - inputs @ target).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        assert losses[-1] < losses[0] / 10, (name, losses[0], losses[-1])
