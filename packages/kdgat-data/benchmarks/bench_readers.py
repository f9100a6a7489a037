"""Flow- and plant-reader speed: the polars readers against the per-row loops they replaced, on a
generated IoT-23-style CSV (default 1 M flows), a generated BATADAL-style plant CSV (default 1 M
hourly rows of 12 tags) and, when present, the shared captures; both must give identical tables.

    uv run python packages/kdgat-data/benchmarks/bench_readers.py [--flows 1000000] [--plant-rows 1000000]

Prints rows/s of each reader (median of ``--repeats`` reads), the speed-up of the medians, and whether
the tables are identical (target: >= 20x).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from kdgat_data.domains.internet.flow_readers import read_flows  # noqa: E402
from kdgat_data.domains.watertreatment.sensor_csv import read_sensor_csv  # noqa: E402
from row_loop_flow_reader import read_flows_row_by_row  # noqa: E402
from row_loop_sensor_reader import read_sensor_csv_row_by_row  # noqa: E402

HEADER = ("ts,uid,id.orig_h,id.orig_p,id.resp_h,id.resp_p,proto,service,duration,orig_bytes,resp_bytes,conn_state,"
          "local_orig,local_resp,missed_bytes,history,orig_pkts,orig_ip_bytes,resp_pkts,resp_ip_bytes,tunnel_parents,"
          "label,detailed-label")


def generate(path: Path, flows: int, seed: int = 0) -> None:
    """An IoT-23-style labelled CSV: 500 hosts, out of time order, 30 % malicious in three kinds, '-' fields."""
    rng = np.random.default_rng(seed)
    hosts = np.array([f"192.168.{i // 250}.{i % 250}" for i in range(500)])
    malicious = rng.random(flows) < 0.3
    kinds = np.array(["PartOfAHorizontalPortScan", "C&C", "DDoS"])[rng.integers(0, 3, flows)]
    columns = {
        "ts": np.char.mod("%.6f", 1.5e9 + rng.random(flows) * 86_400),
        "uid": np.char.add("C", np.char.mod("%d", np.arange(flows))),
        "src": hosts[rng.integers(0, 500, flows)], "sport": np.char.mod("%d", rng.integers(1024, 65535, flows)),
        "dst": hosts[rng.integers(0, 500, flows)], "dport": np.char.mod("%d", rng.integers(1, 1024, flows)),
        "proto": np.array(["tcp", "udp", "icmp"])[rng.integers(0, 3, flows)], "service": np.full(flows, "-"),
        "duration": np.where(rng.random(flows) < 0.2, "-", np.char.mod("%.6f", rng.exponential(2.0, flows))),
        "ob": np.char.mod("%d", rng.integers(0, 5000, flows)), "rb": np.char.mod("%d", rng.integers(0, 5000, flows)),
        "state": np.array(["SF", "S0", "REJ", "OTH"])[rng.integers(0, 4, flows)],
        "rest": np.full(flows, "-,-,0,S"),
        "op": np.char.mod("%d", rng.integers(1, 50, flows)), "oib": np.full(flows, "100"),
        "rp": np.char.mod("%d", rng.integers(0, 50, flows)), "rib": np.full(flows, "100"), "tp": np.full(flows, "-"),
        "label": np.where(malicious, "Malicious", "Benign"), "detail": np.where(malicious, kinds, "-"),
    }
    lines = columns["ts"]
    for name in list(columns)[1:]:
        lines = np.char.add(np.char.add(lines, ","), columns[name])
    path.write_text(HEADER + "\n" + "\n".join(lines.tolist()) + "\n")


def generate_plant(path: Path, rows: int, tags: int = 12, seed: int = 0) -> None:
    """A plant CSV with one row per second (SWaT-like ``YYYY-mm-dd HH:MM:SS`` times), ``tags``
    readings and BATADAL's ATT_FLAG values 0 / -999 / 1."""
    rng = np.random.default_rng(seed)
    seconds = np.datetime64("2016-07-04T00:00:00") + np.arange(rows).astype("timedelta64[s]")
    lines = np.char.replace(np.datetime_as_string(seconds, unit="s"), "T", " ")
    for k in range(tags):
        lines = np.char.add(np.char.add(lines, ","), np.char.mod("%.4f", rng.normal(3 + k, 1, rows)))
    flags = np.where(rng.random(rows) < 0.05, "1", np.where(rng.random(rows) < 0.5, "0", "-999"))
    lines = np.char.add(np.char.add(lines, ","), flags)
    header = "DATETIME," + ",".join(f"T{k}" for k in range(tags)) + ",ATT_FLAG"
    path.write_text(header + "\n" + "\n".join(lines.tolist()) + "\n")


def identical(a, b) -> bool:
    same = all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a) if f.name not in ("source",))
    entities = ("hosts", "sensors")
    return same and all(getattr(a, e, None) == getattr(b, e, None) for e in entities) and a.attack_types == b.attack_types


def timed(reader, path: Path, repeats: int):
    """``(result, median seconds)`` of ``repeats`` reads."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        result, _ = reader(path)
        seconds.append(time.perf_counter() - started)
    return result, float(np.median(seconds))


def compare(path: Path, label: str, new_reader=read_flows, old_reader=read_flows_row_by_row, unit="flows",
            repeats: int = 3) -> float:
    new_reader(path)  # polars' first call on a layout (its parser set-up) is not the reader's speed
    new, new_s = timed(new_reader, path, repeats)
    old, old_s = timed(old_reader, path, repeats)
    rows = len(new)
    print(f"{label:<46} {rows:>9,} {unit}  polars {rows / new_s:>12,.0f}/s  per-row {rows / old_s:>10,.0f}/s  "
          f"speed-up {old_s / new_s:5.1f}x  identical: {'yes' if identical(new, old) else 'NO'}")
    return old_s / new_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=1_000_000)
    parser.add_argument("--plant-rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="reads of each reader per file; medians are compared")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flows.csv"
        generate(path, args.flows)
        compare(path, f"generated IoT-23-style CSV ({args.flows:,} rows)", repeats=args.repeats)
        plant = Path(folder) / "plant.csv"
        generate_plant(plant, args.plant_rows)
        compare(plant, f"generated BATADAL-style CSV ({args.plant_rows:,} rows)", read_sensor_csv,
                read_sensor_csv_row_by_row, "rows", repeats=args.repeats)
    shared = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "internet"
    for relative in ("iot23/CTU-Malware-Capture-34-1-labeled.csv", "stratosphere-008/conn.log.labeled"):
        if (shared / relative).is_file():
            compare(shared / relative, relative)
    batadal = shared.parent / "watertreatment" / "batadal" / "BATADAL_train_dataset_1.csv"
    if batadal.is_file():
        compare(batadal, "batadal/BATADAL_train_dataset_1.csv", read_sensor_csv, read_sensor_csv_row_by_row, "rows")


if __name__ == "__main__":
    main()
