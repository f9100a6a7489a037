"""`FrameTable`: the one columnar table of CAN frames that every reader produces.

Shapes (N = number of frames):
    timestamp   (N,) float64 seconds
    can_id      (N,) int64 arbitration ID (11- or 29-bit)
    dlc         (N,) uint8 number of payload bytes, 0..8
    payload     (N, 8) uint8, bytes beyond the DLC are 0
    label       (N,) uint8, 1 = attack frame
    attack_type (N,) int16 code into ``attack_types`` (0 = "normal")
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NORMAL = "normal"


@dataclass(frozen=True)
class FrameTable:
    timestamp: np.ndarray
    can_id: np.ndarray
    dlc: np.ndarray
    payload: np.ndarray
    label: np.ndarray
    attack_type: np.ndarray
    attack_types: tuple[str, ...] = (NORMAL,)
    labelled: bool = True
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.timestamp)
        for name in ("can_id", "dlc", "label", "attack_type"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"FrameTable.{name} has {len(getattr(self, name))} rows, timestamp has {n}")
        if self.payload.shape != (n, 8):
            raise ValueError(f"FrameTable.payload must be ({n}, 8), got {self.payload.shape}")
        if self.attack_types[0] != NORMAL:
            raise ValueError("FrameTable.attack_types[0] must be 'normal'")

    def __len__(self) -> int:
        return len(self.timestamp)

    @property
    def attack_frames(self) -> int:
        return int(self.label.sum())

    def slice(self, start: int, stop: int) -> FrameTable:
        """Frames ``start:stop`` (a view, no copy)."""
        return FrameTable(
            self.timestamp[start:stop], self.can_id[start:stop], self.dlc[start:stop],
            self.payload[start:stop], self.label[start:stop], self.attack_type[start:stop],
            self.attack_types, self.labelled, self.source,
        )

    def attack_counts(self) -> dict[str, int]:
        """Attack frames per attack-type name (normal frames excluded)."""
        counts = np.bincount(self.attack_type[self.label == 1], minlength=len(self.attack_types))
        return {name: int(c) for name, c in zip(self.attack_types, counts, strict=True) if c and name != NORMAL}

    @classmethod
    def build(
        cls,
        *,
        timestamp: np.ndarray,
        can_id: np.ndarray,
        dlc: np.ndarray,
        payload: np.ndarray,
        label: np.ndarray | None = None,
        attack_names: np.ndarray | None = None,
        attack_type: str = "attack",
        source: str = "",
    ) -> FrameTable:
        """Assemble a table, deriving attack-type codes.

        Args:
            label: 0/1 per frame; ``None`` means the capture is unlabelled (all 0).
            attack_names: per-frame attack-type names (used where ``label`` is 1); when ``None``
                every attack frame gets ``attack_type``.
            attack_type: the name for attack frames of a binary-labelled capture.
        """
        n = len(timestamp)
        labelled = label is not None
        label = np.zeros(n, np.uint8) if label is None else label.astype(np.uint8)
        codes = np.zeros(n, np.int16)
        names: list[str] = [NORMAL]
        if attack_names is None:
            if label.any():
                names.append(attack_type)
                codes[label == 1] = 1
        else:
            attack_rows = label == 1
            uniques, inverse = np.unique(attack_names[attack_rows], return_inverse=True)
            names.extend(str(u) for u in uniques)
            codes[attack_rows] = inverse.astype(np.int16) + 1
        return cls(
            timestamp=np.ascontiguousarray(timestamp, np.float64),
            can_id=np.ascontiguousarray(can_id, np.int64),
            dlc=np.ascontiguousarray(dlc, np.uint8),
            payload=np.ascontiguousarray(payload, np.uint8),
            label=label,
            attack_type=codes,
            attack_types=tuple(names),
            labelled=labelled,
            source=source,
        )


def remap_attack_types(table: FrameTable, names: list[str]) -> np.ndarray:
    """``table.attack_type`` re-coded into the shared name list ``names`` (extended in place)."""
    mapping = np.empty(len(table.attack_types), np.int16)
    for code, name in enumerate(table.attack_types):
        if name not in names:
            names.append(name)
        mapping[code] = names.index(name)
    return mapping[table.attack_type]
