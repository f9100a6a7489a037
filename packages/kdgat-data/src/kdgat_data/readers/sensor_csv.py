"""BATADAL- and SWaT-style plant CSVs: a timestamp column, one column per sensor/actuator, a label.

BATADAL: ``DATETIME, L_T1, ..., ATT_FLAG`` with ``dd/mm/yy HH`` times and labels 1 (attack) /
0 or -999 (not labelled as attack). SWaT: `` Timestamp, FIT101, ..., Normal/Attack`` with
``dd/mm/yyyy hh:mm:ss AM`` times and labels ``Normal`` / ``Attack`` (also ``A ttack``, as in the
published file). Which label values mean attack or normal is configurable; any other value is an
error naming the file and line. An optional attack-window table (``start,end`` columns, ``#``
comments) overrides the per-row flags: rows inside a window are attacks named after the window.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kdgat_data.frames import NORMAL
from kdgat_data.readers.errors import DataFormatError, OnBadRow, ReadReport
from kdgat_data.sensors import SensorTable

TIMESTAMP_FORMATS = ("%d/%m/%y %H", "%d/%m/%Y %I:%M:%S %p", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
                     "%Y-%m-%dT%H:%M:%S")
LABEL_COLUMNS = ("ATT_FLAG", "Normal/Attack", "label", "Label", "attack")


@dataclass(frozen=True)
class SensorCsvOptions:
    """How to read one plant CSV (a catalog entry's ``sensors`` block carries these).

    Args:
        timestamp_column: default: the first column.
        label_column: default: the first of ``LABEL_COLUMNS`` present; ``None`` when there is none
            (an unlabelled file: every row normal unless an attack window covers it).
        attack_values / normal_values: label values (as written, stripped) meaning attack / normal.
        attack_windows: CSV with ``start`` and ``end`` columns (and optionally ``attack_id``) whose
            rows override the per-row flags; matched on this file's time range.
        attack_type: name of flagged attack rows outside any window.
    """

    timestamp_column: str | None = None
    label_column: str | None = None
    attack_values: tuple[str, ...] = ("1", "Attack", "A ttack")
    normal_values: tuple[str, ...] = ("0", "-999", "Normal")
    attack_windows: str | None = None
    attack_type: str = "attack"
    on_bad_row: OnBadRow = OnBadRow.ERROR

    def fingerprint(self) -> dict[str, str]:
        """What changes the records read (part of the cache key)."""
        return {"format": "sensor_csv", "timestamp_column": str(self.timestamp_column), "label_column": str(self.label_column),
                "attack_values": ",".join(self.attack_values), "normal_values": ",".join(self.normal_values),
                "attack_windows": _file_digest(self.attack_windows), "attack_type": self.attack_type,
                "on_bad_row": str(self.on_bad_row)}


def _parse_time(text: str, path: Path, line: int) -> float:
    for fmt in TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise DataFormatError(path, f"timestamp: expected a date like 04/07/16 00 (dd/mm/yy HH), 28/12/2015 10:00:00 AM "
                                f"or 2016-07-04 00:00:00, got {text!r}", line)


def read_attack_windows(path: str | Path) -> list[tuple[float, float, str]]:
    """``(start, end, name)`` per row of an attack-window table (inclusive times)."""
    path = Path(path)
    lines = [(number, line) for number, line in enumerate(path.read_text().splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return []
    header = next(csv.reader([lines[0][1]]))
    for needed in ("start", "end"):
        if needed not in header:
            raise DataFormatError(path, f"header: expected columns start and end, got {', '.join(header)}", lines[0][0])
    windows = []
    for number, text in lines[1:]:
        row = dict(zip(header, next(csv.reader([text])), strict=False))
        name = f"attack_{row['attack_id']}" if row.get("attack_id") else "attack"
        windows.append((_parse_time(row["start"].strip(), path, number), _parse_time(row["end"].strip(), path, number), name))
    return windows


def read_sensor_csv(path: str | Path, options: SensorCsvOptions | None = None) -> tuple[SensorTable, ReadReport]:
    """Read one plant CSV into a time-sorted `SensorTable`."""
    options = options or SensorCsvOptions()
    path = Path(path)
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle, skipinitialspace=True))
    if not rows:
        raise DataFormatError(path, "empty file: expected a header row")
    header = [name.strip() for name in rows[0]]
    time_column = options.timestamp_column or header[0]
    if time_column not in header:
        raise DataFormatError(path, f"header: no timestamp column {time_column!r} (columns: {', '.join(header)})", 1)
    label_column = options.label_column or next((c for c in LABEL_COLUMNS if c in header), None)
    sensors = [c for c in header if c not in (time_column, label_column) and c]
    if not sensors:
        raise DataFormatError(path, "header: expected sensor/actuator columns besides the timestamp and label", 1)
    time_index, sensor_index = header.index(time_column), [header.index(c) for c in sensors]
    label_index = header.index(label_column) if label_column else None
    timestamps, values, labels, keep = [], [], [], []
    skipped = 0
    for line, row in enumerate(rows[1:], 2):
        if not row or all(not cell.strip() for cell in row):
            continue
        try:
            if len(row) < len(header):
                raise DataFormatError(path, f"row: expected {len(header)} columns, got {len(row)}", line)
            stamp = _parse_time(row[time_index].strip(), path, line)
            try:
                reading = [float(row[i]) for i in sensor_index]
            except ValueError:
                bad = next(c for c, i in zip(sensors, sensor_index, strict=True) if not _is_float(row[i]))
                raise DataFormatError(path, f"{bad}: expected a number, got {row[header.index(bad)]!r}", line) from None
            flag = 0
            if label_index is not None:
                text = row[label_index].strip()
                if text in options.attack_values:
                    flag = 1
                elif text not in options.normal_values:
                    raise DataFormatError(path, f"{label_column}: expected one of "
                                                f"{', '.join(options.attack_values + options.normal_values)}, got {text!r}", line)
        except DataFormatError:
            if options.on_bad_row == OnBadRow.ERROR:
                raise
            skipped += 1
            continue
        timestamps.append(stamp)
        values.append(reading)
        labels.append(flag)
        keep.append(line)
    timestamp = np.asarray(timestamps, np.float64)
    order = np.argsort(timestamp, kind="stable")
    label = np.asarray(labels, np.uint8)[order]
    names = [NORMAL]
    codes = np.zeros(len(label), np.int16)
    if label.any():
        names.append(options.attack_type)
        codes[label == 1] = 1
    if options.attack_windows:
        for start, end, name in read_attack_windows(options.attack_windows):
            inside = (timestamp[order] >= start) & (timestamp[order] <= end)
            if inside.any():
                if name not in names:
                    names.append(name)
                label[inside] = 1
                codes[inside] = names.index(name)
    table = SensorTable(timestamp[order], np.asarray(values, np.float32).reshape(-1, len(sensors))[order], tuple(sensors),
                        label, codes, tuple(names), str(path))
    return table, ReadReport(str(path), "sensor_csv", len(table), skipped)


def _file_digest(path: str | None) -> str:
    """The attack-window table's path and content hash (edits to it rebuild the cache)."""
    if not path:
        return ""
    import hashlib

    return f"{path}:{hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]}" if Path(path).is_file() else path


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
