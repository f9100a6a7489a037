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

from kdgat_data.record_table import NORMAL, RecordTable


@dataclass(frozen=True)
class SensorTable(RecordTable):
    record_columns = ("timestamp", "values", "label", "attack_type")

    timestamp: np.ndarray
    values: np.ndarray
    sensors: tuple[str, ...]
    label: np.ndarray
    attack_type: np.ndarray
    attack_types: tuple[str, ...] = (NORMAL,)
    source: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.values.shape != (len(self), len(self.sensors)):
            raise ValueError(f"SensorTable.values must be ({len(self)}, {len(self.sensors)}), got {self.values.shape}")
