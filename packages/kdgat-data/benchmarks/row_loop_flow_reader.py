"""The per-row flow reader kdgat-data used before the polars rewrite (commit 7365051), kept only as the
reference that bench_readers.py times and compares against; not imported by the package."""
from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from kdgat_data.domains.internet.flow_readers import (
    CIC_COLUMNS,
    CIC_TIME_FORMATS,
    FAILED_STATES,
    FlowOptions,
    flow_format,
)
from kdgat_data.domains.internet.flows import PROTOCOLS, FlowTable
from kdgat_data.readers.errors import DataFormatError, OnBadRow, ReadReport
from kdgat_data.record_table import NORMAL


def _zeek_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    header, rows, separator = None, [], "\t"
    with open(path, errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                if line.startswith("#fields"):
                    header = line.split(separator)[1:]
                continue
            if line:
                rows.append((number, line.split(separator)))
    if header is None:
        raise DataFormatError(path, "no #fields line: expected a Zeek conn.log header")
    return header, rows


def _csv_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    with open(path, newline="", errors="replace") as handle:
        reader = csv.reader(handle)
        header = [c.strip() for c in next(reader, [])]
        return header, [(number, row) for number, row in enumerate(reader, 2) if row]


def _number(text: str) -> float:
    text = text.strip()
    return 0.0 if text in ("", "-", "(empty)") else float(text)


def read_flows_row_by_row(path: str | Path, options: FlowOptions | None = None) -> tuple[FlowTable, ReadReport]:
    """Read one flow log (format detected from its first line) into a time-sorted `FlowTable`."""
    options = options or FlowOptions()
    path = Path(path)
    fmt = flow_format(path)
    if fmt is None:
        raise DataFormatError(path, "not a flow log: expected a Zeek #fields header, a CSV with id.orig_h, or a CIC CSV with Src IP", 1)
    header, rows = _zeek_rows(path) if fmt == "zeek" else _csv_rows(path)
    if fmt == "cic":
        columns = {name: next((header.index(c) for c in spellings if c in header), None) for name, spellings in CIC_COLUMNS.items()}
        needed = ("src", "dst", "timestamp", "label")
    else:
        detail = "detailedlabel" if "detailedlabel" in header else "detailed-label"
        names = {"timestamp": "ts", "src": "id.orig_h", "dst": "id.resp_h", "dst_port": "id.resp_p", "proto": "proto",
                 "duration": "duration", "bytes_out": "orig_bytes", "bytes_in": "resp_bytes", "packets_out": "orig_pkts",
                 "packets_in": "resp_pkts", "state": "conn_state", "label": "label", "detail": detail}
        columns = {name: header.index(column) if column in header else None for name, column in names.items()}
        needed = ("src", "dst", "timestamp")
    missing = [CIC_COLUMNS[n][0] if fmt == "cic" else n for n in needed if columns[n] is None]
    if missing:
        raise DataFormatError(path, f"header: missing column(s) {', '.join(missing)} (source/destination hosts and time are required)", 1)
    normal = {v.lower() for v in options.normal_values}
    attack = {v.lower() for v in options.attack_values}
    background = {v.lower() for v in options.background_values}
    any_attack = "*" in attack or fmt == "cic" and options.attack_values == FlowOptions.attack_values
    records, skipped, hosts = [], 0, {}
    for number, row in rows:
        try:
            if len(row) < len(header):
                raise DataFormatError(path, f"row: expected {len(header)} fields, got {len(row)}", number)
            stamp = _timestamp(row[columns["timestamp"]], fmt, path, number)
            label_text = row[columns["label"]].strip() if columns["label"] is not None else "benign"
            value = label_text.lower()
            if value in background:
                if options.background == "ignore":
                    continue
                value = next(iter(normal), "benign")
            if value in normal:
                flag, kind = 0, NORMAL
            elif value in attack or any_attack:
                detail = row[columns["detail"]].strip() if columns.get("detail") is not None else ""
                flag, kind = 1, (detail if detail not in ("", "-", "(empty)") else label_text)
            else:
                allowed = sorted(normal | attack | background)
                raise DataFormatError(path, f"label: expected one of {', '.join(allowed)}, got {label_text!r}", number)
            def get(name: str, row: list[str] = row) -> str:
                return row[columns[name]] if columns.get(name) is not None else ""

            proto_text = get("proto").strip().lower()
            proto = {"6": "tcp", "17": "udp", "1": "icmp"}.get(proto_text, proto_text)
            duration = _number(get("duration")) / (1e6 if fmt == "cic" else 1.0)
            port_text = get("dst_port").strip()
            port = int(float(port_text)) if port_text not in ("", "-") else -1
            values = [_number(get(n)) for n in ("bytes_out", "bytes_in", "packets_out", "packets_in")]
        except ValueError as error:
            if not isinstance(error, DataFormatError):
                error = DataFormatError(path, f"expected numbers in the byte/packet/duration/port fields ({error})", number)
            if options.on_bad_row == OnBadRow.ERROR:
                raise error from None
            skipped += 1
            continue
        state = get("state").strip()
        failed = state in FAILED_STATES if fmt != "cic" else values[1] == 0 and values[3] == 0
        src = hosts.setdefault(row[columns["src"]].strip(), len(hosts))
        dst = hosts.setdefault(row[columns["dst"]].strip(), len(hosts))
        records.append((stamp, src, dst, port, PROTOCOLS.index(proto) if proto in PROTOCOLS else 3, duration, *values,
                        failed, flag, kind))
    kinds = [NORMAL, *sorted({r[-1] for r in records if r[-2] == 1})]
    columns_ = list(zip(*records, strict=True)) if records else [[] for _ in range(14)]
    table = FlowTable(
        timestamp=np.asarray(columns_[0], np.float64), src=np.asarray(columns_[1], np.int32), dst=np.asarray(columns_[2], np.int32),
        dst_port=np.asarray(columns_[3], np.int32), proto=np.asarray(columns_[4], np.int8),
        duration=np.asarray(columns_[5], np.float32), bytes_out=np.asarray(columns_[6], np.float32),
        bytes_in=np.asarray(columns_[7], np.float32), packets_out=np.asarray(columns_[8], np.float32),
        packets_in=np.asarray(columns_[9], np.float32), failed=np.asarray(columns_[10], np.uint8),
        label=np.asarray(columns_[11], np.uint8), attack_type=np.asarray([kinds.index(k) for k in columns_[12]], np.int16),
        hosts=tuple(hosts), attack_types=tuple(kinds), source=str(path),
    )
    table = table.take(np.argsort(table.timestamp, kind="stable"))
    return table, ReadReport(str(path), fmt, len(table), skipped)


def _timestamp(text: str, fmt: str, path: Path, line: int) -> float:
    text = text.strip()
    if fmt != "cic":
        try:
            return float(text)
        except ValueError:
            raise DataFormatError(path, f"ts: expected epoch seconds such as 1655071198.444458, got {text!r}", line) from None
    for pattern in CIC_TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise DataFormatError(path, f"Timestamp: expected a date like 03/07/2017 08:55:58, got {text!r}", line)
