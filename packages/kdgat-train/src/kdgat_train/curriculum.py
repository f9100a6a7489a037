"""VGAE-guided curriculum for the GAT (DESIGN.md §4, failure 4 of §9).

Every epoch the training sample is drawn anew: all attack windows plus ``ratio x attacks`` normal
windows, where the ratio ramps linearly from ``start_ratio`` (1:1) to ``end_ratio`` (10:1) over the
epochs and normals are drawn without replacement with probability growing with their difficulty
(the VGAE's reconstruction error), so the hardest normals come first.
"""

from __future__ import annotations

import numpy as np
import torch
from kdgat_data.batching import WindowBatches
from kdgat_models.window_scorer import VGAEWindowScorer
from lightning.pytorch.callbacks import Callback

from kdgat_train.window_scoring import window_scores


class CurriculumBatches(WindowBatches):
    """`WindowBatches` whose window set is re-sampled at the start of every pass (epoch).

    Args:
        arrays: training store. difficulty: (number of normal windows,) VGAE error of each normal
            window, in the order of ``np.flatnonzero(y == 0)``. epochs: length of the ramp.
        start_ratio, end_ratio: normal:attack ratio of the first and the last epoch.
        difficulty_exponent: normals are drawn with weight (difficulty rank)^exponent; 0 = uniformly.
        seed: the draw of epoch e uses ``seed + e``. Other arguments as `WindowBatches`.
    """

    def __init__(self, *, arrays, batch_size: int, difficulty: np.ndarray, epochs: int, start_ratio: float = 1.0,
                 end_ratio: float = 10.0, difficulty_exponent: float = 4.0, seed: int = 0, transform=None) -> None:
        y = np.asarray(arrays.y)
        self.normals, self.attacks = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
        if len(difficulty) != len(self.normals):
            raise ValueError(f"difficulty has {len(difficulty)} values for {len(self.normals)} normal windows")
        ranks = np.argsort(np.argsort(difficulty)) + 1.0  # 1 = easiest
        self.weights = torch.as_tensor(ranks**difficulty_exponent, dtype=torch.float64)  # favours the hardest
        self.difficulty = np.asarray(difficulty, dtype=np.float64)
        self.epochs, self.start_ratio, self.end_ratio, self.seed = epochs, start_ratio, end_ratio, seed
        self.epoch = 0
        self.last: dict[str, float] = {}
        self.metric_prefix = "curriculum"
        super().__init__(arrays, batch_size, indices=self._sample(0), shuffle=True,
                         generator=torch.Generator().manual_seed(seed), transform=transform)

    def ratio(self, epoch: int) -> float:
        progress = min(epoch / max(self.epochs - 1, 1), 1.0)
        return self.start_ratio + (self.end_ratio - self.start_ratio) * progress

    def _sample(self, epoch: int) -> np.ndarray:
        wanted = min(len(self.normals), round(self.ratio(epoch) * max(len(self.attacks), 1)))
        generator = torch.Generator().manual_seed(self.seed + epoch)
        chosen = torch.multinomial(self.weights, wanted, replacement=False, generator=generator).numpy()
        self.last = {
            "normal_to_attack": wanted / max(len(self.attacks), 1),
            "normal_difficulty": float(self.difficulty[chosen].mean()) if wanted else 0.0,
            "windows": float(wanted + len(self.attacks)),
        }
        return np.sort(np.concatenate([self.attacks, self.normals[chosen]]))

    def __iter__(self):
        self.indices = self._sample(self.epoch)
        self.epoch += 1
        return super().__iter__()

    def __len__(self) -> int:
        wanted = min(len(self.normals), round(self.ratio(self.epoch) * max(len(self.attacks), 1)))
        return -(-(wanted + len(self.attacks)) // self.batch_size)


class CurriculumLogger(Callback):
    """Logs the epoch's draw of a re-sampled training set under its ``metric_prefix``: the curriculum's
    normal:attack ratio and the mean difficulty of its normal windows (``curriculum/...``), or the
    class-balanced draw's attack share and distinct windows (``sampling/...``)."""

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        batches = getattr(trainer.datamodule, "train_set", None)
        for key, value in getattr(batches, "last", {}).items():
            pl_module.log(f"{batches.metric_prefix}/{key}", value)


def normal_difficulty(vgae, arrays, window: int, batch_size: int = 256) -> np.ndarray:
    """Reconstruction difficulty of every normal window: the frozen VGAE's anomaly score (features +
    neighbourhood error), by the scorer evaluation and deployment use. ``window``: the most nodes a window has."""
    normals = np.flatnonzero(np.asarray(arrays.y) == 0)
    return window_scores(VGAEWindowScorer(vgae=vgae, window=window), arrays, batch_size, indices=normals)
