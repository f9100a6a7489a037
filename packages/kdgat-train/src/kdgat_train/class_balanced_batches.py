"""Class-balanced sampling for the supervised GAT (``training_config.sampling=balanced``, issue 13).

Real captures give a supervised GAT a few hundred training windows, most of them normal (or, on a
flood capture, most of them attacks). Class-weighted CE re-weights the loss; balanced sampling
instead shows the model each class equally often: every epoch draws as many windows as the
training split holds, with replacement, each class with probability 1/2 (each window with
probability ``1 / (2 x its class's count)``), so the minority class's windows recur within an epoch
and the majority's are sub-sampled. The draw is new every epoch and seeded.
"""

from __future__ import annotations

import numpy as np
import torch
from kdgat_data.batching import WindowBatches


class ClassBalancedBatches(WindowBatches):
    """`WindowBatches` whose windows are re-drawn, class-balanced with replacement, every pass (epoch).

    Args:
        arrays: training store (both classes must be present).
        batch_size: windows per batch.
        seed: seeds the generator every epoch's draw comes from.
        transform: applied to each batch.
        source: what the store is, for the error message when a class is missing.
    """

    def __init__(self, *, arrays, batch_size: int, seed: int = 0, transform=None, source: str = "the training split") -> None:
        y = np.asarray(arrays.y)
        counts = np.bincount(y.astype(np.int64), minlength=2)[:2]
        if (counts == 0).any():
            raise ValueError(f"training_config.sampling=balanced: {source} has {counts[0]} normal and {counts[1]} attack "
                             "windows; balanced sampling needs both classes")
        self.weights = torch.as_tensor(1.0 / (2.0 * counts[y.astype(np.int64)]), dtype=torch.float64)
        self.labels = y
        self.last: dict[str, float] = {}
        self.metric_prefix = "sampling"
        super().__init__(arrays, batch_size, shuffle=False, generator=torch.Generator().manual_seed(seed), transform=transform)

    def _sample(self) -> np.ndarray:
        """``len(arrays)`` window indices drawn for the next epoch (already in random order)."""
        drawn = torch.multinomial(self.weights, len(self.weights), replacement=True, generator=self.generator).numpy()
        labels = self.labels[drawn]
        self.last = {"attack_share": float(labels.mean()), "distinct_windows": float(len(np.unique(drawn)))}
        return drawn

    def __iter__(self):
        self.indices = self._sample()
        return super().__iter__()

    @staticmethod
    def expected_class_counts(arrays) -> torch.Tensor:
        """(2,) normal and attack windows one epoch shows on average: half the split each."""
        half = len(arrays) / 2.0
        return torch.tensor([half, half], dtype=torch.float)
