"""One line per epoch when the output is not a terminal (a Slurm log, a pipe, CI): the progress bar
writes carriage returns there, which turn a log into one unreadable line."""

from __future__ import annotations

import sys
import time

from lightning.pytorch.callbacks import Callback

SHOWN_METRICS = ("val/loss", "val/f1", "val/auroc", "train/loss", "train/reward")


def interactive() -> bool:
    """Whether a person watches the output (a terminal): then Lightning's progress bar is shown instead."""
    return sys.stderr.isatty()


class EpochSummaryLine(Callback):
    """Prints ``label epoch e/E: val/loss ... (elapsed s, ETA s)`` to stderr after each validation.

    Args:
        label: what is training (the stage's variant, e.g. ``student_standard_all_samples``).
        stream: where the lines go (default: stderr, the Slurm log of a cluster job).
    """

    def __init__(self, *, label: str, stream=None) -> None:
        self.label = label
        self.stream = stream
        self._started: float | None = None

    def on_train_start(self, trainer, pl_module) -> None:
        self._started = time.perf_counter()

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or self._started is None:
            return
        done = trainer.current_epoch + 1
        elapsed = time.perf_counter() - self._started
        eta = elapsed / done * max(trainer.max_epochs - done, 0)
        metrics = trainer.callback_metrics
        values = "  ".join(f"{name} {float(metrics[name]):.4f}" for name in SHOWN_METRICS if name in metrics)
        print(f"  {self.label} epoch {done}/{trainer.max_epochs}: {values}  ({elapsed:.0f} s elapsed, ETA {eta:.0f} s)",
              file=self.stream or sys.stderr, flush=True)
