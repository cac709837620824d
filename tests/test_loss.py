"""The two contrastive losses against sums written out by hand on a 2x2 batch, and with several captions per photo."""

from __future__ import annotations

import math

import pytest
import torch

from engine.train.loss import contrastive_loss, sigmoid_loss, softmax_loss

LEFT = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
RIGHT = torch.tensor([[0.6, 0.8], [1.0, 0.0]])
# similarities LEFT @ RIGHT.T = [[0.6, 1.0], [0.8, 0.0]]; at temperature 2: [[1.2, 2.0], [1.6, 0.0]]
DIAGONAL = torch.arange(2)


def _lse(*values: float) -> float:
    return math.log(sum(math.exp(v) for v in values))


def test_softmax_loss_matches_the_hand_computation():
    left_to_right = ((_lse(1.2, 2.0) - 1.2) + (_lse(1.6, 0.0) - 0.0)) / 2
    right_to_left = ((_lse(1.2, 1.6) - 1.2) + (_lse(2.0, 0.0) - 0.0)) / 2
    got = softmax_loss(LEFT, RIGHT, torch.tensor(2.0), DIAGONAL)
    assert got.item() == pytest.approx((left_to_right + right_to_left) / 2, rel=1e-6)


def test_sigmoid_loss_matches_the_hand_computation():
    bias = -1.0
    logits = [[1.2 + bias, 2.0 + bias], [1.6 + bias, 0.0 + bias]]

    def log_sigmoid(x: float) -> float:
        return -math.log1p(math.exp(-x))

    total = sum(log_sigmoid((1 if i == j else -1) * logits[i][j]) for i in range(2) for j in range(2))
    got = sigmoid_loss(LEFT, RIGHT, torch.tensor(2.0), torch.tensor(bias), DIAGONAL)
    assert got.item() == pytest.approx(-total / 2, rel=1e-6)


def test_losses_run_in_fp32_on_bf16_features_and_reject_unknown_kinds():
    loss = contrastive_loss("softmax", LEFT.bfloat16(), RIGHT.bfloat16(), torch.tensor(2.0), torch.tensor(0.0))
    assert loss.dtype == torch.float32
    with pytest.raises(ValueError, match="unknown loss"):
        contrastive_loss("triplet", LEFT, RIGHT, torch.tensor(2.0), torch.tensor(0.0))


def test_two_captions_of_one_photo_are_both_positives():
    """Photo 0 owns right rows 0 and 1, photo 1 owns row 2: 2x3 logits, three positives."""
    right = torch.tensor([[0.6, 0.8], [1.0, 0.0], [0.0, 1.0]])
    owner = torch.tensor([0, 0, 1])
    logits = [[1.2, 2.0, 0.0], [1.6, 0.0, 2.0]]  # temperature 2
    positive = [[True, True, False], [False, False, True]]

    def log_sigmoid(x: float) -> float:
        return -math.log1p(math.exp(-x))

    total = sum(log_sigmoid((1 if positive[i][j] else -1) * logits[i][j]) for i in range(2) for j in range(3))
    assert sigmoid_loss(LEFT, right, torch.tensor(2.0), torch.tensor(0.0), owner).item() == pytest.approx(-total / 2, rel=1e-6)

    # left->right: photo 0 spreads its target over its two captions; right->left: each caption's photo
    left_to_right = ((_lse(1.2, 2.0, 0.0) - (1.2 + 2.0) / 2) + (_lse(1.6, 0.0, 2.0) - 2.0)) / 2
    right_to_left = ((_lse(1.2, 1.6) - 1.2) + (_lse(2.0, 0.0) - 2.0) + (_lse(0.0, 2.0) - 2.0)) / 3
    got = softmax_loss(LEFT, right, torch.tensor(2.0), owner)
    assert got.item() == pytest.approx((left_to_right + right_to_left) / 2, rel=1e-6)
