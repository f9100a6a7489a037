"""What a stage's training cost: its windows per second and seconds, for run.json and the report's cost column."""

from __future__ import annotations

import time

from lightning.pytorch.callbacks import Callback


class TrainingCost(Callback):
    """Times the training part of every epoch (from the epoch's start to its validation, data loading
    included, validation excluded) and counts the windows trained on.

    Attributes:
        first_step_at: wall-clock time (``time.time()``) of the first training step, or None.
        train_s: seconds spent in training batches and their loading, over all epochs.
        windows: training windows seen (a window drawn twice in an epoch counts twice).
    """

    def __init__(self) -> None:
        self.first_step_at: float | None = None
        self.train_s = 0.0
        self.windows = 0
        self._epoch_started: float | None = None

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._epoch_started = time.perf_counter()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.first_step_at is None:
            self.first_step_at = time.time()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.windows += int(getattr(batch, "num_graphs", 0) or 0)

    def _stop_clock(self) -> None:
        if self._epoch_started is not None:
            self.train_s += time.perf_counter() - self._epoch_started
            self._epoch_started = None

    def on_validation_start(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self._stop_clock()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._stop_clock()  # an epoch without validation

    def timings(self) -> dict[str, float]:
        """``train_s`` and, where windows were counted, ``train_windows`` and ``train_windows_per_s``."""
        timings = {"train_s": self.train_s}
        if self.windows:
            timings.update({"train_windows": float(self.windows),
                            "train_windows_per_s": self.windows / self.train_s if self.train_s > 0 else float("nan")})
        return timings
