"""The two score definitions every path shares (training-time evaluation, the curriculum, the fusion
inputs, cross-dataset evaluation, the deployable scorers and their exports): a classifier's P(attack)
and the empirical CDF that maps a VGAE anomaly score onto [0, 1] among reference scores."""

from __future__ import annotations

import torch
from torch import Tensor


def attack_probability(logits: Tensor) -> Tensor:
    """P(attack): the softmax of a classifier's two logits, class 1.

    Shapes:
        logits: (G, 2). Returns (G,).
    """
    return torch.softmax(logits, dim=-1)[:, 1]


def empirical_cdf(sorted_reference: Tensor, raw: Tensor) -> Tensor:
    """The share of ``sorted_reference`` scores at most each ``raw`` score (a comparison count, which ONNX
    exports; ``searchsorted`` it does not).

    Shapes:
        sorted_reference: (R,) ascending, R > 0. raw: (G,). Returns (G,) float in [0, 1].
    """
    return (sorted_reference.unsqueeze(0) <= raw.unsqueeze(1)).sum(-1).float() / sorted_reference.numel()
