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

from kdgat_data.domains.watertreatment.sensors import SensorTable
from kdgat_data.readers._polars import pl
from kdgat_data.readers.errors import BadRows, DataFormatError, OnBadRow, ReadReport
from kdgat_data.readers.text import delimited_fields
from kdgat_data.readers.time_order import stable_time_order
from kdgat_data.record_table import NORMAL

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


def _time_expression(text: pl.Expr, fmt: str) -> pl.Expr:
    """Epoch seconds of ``text`` in Python-style ``fmt`` (null where it does not fit). BATADAL's
    hour-only ``%d/%m/%y %H`` gets ``:00`` appended (polars needs minutes with hours)."""
    if fmt == "%d/%m/%y %H":
        text = pl.when(text.str.contains(r"^\d{1,2}/\d{1,2}/\d{2} \d{1,2}$")).then(text + ":00").otherwise(None)
        fmt = "%d/%m/%y %H:%M"
    return text.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False).dt.epoch("us").cast(pl.Float64) / 1e6


def plant_times(text: pl.Series) -> np.ndarray:
    """(N,) epoch seconds of timestamps in any of `TIMESTAMP_FORMATS` (NaN where none fits). The
    format of the first timestamp parses every row at once; only rows it misses try the others."""
    frame = pl.DataFrame({"t": text})
    first = pl.DataFrame({"t": [next((v for v in text.head(1000).to_list() if v), "")]})
    fits = [fmt for fmt in TIMESTAMP_FORMATS if first.select(_time_expression(pl.col("t"), fmt)).item() is not None]
    formats = [*fits[:1], *(fmt for fmt in TIMESTAMP_FORMATS if fmt not in fits[:1])]
    seconds = frame.select(_time_expression(pl.col("t"), formats[0])).to_series().to_numpy().astype(np.float64)
    missing = np.flatnonzero(np.isnan(seconds))
    if len(missing):
        rest = frame[missing].select(pl.coalesce([_time_expression(pl.col("t"), f) for f in formats[1:]]))
        seconds[missing] = rest.to_series().to_numpy().astype(np.float64)
    return seconds


def _numbers(rows: pl.DataFrame, cells: list[str]) -> np.ndarray:
    """(N, len(cells)) floats of the text columns ``cells`` (NaN where a field is not a number);
    a column is stripped of blanks only when it has fields the plain cast refused."""
    plain = rows.select([pl.col(c).cast(pl.Float64, strict=False) for c in cells])
    stripped = [c for c, name in zip(cells, plain.columns, strict=True)
                if plain[name].null_count() > rows[c].null_count()]
    if stripped:
        plain = plain.with_columns(rows.select([pl.col(c).str.strip_chars().cast(pl.Float64, strict=False) for c in stripped]))
    return plain.to_numpy().astype(np.float64).reshape(len(rows), len(cells))


def read_sensor_csv(path: str | Path, options: SensorCsvOptions | None = None) -> tuple[SensorTable, ReadReport]:
    """Read one plant CSV into a time-sorted `SensorTable`.

    Vectorised on polars: every malformed row (short, a bad time, a non-number reading, an unknown
    label) is found at once and reported or skipped through the shared bad-row collector, naming
    the file, the line and the field."""
    options = options or SensorCsvOptions()
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise DataFormatError(path, "empty file: expected a header row" if path.is_file() else "no such file")
    header, rows = delimited_fields(path, "csv")
    header = [name.strip() for name in header]
    if not header or not any(header):
        raise DataFormatError(path, "empty file: expected a header row")
    time_column = options.timestamp_column or header[0]
    if time_column not in header:
        raise DataFormatError(path, f"header: no timestamp column {time_column!r} (columns: {', '.join(header)})", 1)
    label_column = options.label_column or next((c for c in LABEL_COLUMNS if c in header), None)
    sensors = [c for c in header if c not in (time_column, label_column) and c]
    if not sensors:
        raise DataFormatError(path, "header: expected sensor/actuator columns besides the timestamp and label", 1)
    cells = [f"c{i}" for i in range(len(header))]
    cell = {name: cells[header.index(name)] for name in header if name}
    table = rows.select("line", "width", time_text=pl.col(cell[time_column]).str.strip_chars(),
                        label_text=pl.col(cell[label_column]).str.strip_chars() if label_column else pl.lit(None, pl.String))
    values = _numbers(rows, [cell[name] for name in sensors])
    time_text = table["time_text"]
    blank = (time_text.fill_null("") == "").to_numpy() & np.isnan(values).all(1)
    if label_column:
        blank &= (table["label_text"].fill_null("") == "").to_numpy()
    if blank.any():  # a line of empty fields (",,,,") is no row
        keep_rows = pl.Series(~blank)
        rows, table, values, time_text = rows.filter(keep_rows), table.filter(keep_rows), values[~blank], time_text.filter(keep_rows)
    timestamp = plant_times(time_text)
    short = table["width"].to_numpy() < len(header)
    bad = BadRows(str(path), table["line"].to_numpy())
    bad.add(short, lambda row: f"row: expected {len(header)} columns, got {table['width'][row]}")
    bad.add(~short & np.isnan(timestamp), lambda row: "timestamp: expected a date like 04/07/16 00 (dd/mm/yy HH), "
            f"28/12/2015 10:00:00 AM or 2016-07-04 00:00:00, got {table['time_text'][row]!r}")

    def number_problem(row: int) -> str:
        name = sensors[int(np.flatnonzero(np.isnan(values[row]))[0])]
        return f"{name}: expected a number, got {rows[cells[header.index(name)]][row]!r}"

    bad.add(~short & np.isnan(values).any(axis=1), number_problem)
    label = np.zeros(len(table), np.uint8)
    if label_column is not None:
        text = table["label_text"]
        is_attack = text.is_in(list(options.attack_values)).fill_null(False).to_numpy()
        is_normal = text.is_in(list(options.normal_values)).fill_null(False).to_numpy()
        allowed = ", ".join(options.attack_values + options.normal_values)
        bad.add(~short & ~is_attack & ~is_normal,
                lambda row: f"{label_column}: expected one of {allowed}, got {text[row]!r}")
        label = is_attack.astype(np.uint8)
    keep, skipped = bad.resolve(options.on_bad_row)
    timestamp, values, label = timestamp[keep], values[keep], label[keep]
    order = stable_time_order(timestamp)
    timestamp, values, label = timestamp[order], values[order], label[order]
    names = [NORMAL]
    codes = np.zeros(len(label), np.int16)
    if label.any():
        names.append(options.attack_type)
        codes[label == 1] = 1
    if options.attack_windows:
        for start, end, name in read_attack_windows(options.attack_windows):
            inside = (timestamp >= start) & (timestamp <= end)
            if inside.any():
                if name not in names:
                    names.append(name)
                label[inside] = 1
                codes[inside] = names.index(name)
    result = SensorTable(timestamp, values.astype(np.float32), tuple(sensors), label, codes, tuple(names), str(path))
    return result, ReadReport(str(path), "sensor_csv", len(result), skipped)


def _file_digest(path: str | None) -> str:
    """The attack-window table's path and content hash (edits to it rebuild the cache)."""
    if not path:
        return ""
    import hashlib

    return f"{path}:{hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]}" if Path(path).is_file() else path
