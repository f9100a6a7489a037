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

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kdgat_data.domains.internet.flows import PROTOCOLS, FlowTable
from kdgat_data.readers._polars import pl
from kdgat_data.readers.errors import BadRows, DataFormatError, OnBadRow, ReadReport
from kdgat_data.readers.text import delimited_fields, first_line
from kdgat_data.readers.time_order import stable_time_order
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


def _numbers(text: pl.Expr) -> pl.Expr:
    """Float of each (stripped) field; ``""``, ``-`` and ``(empty)`` (Zeek's unset) are 0; anything else null."""
    return pl.when(text.is_in(["", "-", "(empty)"]) | text.is_null()).then(0.0).otherwise(
        text.cast(pl.Float64, strict=False))


def _cic_timestamps(text: pl.Expr) -> pl.Expr:
    parsed = [text.str.strptime(pl.Datetime("us", "UTC"), pattern, strict=False) for pattern in CIC_TIME_FORMATS]
    return pl.coalesce(parsed).dt.epoch("us").cast(pl.Float64) / 1e6


def read_flows(path: str | Path, options: FlowOptions | None = None) -> tuple[FlowTable, ReadReport]:
    """Read one flow log (format detected from its first line) into a time-sorted `FlowTable`.

    Vectorised on polars; every malformed row is found at once and reported (or skipped) through the
    shared bad-row collector, naming the file, the line and what was expected."""
    options = options or FlowOptions()
    path = Path(path)
    fmt = flow_format(path)
    if fmt is None:
        raise DataFormatError(path, "not a flow log: expected a Zeek #fields header, a CSV with id.orig_h, or a CIC CSV with Src IP", 1)
    header, rows = delimited_fields(path, fmt, keep=lambda header: [i for i in _columns(header, fmt).values() if i is not None],
                                    strip=True)
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

    number_names = ("duration", "bytes_out", "bytes_in", "packets_out", "packets_in")
    table = rows.select(
        "line", "width",
        timestamp_text=field("timestamp"), label_text=field("label"), detail=field("detail") if columns.get("detail") is not None else pl.lit(""),
        src=field("src"), dst=field("dst"), proto_text=field("proto").str.to_lowercase(), port_text=field("dst_port"),
        state=field("state"),
        **{f"{name}_text": field(name) for name in number_names},
    ).with_columns(
        timestamp=(_cic_timestamps(pl.col("timestamp_text")) if fmt == "cic"
                   else pl.col("timestamp_text").cast(pl.Float64, strict=False)),
        **{name: _numbers(pl.col(f"{name}_text")) for name in number_names},
        port=pl.when(pl.col("port_text").is_in(["", "-"]) | pl.col("port_text").is_null()).then(-1.0)
        .otherwise(pl.col("port_text").cast(pl.Float64, strict=False)),
        value=pl.col("label_text").str.to_lowercase(),
    )
    normal = sorted({v.lower() for v in options.normal_values})
    attack = sorted({v.lower() for v in options.attack_values})
    background = sorted({v.lower() for v in options.background_values})
    any_attack = "*" in attack or fmt == "cic" and options.attack_values == FlowOptions.attack_values
    unset = ["", "-", "(empty)"]
    table = table.with_columns(
        short=pl.col("width") < len(header),
        dropped=pl.col("value").is_in(background) & pl.lit(options.background == "ignore"),
        is_normal=pl.col("value").is_in([*normal, *background]),  # background kept: normal
    ).with_columns(
        is_attack=~pl.col("is_normal") & (pl.col("value").is_in(attack) | pl.lit(any_attack)),
        kind=pl.when(pl.col("detail").is_in(unset) | pl.col("detail").is_null()).then(pl.col("label_text"))
        .otherwise(pl.col("detail")),
    )
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
    numeric = np.column_stack([table[name].to_numpy() for name in (*number_names, "port")])
    field_names = ("duration", "bytes_out", "bytes_in", "packets_out", "packets_in", "dst_port")

    def number_problem(row: int) -> str:
        column = int(np.flatnonzero(np.isnan(numeric[row]))[0])
        text = table[f"{field_names[column]}_text" if column < 5 else "port_text"][row]
        return f"expected numbers in the byte/packet/duration/port fields, got {field_names[column]} {text!r}"

    bad.add(~short & ~dropped & np.isnan(numeric).any(axis=1), number_problem)
    keep, skipped = bad.resolve(options.on_bad_row)
    kept = table.filter(pl.Series(keep & ~dropped))
    values = {name: kept[name].to_numpy() for name in number_names}
    if fmt == "cic":
        values["duration"] = values["duration"] / 1e6
        failed = (values["bytes_in"] == 0) & (values["packets_in"] == 0)
    else:
        failed = kept["state"].is_in(sorted(FAILED_STATES)).to_numpy()
    # host index in order of first appearance, source before destination of each flow: a host's
    # first position is 2 * flow (as source) or 2 * flow + 1 (as destination), found by a group-by
    position = pl.Series(np.arange(kept.height, dtype=np.int64) * 2)
    hosts = pl.concat([kept.select(host="src", position=position), kept.select(host="dst", position=position + 1)]) \
        .group_by("host").agg(pl.col("position").min()).sort("position")["host"]
    index = pl.Series(np.arange(len(hosts), dtype=np.int32))
    codes = kept.select(src=pl.col("src").replace_strict(hosts, index, return_dtype=pl.Int32),
                        dst=pl.col("dst").replace_strict(hosts, index, return_dtype=pl.Int32)).to_numpy() \
        if kept.height else np.zeros((0, 2), np.int32)
    label = kept["is_attack"].fill_null(False).to_numpy().astype(bool)
    kinds = [NORMAL, *sorted(kept.filter(pl.col("is_attack"))["kind"].unique().to_list())]
    attack_type = kept.select(pl.when(pl.col("is_attack")).then(pl.col("kind").replace_strict(
        kinds, pl.Series(np.arange(len(kinds), dtype=np.int16)), default=0, return_dtype=pl.Int16)).otherwise(0))
    protocols = kept["proto_text"].replace({"6": "tcp", "17": "udp", "1": "icmp"}).replace_strict(
        list(PROTOCOLS[:3]), [0, 1, 2], default=3, return_dtype=pl.Int8)
    result = FlowTable(
        timestamp=kept["timestamp"].to_numpy().astype(np.float64), src=codes[:, 0].astype(np.int32),
        dst=codes[:, 1].astype(np.int32), dst_port=kept["port"].to_numpy().astype(np.int32),
        proto=protocols.to_numpy().astype(np.int8),
        duration=values["duration"].astype(np.float32), bytes_out=values["bytes_out"].astype(np.float32),
        bytes_in=values["bytes_in"].astype(np.float32), packets_out=values["packets_out"].astype(np.float32),
        packets_in=values["packets_in"].astype(np.float32), failed=failed.astype(np.uint8), label=label.astype(np.uint8),
        attack_type=attack_type.to_series().to_numpy().astype(np.int16),
        hosts=tuple(hosts.to_list()), attack_types=tuple(kinds), source=str(path),
    )
    if len(result) > 1 and (np.diff(result.timestamp) < 0).any():  # Zeek logs are mostly in order already
        result = result.take(stable_time_order(result.timestamp))
    return result, ReadReport(str(path), fmt, len(result), skipped)
