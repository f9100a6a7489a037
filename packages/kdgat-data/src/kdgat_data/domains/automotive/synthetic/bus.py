"""CAN bus timing: frames queued by ECUs go out one at a time, lowest ID first (arbitration)."""

from __future__ import annotations

import heapq

import numpy as np


def frame_duration(dlc: np.ndarray, bitrate: int) -> np.ndarray:
    """Seconds on the wire of standard frames: 47 overhead bits + 8 per byte, ~10 % bit stuffing."""
    return (47 + 8 * np.asarray(dlc, np.float64)) * 1.1 / bitrate


def schedule_on_bus(ready: np.ndarray, can_id: np.ndarray, dlc: np.ndarray, bitrate: int) -> tuple[np.ndarray, np.ndarray]:
    """Transmit queued frames in CAN arbitration order.

    Whenever the bus goes idle, the pending frame with the lowest ID wins; a frame is time-stamped
    when its transmission ends (as a receiver logs it).

    Args:
        ready: (N,) time each frame is queued by its ECU.
        can_id, dlc: (N,) arbitration ID and payload length.

    Returns:
        ``(order, timestamp)``: the transmission order (indices into the inputs) and the
        reception time of each transmitted frame, both (N,).
    """
    by_ready = np.lexsort((can_id, ready))
    duration = frame_duration(dlc, bitrate)
    order = np.empty(len(ready), np.int64)
    stamp = np.empty(len(ready), np.float64)
    pending: list[tuple[int, float, int]] = []
    bus_free = -np.inf
    k = 0
    ready_sorted = ready[by_ready].tolist()
    ids = can_id.tolist()
    durations = duration.tolist()
    queue_index = by_ready.tolist()
    for out in range(len(ready)):
        if not pending and k < len(queue_index):
            bus_free = max(bus_free, ready_sorted[k])
        while k < len(queue_index) and ready_sorted[k] <= bus_free:
            i = queue_index[k]
            heapq.heappush(pending, (ids[i], ready_sorted[k], i))
            k += 1
        _, _, i = heapq.heappop(pending)
        bus_free += durations[i]
        order[out] = i
        stamp[out] = bus_free
    return order, stamp
