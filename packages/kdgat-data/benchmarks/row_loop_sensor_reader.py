"""The per-row plant-CSV reader kdgat-data used before the polars rewrite, kept only as the reference
that bench_readers.py times and compares against; not imported by the package."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from kdgat_data.domains.watertreatment.sensor_csv import (
    LABEL_COLUMNS,
    SensorCsvOptions,
    _parse_time,
    read_attack_windows,
)
from kdgat_data.domains.watertreatment.sensors import SensorTable
from kdgat_data.readers.errors import DataFormatError, OnBadRow, ReadReport
from kdgat_data.record_table import NORMAL


def read_sensor_csv_row_by_row(path: str | Path, options: SensorCsvOptions | None = None) -> tuple[SensorTable, ReadReport]:
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


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
