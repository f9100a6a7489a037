"""`MLPFusionModule`: the fusion MLP comparator as a LightningModule, trained by a Lightning Trainer like
every other model: class-weighted cross-entropy on the standardised 15-value fusion states."""

from __future__ import annotations

import lightning as L
import torch
import torch.nn.functional as F
from kdgat_models.fusion import MLPFusion
from torch import Tensor


class MLPFusionModule(L.LightningModule):
    """Trains ``mlp`` on ``(state, y)`` batches; ``mlp`` carries the training states' ``state_mean`` and
    ``state_std`` buffers it standardises by (the scorer reads them too).

    Args:
        mlp: the comparator network (15 -> 2 logits). learning_rate: AdamW's.
        class_weights: (2,) cross-entropy weights of the normal and attack class.
    """

    def __init__(self, *, mlp: MLPFusion, learning_rate: float, class_weights: Tensor) -> None:
        super().__init__()
        self.mlp, self.learning_rate = mlp, learning_rate
        self.register_buffer("class_weights", class_weights)

    def training_step(self, batch: tuple[Tensor, Tensor], batch_index: int) -> Tensor:
        """Shapes: state (B, 15), y (B,) -> the scalar loss."""
        state, y = batch
        logits = self.mlp((state - self.mlp.state_mean) / self.mlp.state_std)  # (B, 2)
        return F.cross_entropy(logits, y, weight=self.class_weights)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.mlp.parameters(), lr=self.learning_rate)
