"""`GraphClassifierModule`: supervised training of the GAT on window labels."""

from __future__ import annotations

import lightning as L
import torch
import torch.nn.functional as F
from kdgat_models.distillation import logit_distillation_loss
from torchmetrics import MetricCollection
from torchmetrics.classification import (
    BinaryAccuracy,
    BinaryAUROC,
    BinaryF1Score,
    BinaryPrecision,
    BinaryRecall,
)

from kdgat_train.modules.focal_loss import focal_loss
from kdgat_train.modules.frozen_teacher import FrozenTeacherMixin
from kdgat_train.modules.optimizers import configure_optimizer


class GraphClassifierModule(FrozenTeacherMixin, L.LightningModule):
    """GAT graph classification.

    Args:
        net: a `GATWithJK` (built with ``add_self_loops=False``; the data carries the loops).
        learning_rate, weight_decay, optimizer, scheduler, epochs: see `configure_optimizer`.
        loss: ``ce``, ``weighted_ce`` (inverse class frequency) or ``focal``.
        class_counts: (2,) training windows per class, for ``weighted_ce`` (and focal weights).
        focal_gamma: focusing parameter of the focal loss.
        teacher: a frozen teacher network for logit KD, or ``None``. It is kept out of this module's
            state dict and optimizer; the loss becomes ``KD + (1 - kd_alpha) * task loss`` with
            ``KD = kd_alpha * T^2 * KL`` (kdgat_models.logit_distillation_loss), each window's KL weighted
            by its class weight under ``weighted_ce``, as in the task loss.
        teacher_outputs: ``{split: TeacherOutputs}``, the teacher's logits computed once per window
            (`kdgat_train.teacher_outputs`), read instead of running the teacher on each batch.
        kd_temperature, kd_alpha: T and alpha of the KD term.
    """

    def __init__(self, *, net, learning_rate: float = 1e-3, weight_decay: float = 0.0, optimizer: str = "adamw",
                 scheduler: str = "none", epochs: int = 1, loss: str = "ce",
                 class_counts: torch.Tensor | None = None, focal_gamma: float = 2.0, teacher=None,
                 kd_temperature: float = 4.0, kd_alpha: float = 0.7, teacher_outputs: dict | None = None) -> None:
        super().__init__()
        self.net = net
        self._set_teacher(teacher, teacher_outputs)
        self.kd_temperature, self.kd_alpha = kd_temperature, kd_alpha
        self.optimizer_name, self.scheduler_name, self.epochs = optimizer, scheduler, epochs
        self.learning_rate, self.weight_decay, self.loss_name, self.focal_gamma = learning_rate, weight_decay, loss, focal_gamma
        weight = None
        if loss in ("weighted_ce",) and class_counts is not None:
            weight = class_counts.sum() / (2 * class_counts.clamp_min(1))
        self.register_buffer("class_weight", weight if weight is not None else torch.ones(2), persistent=False)
        self.use_weight = weight is not None
        metrics = MetricCollection({"f1": BinaryF1Score(), "precision": BinaryPrecision(), "recall": BinaryRecall(),
                                    "accuracy": BinaryAccuracy(), "auroc": BinaryAUROC()})
        self.val_metrics = metrics.clone(prefix="val/")

    def forward(self, batch):
        return self.net.forward_batch(batch)

    def _loss(self, logits, y):
        weight = self.class_weight if self.use_weight else None
        if self.loss_name == "focal":
            return focal_loss(logits, y, self.focal_gamma, weight)
        return F.cross_entropy(logits, y, weight=weight)

    def _window_weight(self, y):
        """Each window's weight in the KD term: its class weight when the task loss is class-weighted (the
        KD term then balances the classes as the task loss does), else ``None`` (a plain mean).
        Shapes: y (G,) -> (G,)."""
        return self.class_weight[y] if self.use_weight else None

    def _objective(self, batch, logits, split: str):
        """The loss this run minimises, logged as ``{split}/loss``: the task loss, or with a teacher
        ``KD + (1 - kd_alpha) * task loss``; with a teacher ``{split}/task_loss`` and ``{split}/kd_loss``
        are logged too. Validation reads the same objective, so checkpointing and early stopping choose by
        what the run optimises (a KD student's plain CE on validation rose while its AUROC rose)."""
        task = self._loss(logits, batch.y)
        loss = task
        if self.teacher is not None:
            kd = logit_distillation_loss(logits, self.teacher_output(batch, split).logits, None, self.kd_temperature,
                                         self.kd_alpha, window_weight=self._window_weight(batch.y))
            loss = kd + (1 - self.kd_alpha) * task
        parts = {"loss": loss} if self.teacher is None else {"loss": loss, "task_loss": task, "kd_loss": kd}
        self.log_dict({f"{split}/{name}": value for name, value in parts.items()}, on_step=False, on_epoch=True,
                      batch_size=batch.num_graphs, sync_dist=True)
        return loss

    def training_step(self, batch, batch_index):
        return self._objective(batch, self(batch).logits, "train")

    def validation_step(self, batch, batch_index):
        logits = self(batch).logits
        self._objective(batch, logits, "val")
        self.val_metrics.update(torch.softmax(logits, -1)[:, 1], batch.y)

    def on_validation_epoch_end(self):
        self.log_dict(self.val_metrics.compute(), sync_dist=True)
        self.val_metrics.reset()

    def configure_optimizers(self):
        return configure_optimizer(self.parameters(), optimizer=self.optimizer_name, learning_rate=self.learning_rate,
                                   weight_decay=self.weight_decay, scheduler=self.scheduler_name, epochs=self.epochs)
