"""`RecordTable`: the base of every domain's table of records (CAN frames, network flows, plant rows).

A domain's table is a frozen dataclass that subclasses `RecordTable` and names its per-record
columns in ``record_columns``; slicing, reordering, the row-count checks and the attack counts are
written once here. Everything above the readers (splits, the cache, the graph builders' callers)
sees only this interface.

Shapes (N records): ``timestamp`` (N,) float64 seconds; every column in ``record_columns`` has N rows; ``label`` (N,) uint8
(1 = attack record); ``attack_type`` (N,) int16 codes into ``attack_types`` (0 = "normal").
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Self

import numpy as np

NORMAL = "normal"


class RecordTable:
    """Time-ordered records of one source file; subclasses are frozen dataclasses that declare the
    fields (``label``, ``attack_type``, ``attack_types`` and their own columns)."""

    record_columns: ClassVar[tuple[str, ...]] = ()
    timestamp: np.ndarray  # (N,) float64 seconds, non-decreasing once read
    label: np.ndarray
    attack_type: np.ndarray
    attack_types: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.label)
        name = type(self).__name__
        for column in self.record_columns:
            rows = len(getattr(self, column))
            if rows != n:
                raise ValueError(f"{name}.{column} has {rows} rows, label has {n}")
        types = self.attack_types
        if not types or types[0] != NORMAL:
            raise ValueError(f"{name}.attack_types[0] must be {NORMAL!r}, got {types[:1]}")

    def __len__(self) -> int:
        return len(self.label)

    @property
    def attack_frames(self) -> int:
        """Attack records (frames, flows or time steps)."""
        return int(self.label.sum())

    def attack_counts(self) -> dict[str, int]:
        """Attack records per attack-type name (normal records excluded)."""
        counts = np.bincount(self.attack_type[self.label == 1], minlength=len(self.attack_types))
        return {name: int(c) for name, c in zip(self.attack_types, counts, strict=True) if c and name != NORMAL}

    def slice(self, start: int, stop: int) -> Self:
        """Records ``start:stop`` (views, no copy)."""
        return dataclasses.replace(self, **{c: getattr(self, c)[start:stop] for c in self.record_columns})

    def take(self, order: np.ndarray) -> Self:
        """The records at the indices ``order`` (a copy), e.g. a stable time sort."""
        return dataclasses.replace(self, **{c: getattr(self, c)[order] for c in self.record_columns})


def remap_attack_types(table: RecordTable, names: list[str]) -> np.ndarray:
    """``table.attack_type`` re-coded into the shared name list ``names`` (extended in place)."""
    mapping = np.empty(len(table.attack_types), np.int16)
    for code, name in enumerate(table.attack_types):
        if name not in names:
            names.append(name)
        mapping[code] = names.index(name)
    return mapping[table.attack_type]
