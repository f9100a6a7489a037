"""Network-flow logs: Zeek ``conn.log`` (tab-separated, ``#fields`` header, labelled variants), the
same fields as CSV (IoT-23), and CIC-style flow CSVs (``Src IP``, ``Dst IP``, ``Timestamp``, ``Label``).

One row = one flow from a source host to a destination host. Labels: values in ``normal_values``
are normal, in ``attack_values`` attacks (named by the detailed label when there is one; ``*``
makes every other value an attack named by itself, the CIC convention), in ``background_values``
either dropped (``background="ignore"``) or normal; any other value is an error naming the file
and line. Flows are sorted by time (Zeek writes a flow when it ends).

Every column the graphs read (hosts, time, port, protocol, duration, byte and packet counters,
Zeek's conn_state, the label) must be in the header: a missing one is an error, never zeros. CIC
headers are matched case-insensitively in the spellings of CICFlowMeter, CIC-IDS2017 and its
"improved" relabel; CIC timestamps may carry fractional seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kdgat_data.domains.internet.flows import PROTOCOLS, FlowTable
from kdgat_data.readers._polars import pl
from kdgat_data.readers.errors import BadRows, DataFormatError, OnBadRow, ReadReport
from kdgat_data.readers.text import delimited_fields, first_line
from kdgat_data.record_table import NORMAL

FAILED_STATES = {"S0", "REJ", "RSTO", "RSTOS0", "RSTR", "RSTRH", "SH", "SHR", "OTH", "S1"}  # no full exchange
CIC_COLUMNS = {  # our name -> accepted CIC spellings (matched stripped and case-insensitively)
    "src": ("Src IP", "Source IP"), "dst": ("Dst IP", "Destination IP"), "timestamp": ("Timestamp",),
    "dst_port": ("Dst Port", "Destination Port"), "proto": ("Protocol",), "duration": ("Flow Duration",),
    # CICFlowMeter 4 / CSE-CIC-IDS2018, CIC-IDS2017, and the "improved" CIC-IDS2017 relabel (Engelen et al.)
    "packets_out": ("Tot Fwd Pkts", "Total Fwd Packets", "Total Fwd Packet"),
    "packets_in": ("Tot Bwd Pkts", "Total Backward Packets", "Total Bwd Packets"),
    "bytes_out": ("TotLen Fwd Pkts", "Total Length of Fwd Packets", "Total Length of Fwd Packet"),
    "bytes_in": ("TotLen Bwd Pkts", "Total Length of Bwd Packets", "Total Length of Bwd Packet"),
    "label": ("Label",),
}
ZEEK_COLUMNS = {"timestamp": "ts", "src": "id.orig_h", "dst": "id.resp_h", "dst_port": "id.resp_p", "proto": "proto",
                "duration": "duration", "bytes_out": "orig_bytes", "bytes_in": "resp_bytes", "packets_out": "orig_pkts",
                "packets_in": "resp_pkts", "state": "conn_state", "label": "label"}
# every field the graphs read: a missing one is an error, never a column of zeros (failed flows, no bytes)
REQUIRED = ("src", "dst", "timestamp", "dst_port", "proto", "duration", "bytes_out", "bytes_in", "packets_out",
            "packets_in", "label")
CIC_TIME_FORMATS = ("%d/%m/%Y %H:%M:%S%.f", "%d/%m/%Y %H:%M", "%d/%m/%Y %I:%M:%S %p", "%d/%m/%Y %I:%M %p",
                    "%Y-%m-%d %H:%M:%S%.f")  # %.f: optional fractional seconds (2017-07-07 13:39:36.267908)


@dataclass(frozen=True)
class FlowOptions:
    """How to label flows (a catalog entry's ``flows`` block carries these); values are case-insensitive."""

    normal_values: tuple[str, ...] = ("benign", "normal")
    attack_values: tuple[str, ...] = ("malicious", "attack")
    background_values: tuple[str, ...] = ("background",)
    background: str = "ignore"  # or "normal"
    on_bad_row: OnBadRow = OnBadRow.ERROR
    window_seconds: float | None = None  # time windows of T seconds instead of W flows
    stride_seconds: float | None = None

    def fingerprint(self) -> dict[str, str]:
        return {"format": "flows", "normal_values": ",".join(self.normal_values), "attack_values": ",".join(self.attack_values),
                "background_values": ",".join(self.background_values), "background": self.background,
                "on_bad_row": str(self.on_bad_row), "window_seconds": str(self.window_seconds),
                "stride_seconds": str(self.stride_seconds)}


def flow_format(path: Path) -> str | None:
    """``zeek``, ``zeek_csv``, ``cic`` or None, from the first line."""
    first = first_line(path)
    if first.startswith("#separator") or first.startswith("#fields"):
        return "zeek"
    columns = {c.strip().lower() for c in first.split(",")}
    if "id.orig_h" in columns:
        return "zeek_csv"
    if columns & {"src ip", "source ip"}:
        return "cic"
    return None


def _columns(header: list[str], fmt: str) -> dict[str, int | None]:
    """Our field name -> its column index in ``header`` (None when the file has no such column)."""
    if fmt == "cic":
        lowered = [c.strip().lower() for c in header]
        return {name: next((lowered.index(c.lower()) for c in spellings if c.lower() in lowered), None)
                for name, spellings in CIC_COLUMNS.items()}
    detail = "detailedlabel" if "detailedlabel" in header else "detailed-label"
    names = {**ZEEK_COLUMNS, "detail": detail}
    return {name: header.index(column) if column in header else None for name, column in names.items()}


NUMBER_FIELDS = ("duration", "bytes_out", "bytes_in", "packets_out", "packets_in")
UNSET = ["", "-", "(empty)"]  # Zeek's unset and empty fields


def _numbers(field: pl.Expr, typed: bool, unset: float = 0.0) -> pl.Expr:
    """Float of each (stripped) field; ``""``, ``-`` and ``(empty)`` (Zeek's unset) are ``unset``;
    anything else null. A ``typed`` column was parsed as Float64 already (unset fields null)."""
    if typed:
        return field.fill_null(unset)
    return pl.when(field.is_in(UNSET) | field.is_null()).then(unset).otherwise(field.cast(pl.Float64, strict=False))


def _cic_timestamps(text: pl.Expr) -> pl.Expr:
    parsed = [text.str.strptime(pl.Datetime("us", "UTC"), pattern, strict=False) for pattern in CIC_TIME_FORMATS]
    return pl.coalesce(parsed).dt.epoch("us").cast(pl.Float64) / 1e6


def _numeric_columns(header: list[str], fmt: str) -> list[int]:
    """The columns a clean file holds as numbers (Zeek's time included), parsed as such on the fast path."""
    columns = _columns(header, fmt)
    names = (*NUMBER_FIELDS, "dst_port") if fmt == "cic" else (*NUMBER_FIELDS, "dst_port", "timestamp")
    return [columns[name] for name in names if columns[name] is not None]


def _flow_rows(path: Path, fmt: str, typed: bool) -> tuple[list[str], pl.DataFrame, bool]:
    """``(header, table, parsed_as_numbers)``: one row per data line, the fields the graphs read parsed
    (numbers as Float64, null where not a number) beside their text. ``typed``: numeric columns straight
    from the CSV parser where the file allows it (``parsed_as_numbers``; their text is then the number
    itself, so messages need a reading with ``typed=False``)."""
    header, rows = delimited_fields(path, fmt, keep=lambda header: [i for i in _columns(header, fmt).values() if i is not None],
                                    strip=True, numbers=(lambda header: _numeric_columns(header, fmt)) if typed else None)
    columns = _columns(header, fmt)
    needed = REQUIRED if fmt == "cic" else (*REQUIRED, "state")
    missing = [" or ".join(repr(c) for c in CIC_COLUMNS[n]) if fmt == "cic" else repr(ZEEK_COLUMNS[n])
               for n in needed if columns[n] is None]
    if missing:
        raise DataFormatError(path, f"header: missing column(s) {'; '.join(missing)} (hosts, time, port, protocol, "
                                    f"duration, byte and packet counters and the label are all read; none is assumed)", 1)

    def field(name: str) -> pl.Expr:
        index = columns.get(name)
        return pl.col(f"c{index}") if index is not None else pl.lit("")

    def parsed(name: str) -> bool:
        return rows.schema.get(f"c{columns[name]}") == pl.Float64

    timestamp = (_cic_timestamps(pl.col("timestamp_text")) if fmt == "cic" else
                 pl.col("timestamp_text") if parsed("timestamp") else pl.col("timestamp_text").cast(pl.Float64, strict=False))
    table = rows.lazy().select(
        "line", "width",
        timestamp_text=field("timestamp"), label_text=field("label"), detail=field("detail") if columns.get("detail") is not None else pl.lit(""),
        src=field("src"), dst=field("dst"), proto_text=field("proto").str.to_lowercase(), port_text=field("dst_port"),
        state=field("state"),
        **{f"{name}_text": field(name) for name in NUMBER_FIELDS},
    ).with_columns(
        timestamp=timestamp,
        **{name: _numbers(pl.col(f"{name}_text"), parsed(name)) for name in NUMBER_FIELDS},
        port=_numbers(pl.col("port_text"), parsed("dst_port"), unset=-1.0),
        value=pl.col("label_text").str.to_lowercase(),
    ).collect()
    return header, table, any(parsed(name) for name in (*NUMBER_FIELDS, "dst_port"))


def read_flows(path: str | Path, options: FlowOptions | None = None) -> tuple[FlowTable, ReadReport]:
    """Read one flow log (format detected from its first line) into a time-sorted `FlowTable`.

    Vectorised on polars; every malformed row is found at once and reported (or skipped) through the
    shared bad-row collector, naming the file, the line and what was expected. A clean file has its
    numbers parsed by the CSV reader; a file with any bad row is read again as text for the messages."""
    options = options or FlowOptions()
    path = Path(path)
    fmt = flow_format(path)
    if fmt is None:
        raise DataFormatError(path, "not a flow log: expected a Zeek #fields header, a CSV with id.orig_h, or a CIC CSV with Src IP", 1)
    for typed in (True, False):
        header, table, parsed_as_numbers = _flow_rows(path, fmt, typed)
        table, bad, dropped = _checked_rows(path, fmt, header, table, options)
        if not bad.bad.any() or not parsed_as_numbers:
            break
    keep, skipped = bad.resolve(options.on_bad_row)
    kept = table.filter(pl.Series(keep & ~dropped))
    # host index in order of first appearance, source before destination of each flow: a host's
    # first position is 2 * flow (as source) or 2 * flow + 1 (as destination), found by a group-by
    position = pl.Series(np.arange(kept.height, dtype=np.int64) * 2)
    hosts = pl.concat([kept.select(host="src", position=position), kept.select(host="dst", position=position + 1)]) \
        .group_by("host").agg(pl.col("position").min()).sort("position")["host"]
    index = pl.Series(np.arange(len(hosts), dtype=np.int32))
    kinds = [NORMAL, *sorted(kept.select(pl.col("kind").filter(pl.col("is_attack")).unique())["kind"].to_list())]
    kept = kept.select(
        "timestamp", "port", *NUMBER_FIELDS,
        failed=(pl.col("bytes_in") == 0) & (pl.col("packets_in") == 0) if fmt == "cic"
        else pl.col("state").is_in(sorted(FAILED_STATES)),
        src=pl.col("src").replace_strict(hosts, index, return_dtype=pl.Int32),
        dst=pl.col("dst").replace_strict(hosts, index, return_dtype=pl.Int32),
        label=pl.col("is_attack").fill_null(False),
        attack_type=pl.when(pl.col("is_attack")).then(pl.col("kind").replace_strict(
            kinds, pl.Series(np.arange(len(kinds), dtype=np.int16)), default=0, return_dtype=pl.Int16)).otherwise(0),
        proto=pl.col("proto_text").replace({"6": "tcp", "17": "udp", "1": "icmp"}).replace_strict(
            list(PROTOCOLS[:3]), [0, 1, 2], default=3, return_dtype=pl.Int8),
    )
    if kept.height > 1 and (np.diff(kept["timestamp"].to_numpy()) < 0).any():  # Zeek logs are mostly in order
        kept = kept.sort("timestamp", maintain_order=True)  # stable: equal times keep the file's order
    values = {name: kept[name].to_numpy() for name in NUMBER_FIELDS}
    if fmt == "cic":
        values["duration"] = values["duration"] / 1e6
    result = FlowTable(
        timestamp=kept["timestamp"].to_numpy().astype(np.float64), src=kept["src"].to_numpy().astype(np.int32),
        dst=kept["dst"].to_numpy().astype(np.int32), dst_port=kept["port"].to_numpy().astype(np.int32),
        proto=kept["proto"].to_numpy().astype(np.int8),
        duration=values["duration"].astype(np.float32), bytes_out=values["bytes_out"].astype(np.float32),
        bytes_in=values["bytes_in"].astype(np.float32), packets_out=values["packets_out"].astype(np.float32),
        packets_in=values["packets_in"].astype(np.float32), failed=kept["failed"].to_numpy().astype(np.uint8),
        label=kept["label"].to_numpy().astype(np.uint8), attack_type=kept["attack_type"].to_numpy().astype(np.int16),
        hosts=tuple(hosts.to_list()), attack_types=tuple(kinds), source=str(path),
    )
    return result, ReadReport(str(path), fmt, len(result), skipped)


def _checked_rows(path: Path, fmt: str, header: list[str], table: pl.DataFrame,
                  options: FlowOptions) -> tuple[pl.DataFrame, BadRows, np.ndarray]:
    """``(table, bad, dropped)``: the rows labelled (``is_attack``, ``kind``), every malformed row
    collected with its message, and the background rows to drop."""
    normal = sorted({v.lower() for v in options.normal_values})
    attack = sorted({v.lower() for v in options.attack_values})
    background = sorted({v.lower() for v in options.background_values})
    any_attack = "*" in attack or fmt == "cic" and options.attack_values == FlowOptions.attack_values
    table = table.lazy().with_columns(
        short=pl.col("width") < len(header),
        dropped=pl.col("value").is_in(background) & pl.lit(options.background == "ignore"),
        is_normal=pl.col("value").is_in([*normal, *background]),  # background kept: normal
    ).with_columns(
        is_attack=~pl.col("is_normal") & (pl.col("value").is_in(attack) | pl.lit(any_attack)),
        kind=pl.when(pl.col("detail").is_in(UNSET) | pl.col("detail").is_null()).then(pl.col("label_text"))
        .otherwise(pl.col("detail")),
    ).collect()
    short, dropped, is_normal, is_attack = (table[name].fill_null(False).to_numpy().astype(bool)
                                            for name in ("short", "dropped", "is_normal", "is_attack"))
    timestamp = table["timestamp"].to_numpy().astype(np.float64)  # null (unparsable) -> nan

    bad = BadRows(str(path), table["line"].to_numpy())
    bad.add(short, lambda row: f"row: expected {len(header)} fields, got {table['width'][row]}")
    bad.add(~short & np.isnan(timestamp),
            (lambda row: f"Timestamp: expected a date like 03/07/2017 08:55:58 or 2017-07-07 13:39:36.267908, "
                         f"got {table['timestamp_text'][row]!r}")
            if fmt == "cic" else
            (lambda row: f"ts: expected epoch seconds such as 1655071198.444458, got {table['timestamp_text'][row]!r}"))
    allowed = ", ".join(sorted({*normal, *attack, *background}))
    bad.add(~short & ~dropped & ~is_normal & ~is_attack,
            lambda row: f"label: expected one of {allowed}, got {table['label_text'][row]!r}")
    numbers = {**{name: name for name in NUMBER_FIELDS}, "dst_port": "port"}  # field -> its parsed column
    not_a_number = table.select(pl.any_horizontal(pl.col(numbers.values()).is_nan().fill_null(True))).to_series()

    def number_problem(row: int) -> str:
        name = next(name for name, column in numbers.items() if table[column][row] is None or math.isnan(table[column][row]))
        text = table["port_text" if name == "dst_port" else f"{name}_text"][row]
        return f"expected numbers in the byte/packet/duration/port fields, got {name} {text!r}"

    bad.add(~short & ~dropped & not_a_number.to_numpy(), number_problem)
    return table, bad, dropped
