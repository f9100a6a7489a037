"""Focal loss (Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017) for 2-class logits."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def focal_loss(logits: Tensor, target: Tensor, gamma: float = 2.0, weight: Tensor | None = None) -> Tensor:
    """``mean(-(1 - p_t)^gamma * log p_t)``, optionally class-weighted. Shapes: logits (G, C), target (G,)."""
    log_p = F.log_softmax(logits, dim=-1).gather(1, target[:, None]).squeeze(1)
    loss = -((1 - log_p.exp()) ** gamma) * log_p
    if weight is not None:
        loss = loss * weight[target]
    return loss.mean()
