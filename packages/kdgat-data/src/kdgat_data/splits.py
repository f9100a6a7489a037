"""Leakage-free splits: validation is the time-contiguous tail of each training file.

Random window splits leak (overlapping windows and duplicated files put the same frames on both
sides); a tail block per file keeps every validation frame later in time than, and disjoint
from, the training frames of that file. Windows are built separately on each side.
"""

from __future__ import annotations

from kdgat_data.domains.base import RecordTable


def split_train_validation(frames: RecordTable, validation_fraction: float) -> tuple[RecordTable, RecordTable]:
    """``(head, tail)`` with ``len(tail) = round(len(frames) * validation_fraction)``."""
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    n = len(frames)
    n_validation = round(n * validation_fraction)
    return frames.slice(0, n - n_validation), frames.slice(n - n_validation, n)
