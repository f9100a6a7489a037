"""The CAN-ID vocabulary: built from the training split only, frozen afterwards, index 0 = UNK."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

UNK_INDEX = 0


class Vocabulary:
    """Maps raw entity IDs to embedding rows; every ID never seen in training maps to `UNK_INDEX`.

    There is deliberately no way to add an ID after construction: the published system grew its
    vocabulary at test time, so test IDs got untrained embedding rows.

    Args:
        ids: the known raw IDs; they get indices 1..len(ids) in ascending ID order.
    """

    def __init__(self, ids: Iterable[int]) -> None:
        known = np.unique(np.fromiter(ids, np.int64))
        known.setflags(write=False)
        self._ids = known

    @classmethod
    def from_training(cls, training_ids: Iterable[np.ndarray]) -> Vocabulary:
        """The vocabulary of the IDs that occur in the given training arrays."""
        arrays = [np.unique(a) for a in training_ids]
        return cls(np.unique(np.concatenate(arrays)) if arrays else np.empty(0, np.int64))

    @property
    def ids(self) -> np.ndarray:
        """Known raw IDs in index order (index = position + 1)."""
        return self._ids

    def __len__(self) -> int:
        """Embedding rows needed: known IDs plus UNK."""
        return len(self._ids) + 1

    def encode(self, raw_ids: np.ndarray) -> np.ndarray:
        """Raw IDs (any shape) -> int32 indices; unknown IDs -> `UNK_INDEX`."""
        raw_ids = np.asarray(raw_ids, np.int64)
        if len(self._ids) == 0:
            return np.zeros(raw_ids.shape, np.int32)
        position = np.searchsorted(self._ids, raw_ids).clip(max=len(self._ids) - 1)
        known = self._ids[position] == raw_ids
        return np.where(known, position + 1, UNK_INDEX).astype(np.int32)

    def to_list(self) -> list[int]:
        return self._ids.tolist()
