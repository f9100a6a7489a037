"""candump captures and other python-can logs (unlabelled, or labelled by an attack-ID rule).

- candump screen format (``candump -ta`` saved to a file), which python-can does not read:
  `` (000.005001)  can0  18FEDF00   [8]  8A A0 28 7D 7D FF FF F5``
- candump log-file format (``candump -l``), Vector ASC and BLF: read by ``can.LogReader``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_data.domains.automotive.readers import columns
from kdgat_data.readers.errors import BadRows, DataFormatError, OnBadRow, ReadReport
from kdgat_data.readers.text import check_not_empty, read_lines

SCREEN_FORMAT = "candump_screen"
PYTHON_CAN_FORMAT = "python_can"
SCREEN_PATTERN = r"^\s*\(\s*([0-9.]+)\)\s+(\S+)\s+([0-9A-Fa-f]+)\s+\[(\d+)\]\s*((?:[0-9A-Fa-f]{2}\s*)*)$"


def label_by_ids(can_id: np.ndarray, attack_ids: Iterable[int] | None) -> np.ndarray | None:
    """Label rule: frames whose ID is in ``attack_ids`` are attacks; ``None`` leaves the capture unlabelled."""
    if attack_ids is None:
        return None
    return np.isin(can_id, np.fromiter(attack_ids, np.int64)).astype(np.uint8)


def read_candump_screen(
    path: str | Path,
    *,
    on_bad_row: OnBadRow = OnBadRow.ERROR,
    attack_ids: Iterable[int] | None = None,
    attack_type: str = "attack",
) -> tuple[FrameTable, ReadReport]:
    path = Path(path)
    lines, line_numbers = read_lines(path)
    parts = lines.str.extract_groups(SCREEN_PATTERN).struct.unnest()
    bad = BadRows(str(path), line_numbers)
    unmatched = parts["1"].is_null().to_numpy()
    bad.add(
        unmatched,
        lambda r: f"expected a candump line like ' (000.005001)  can0  18FEDF00   [8]  8A A0 ...', got {lines[r]!r}",
    )
    timestamp = columns.timestamps(parts["1"].fill_null("0"), bad, "timestamp")
    can_id = columns.hex_ids(parts["3"].fill_null("0"), bad, "CAN ID")
    dlc = columns.dlc_values(parts["4"].fill_null("0"), bad, "DLC")
    hex_text = parts["5"].fill_null("").str.replace_all(r"\s+", "")
    payload, parsed_dlc = columns.hex_payload(hex_text, bad, "data")
    bad.add(~unmatched & (parsed_dlc != dlc), lambda r: f"DLC [{int(dlc[r])}] but {int(parsed_dlc[r])} data bytes")
    keep, skipped = bad.resolve(on_bad_row)
    label = label_by_ids(can_id, attack_ids)
    table = FrameTable.build(
        timestamp=timestamp[keep], can_id=can_id[keep], dlc=parsed_dlc[keep], payload=payload[keep],
        label=None if label is None else label[keep], attack_type=attack_type, source=str(path),
    )
    return table, ReadReport(str(path), SCREEN_FORMAT, lines.len(), skipped, lines=line_numbers[keep])


def read_python_can_log(
    path: str | Path,
    *,
    on_bad_row: OnBadRow = OnBadRow.ERROR,
    attack_ids: Iterable[int] | None = None,
    attack_type: str = "attack",
) -> tuple[FrameTable, ReadReport]:
    """candump ``-l`` logs (``.log``), ``.asc`` and ``.blf`` through python-can; error frames are dropped."""
    import can  # python-can: imported here to keep CLI start-up light

    path = Path(path)
    check_not_empty(path)
    timestamps, ids, dlcs, payloads = [], [], [], []
    skipped = rows = 0
    try:
        for message in can.LogReader(str(path)):
            rows += 1
            if message.is_error_frame or message.is_remote_frame:
                skipped += 1
                continue
            data = bytes(message.data)
            if len(data) > 8:
                if OnBadRow(on_bad_row) is OnBadRow.ERROR:
                    raise DataFormatError(path, f"frame {rows} has {len(data)} data bytes; expected at most 8 (CAN FD is not supported)")
                skipped += 1
                continue
            if message.timestamp < 0:
                if OnBadRow(on_bad_row) is OnBadRow.ERROR:
                    raise DataFormatError(path, f"frame {rows} has timestamp {message.timestamp}; expected 0 or more seconds")
                skipped += 1
                continue
            timestamps.append(message.timestamp)
            ids.append(message.arbitration_id)
            dlcs.append(len(data))
            payloads.append(data.ljust(8, b"\0"))
    except DataFormatError:
        raise
    except Exception as error:  # noqa: BLE001 - python-can's parsers raise many types on a damaged file
        raise DataFormatError(
            path, f"python-can could not parse the log ({type(error).__name__}: {error}); expected a candump -l, ASC "
            "or BLF log, whole (a truncated or foreign file cannot be read)"
        ) from None
    if not timestamps:
        raise DataFormatError(path, "no CAN frames found; expected a candump -l, ASC or BLF log")
    can_id = np.asarray(ids, np.int64)
    label = label_by_ids(can_id, attack_ids)
    table = FrameTable.build(
        timestamp=np.asarray(timestamps, np.float64), can_id=can_id, dlc=np.asarray(dlcs, np.uint8),
        payload=np.frombuffer(b"".join(payloads), np.uint8).reshape(-1, 8),
        label=label, attack_type=attack_type, source=str(path),
    )
    return table, ReadReport(str(path), PYTHON_CAN_FORMAT, rows, skipped)


__all__ = ["label_by_ids", "read_candump_screen", "read_python_can_log"]
