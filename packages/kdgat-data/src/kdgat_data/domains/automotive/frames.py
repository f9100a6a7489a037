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

from kdgat_data.record_table import NORMAL, RecordTable


@dataclass(frozen=True)
class FrameTable(RecordTable):
    record_columns = ("timestamp", "can_id", "dlc", "payload", "label", "attack_type")

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
        super().__post_init__()
        if self.payload.shape != (len(self), 8):
            raise ValueError(f"FrameTable.payload must be ({len(self)}, 8), got {self.payload.shape}")

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

