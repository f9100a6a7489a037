"""`SensorTable`: plant sensor/actuator readings over time (the watertreatment domain's records).

Shapes (N time steps, S sensors and actuators):
    timestamp   (N,)   float64 seconds since the epoch
    values      (N, S) float32 raw readings, one column per tag in ``sensors``
    label       (N,)   uint8   1 = attack time step
    attack_type (N,)   int16   code into ``attack_types`` (0 = "normal")
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kdgat_data.frames import NORMAL


@dataclass(frozen=True)
class SensorTable:
    timestamp: np.ndarray
    values: np.ndarray
    sensors: tuple[str, ...]
    label: np.ndarray
    attack_type: np.ndarray
    attack_types: tuple[str, ...] = (NORMAL,)
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.timestamp)
        if self.values.shape != (n, len(self.sensors)):
            raise ValueError(f"SensorTable.values must be ({n}, {len(self.sensors)}), got {self.values.shape}")
        if len(self.label) != n or len(self.attack_type) != n:
            raise ValueError("SensorTable.label and attack_type need one value per time step")

    def __len__(self) -> int:
        return len(self.timestamp)

    @property
    def attack_frames(self) -> int:
        return int(self.label.sum())

    def slice(self, start: int, stop: int) -> SensorTable:
        return SensorTable(self.timestamp[start:stop], self.values[start:stop], self.sensors, self.label[start:stop],
                           self.attack_type[start:stop], self.attack_types, self.source)

    def attack_counts(self) -> dict[str, int]:
        counts = np.bincount(self.attack_type[self.label == 1], minlength=len(self.attack_types))
        return {name: int(c) for name, c in zip(self.attack_types, counts, strict=True) if c and name != NORMAL}
