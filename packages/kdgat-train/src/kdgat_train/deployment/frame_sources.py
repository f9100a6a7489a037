"""Where `kdgat-detect` gets frames: a capture file (any format the readers accept) or a CAN bus.

Both yield ``(FrameTable chunk, received_at)`` with ``received_at`` the perf_counter time the
chunk's first frame reached the detector, so the added latency is measured from it. A bus chunk
closes when it holds ``max_frames`` frames or its first frame has waited ``max_delay_s``: the
micro-batch bounds the added delay. Error frames, remote frames and frames with more than 8 data
bytes are reported through ``problem`` and skipped; so is an error raised by the bus while
receiving (after ``MAX_CONSECUTIVE_BUS_ERRORS`` in a row, the bus is given up with an error).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_data.domains.automotive.readers.dispatch import VECTOR_LOG_SUFFIXES, ReaderOptions, read_frames
from kdgat_data.readers.text import capture_suffix

MAX_CONSECUTIVE_BUS_ERRORS = 100


def read_capture(path: Path, reader_options: dict | None):
    """Capture ``path`` read as training read its dataset (the run's reader options), except that a
    malformed row is skipped and counted rather than an error: ``(FrameTable, ReadReport)``."""
    options = {**(reader_options or {}), "on_bad_row": "skip"}
    if capture_suffix(path) in VECTOR_LOG_SUFFIXES:  # a Vector log names its format, whatever the training files were
        options |= {"format": None, "mapping": None, "files": None}  # detected from the suffix
    return read_frames(Path(path), ReaderOptions(**options))


def file_chunks(table: FrameTable, chunk_frames: int) -> Iterator[tuple[FrameTable, float]]:
    """The frames of a read capture in chunks of ``chunk_frames``, as if they arrived now."""
    for start in range(0, len(table), chunk_frames):
        yield table.slice(start, min(start + chunk_frames, len(table))), time.perf_counter()


def _table(timestamps: list[float], ids: list[int], dlcs: list[int], payloads: list[bytes]) -> FrameTable:
    payload = np.zeros((len(ids), 8), np.uint8)
    for row, data in enumerate(payloads):
        payload[row, : len(data)] = np.frombuffer(data, np.uint8)
    return FrameTable.build(timestamp=np.asarray(timestamps, np.float64), can_id=np.asarray(ids, np.int64),
                            dlc=np.asarray(dlcs, np.uint8), payload=payload, source="bus")


def malformed_reason(message) -> str | None:
    """Why a python-can message cannot be a frame of the stream, or None when it can."""
    if message.is_error_frame:
        return "an error frame"
    if message.is_remote_frame:
        return "a remote frame (no payload)"
    if len(message.data) > 8 or message.dlc > 8:
        return f"{max(len(message.data), message.dlc)} data bytes (classic CAN carries at most 8)"
    return None


def bus_chunks(bus, *, max_frames: int, max_delay_s: float, idle_exit_s: float | None,
               problem: Callable[[str], None], stop: Callable[[], bool] = lambda: False) -> Iterator[tuple[FrameTable, float]]:
    """Chunks of the frames received on python-can ``bus`` until ``stop()``, or ``idle_exit_s`` without a frame."""
    import can

    timestamps, ids, dlcs, payloads = [], [], [], []
    first_at: float | None = None
    last_frame_at = time.perf_counter()
    consecutive_errors = 0
    while not stop():
        now = time.perf_counter()
        wait = 0.05 if first_at is None else max(0.0, max_delay_s - (now - first_at))
        try:
            message = bus.recv(timeout=wait)
            consecutive_errors = 0
        except can.CanError as error:
            consecutive_errors += 1
            problem(f"bus error while receiving ({error}); continuing")
            if consecutive_errors >= MAX_CONSECUTIVE_BUS_ERRORS:
                raise RuntimeError(f"{consecutive_errors} bus errors in a row: giving up on the bus") from error
            message = None
        now = time.perf_counter()
        if message is not None:
            last_frame_at = now
            reason = malformed_reason(message)
            if reason is not None:
                problem(f"skipped a frame at t={message.timestamp:.6f} (ID 0x{message.arbitration_id:X}): {reason}")
            else:
                first_at = now if first_at is None else first_at
                timestamps.append(message.timestamp)
                ids.append(message.arbitration_id)
                dlcs.append(len(message.data))
                payloads.append(bytes(message.data))
        full = len(ids) >= max_frames
        due = first_at is not None and now - first_at >= max_delay_s
        if ids and (full or due):
            yield _table(timestamps, ids, dlcs, payloads), first_at
            timestamps, ids, dlcs, payloads, first_at = [], [], [], [], None
        if idle_exit_s is not None and now - last_frame_at >= idle_exit_s:
            break
    if ids:
        yield _table(timestamps, ids, dlcs, payloads), first_at
