"""`FlowTable`: network flows in time order (the internet domain's records).

Shapes (N flows, H distinct hosts of the file):
    timestamp   (N,) float64 seconds          src, dst     (N,) int32 index into ``hosts``
    dst_port    (N,) int32 (-1 unknown)        proto        (N,) int8 0 tcp, 1 udp, 2 icmp, 3 other
    duration    (N,) float32 seconds           bytes_out, bytes_in, packets_out, packets_in (N,) float32
    failed      (N,) uint8 1 = connection not established (Zeek S0, REJ, RSTO*, SH*, OTH; CIC: no payload back)
    label       (N,) uint8 1 = malicious       attack_type  (N,) int16 code into ``attack_types``
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kdgat_data.record_table import NORMAL, RecordTable

PROTOCOLS = ("tcp", "udp", "icmp", "other")


@dataclass(frozen=True)
class FlowTable(RecordTable):
    record_columns = ("timestamp", "src", "dst", "dst_port", "proto", "duration", "bytes_out", "bytes_in", "packets_out",
                      "packets_in", "failed", "label", "attack_type")

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
