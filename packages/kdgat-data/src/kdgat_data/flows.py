"""`FlowTable`: network flows in time order (the internet domain's records).

Shapes (N flows, H distinct hosts of the file):
    timestamp   (N,) float64 seconds          src, dst     (N,) int32 index into ``hosts``
    dst_port    (N,) int32 (-1 unknown)        proto        (N,) int8 0 tcp, 1 udp, 2 icmp, 3 other
    duration    (N,) float32 seconds           bytes_out, bytes_in, packets_out, packets_in (N,) float32
    failed      (N,) uint8 1 = connection not established (Zeek S0, REJ, RSTO*, SH*, OTH; CIC: no payload back)
    label       (N,) uint8 1 = malicious       attack_type  (N,) int16 code into ``attack_types``
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from kdgat_data.frames import NORMAL

PROTOCOLS = ("tcp", "udp", "icmp", "other")


@dataclass(frozen=True)
class FlowTable:
    timestamp: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    dst_port: np.ndarray
    proto: np.ndarray
    duration: np.ndarray
    bytes_out: np.ndarray
    bytes_in: np.ndarray
    packets_out: np.ndarray
    packets_in: np.ndarray
    failed: np.ndarray
    label: np.ndarray
    attack_type: np.ndarray
    hosts: tuple[str, ...] = ()
    attack_types: tuple[str, ...] = (NORMAL,)
    source: str = ""

    def __len__(self) -> int:
        return len(self.timestamp)

    @property
    def attack_frames(self) -> int:
        return int(self.label.sum())

    def _columns(self) -> list[str]:
        return [f.name for f in fields(self) if f.name not in ("hosts", "attack_types", "source")]

    def slice(self, start: int, stop: int) -> FlowTable:
        return FlowTable(**{name: getattr(self, name)[start:stop] for name in self._columns()}, hosts=self.hosts,
                         attack_types=self.attack_types, source=self.source)

    def take(self, order: np.ndarray) -> FlowTable:
        return FlowTable(**{name: getattr(self, name)[order] for name in self._columns()}, hosts=self.hosts,
                         attack_types=self.attack_types, source=self.source)

    def attack_counts(self) -> dict[str, int]:
        counts = np.bincount(self.attack_type[self.label == 1], minlength=len(self.attack_types))
        return {name: int(c) for name, c in zip(self.attack_types, counts, strict=True) if c and name != NORMAL}
