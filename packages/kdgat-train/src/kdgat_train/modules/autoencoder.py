"""`AutoencoderModule`: unsupervised VGAE training; validation also scores windows as anomalies."""

from __future__ import annotations

import lightning as L
from kdgat_models.distillation import VGAEDistillationLoss
from kdgat_models.vgae import anomaly_score, batch_graph_errors, vgae_loss
from torchmetrics.classification import BinaryAUROC

from kdgat_train.modules.frozen_teacher import FrozenTeacherMixin
from kdgat_train.modules.optimizers import configure_optimizer


class AutoencoderModule(FrozenTeacherMixin, L.LightningModule):
    """VGAE reconstruction training.

    Args:
        net: a `GraphAutoencoderNeighborhood` (``add_self_loops=False``).
        learning_rate, weight_decay, optimizer, scheduler, epochs: see `configure_optimizer`.
        id_weight, neighbourhood_weight, kl_weight: weights of the VGAE loss terms.
        teacher: a frozen teacher VGAE for KD, or ``None`` (kept out of the state dict and optimizer);
            the loss becomes task + `VGAEDistillationLoss` (whose latent projection is trained here).
        kd_latent_weight, kd_reconstruction_weight: weights of the two KD terms.
        teacher_outputs: ``{split: TeacherOutputs}``, the teacher's latent and reconstruction computed once
            per window (`kdgat_train.teacher_outputs`), read instead of running the teacher on each batch.
    """

    def __init__(self, *, net, learning_rate: float = 1e-3, weight_decay: float = 0.0, optimizer: str = "adamw",
                 scheduler: str = "none", epochs: int = 1, id_weight: float = 0.1,
                 neighbourhood_weight: float = 1.0, kl_weight: float = 0.01, teacher=None,
                 kd_latent_weight: float = 1.0, kd_reconstruction_weight: float = 1.0,
                 teacher_outputs: dict | None = None) -> None:
        super().__init__()
        self.net = net
        self._set_teacher(teacher, teacher_outputs)
        self.kd_loss = (
            VGAEDistillationLoss(net.latent_dim, teacher.latent_dim, kd_latent_weight, kd_reconstruction_weight)
            if teacher is not None else None
        )
        self.optimizer_name, self.scheduler_name, self.epochs = optimizer, scheduler, epochs
        self.learning_rate, self.weight_decay = learning_rate, weight_decay
        self.weights = {"id_weight": id_weight, "neighbourhood_weight": neighbourhood_weight, "kl_weight": kl_weight}
        self.val_auroc = BinaryAUROC()
        self._val_attacks = self._val_windows = 0

    def forward(self, batch):
        return self.net.forward_batch(batch)

    def _objective(self, batch, output, split: str):
        """The loss this run minimises, logged as ``{split}/loss``: the VGAE loss, plus with a teacher the
        `VGAEDistillationLoss` (then ``{split}/task_loss`` and ``{split}/kd_loss`` are logged too).
        Validation reads the same objective, so checkpointing and early stopping choose by what the run
        optimises."""
        task = vgae_loss(output, batch.x, batch.node_id, batch.edge_index, batch.batch, **self.weights)
        loss = task
        if self.teacher is not None:
            teacher_output = self.teacher_output(batch, split)
            kd = self.kd_loss(output.z, teacher_output.z, output.x_reconstruction, teacher_output.x_reconstruction)
            loss = task + kd
        parts = {"loss": loss} if self.teacher is None else {"loss": loss, "task_loss": task, "kd_loss": kd}
        self.log_dict({f"{split}/{name}": value for name, value in parts.items()}, on_step=False, on_epoch=True,
                      batch_size=batch.num_graphs, sync_dist=True)
        return loss

    def training_step(self, batch, batch_index):
        return self._objective(batch, self(batch), "train")

    def validation_step(self, batch, batch_index):
        output = self(batch)
        self._objective(batch, output, "val")
        self.val_auroc.update(anomaly_score(batch_graph_errors(output, batch, anomaly_only=True)), batch.y)
        self._val_attacks += int(batch.y.sum())
        self._val_windows += batch.num_graphs

    def on_validation_epoch_end(self):
        if 0 < self._val_attacks < self._val_windows:  # AUROC needs both classes
            self.log("val/anomaly_auroc", self.val_auroc.compute(), sync_dist=True)
        self.val_auroc.reset()
        self._val_attacks = self._val_windows = 0

    def configure_optimizers(self):
        return configure_optimizer(self.parameters(), optimizer=self.optimizer_name, learning_rate=self.learning_rate,
                                   weight_decay=self.weight_decay, scheduler=self.scheduler_name, epochs=self.epochs)
