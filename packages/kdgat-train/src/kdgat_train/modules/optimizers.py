"""The optimizer and learning-rate schedule of the graph stages (``training_config.optimizer`` /
``scheduler``), built in one place for the VGAE and the GAT."""

from __future__ import annotations

import torch

OPTIMIZERS = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam, "sgd": torch.optim.SGD}


def configure_optimizer(parameters, *, optimizer: str, learning_rate: float, weight_decay: float, scheduler: str,
                        epochs: int):
    """What ``LightningModule.configure_optimizers`` returns: the optimizer, and with ``scheduler="cosine"``
    a cosine decay of the learning rate to 0 over ``epochs``, stepped once per epoch.

    Args:
        parameters: the trainable parameters. optimizer: ``adamw``, ``adam`` or ``sgd`` (momentum 0.9).
        learning_rate, weight_decay: the optimizer's settings. scheduler: ``none`` or ``cosine``.
        epochs: the schedule's length (``training_config.epochs``).
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer {optimizer!r}: expected one of {', '.join(OPTIMIZERS)}")
    extra = {"momentum": 0.9} if optimizer == "sgd" else {}
    built = OPTIMIZERS[optimizer](parameters, lr=learning_rate, weight_decay=weight_decay, **extra)
    if scheduler == "none":
        return built
    if scheduler != "cosine":
        raise ValueError(f"scheduler {scheduler!r}: expected none or cosine")
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(built, T_max=max(epochs, 1))
    return {"optimizer": built, "lr_scheduler": {"scheduler": schedule, "interval": "epoch"}}
