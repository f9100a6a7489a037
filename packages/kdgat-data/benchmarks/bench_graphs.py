"""Benchmark of the data path on one core: CSV parsing, window graphs at S=100 and S=1, peak RSS.

Run:  uv run python packages/kdgat-data/benchmarks/bench_graphs.py [--frames 1000000] [--repeats 3]

Targets (DESIGN.md §8): graph construction >= 10 M frames/s at S=100 and >= 150 K windows/s at
S=1 on one core, the S=1 figure next to a plain vectorised reference measured in the same run. Traffic comes from the synthetic generator (40 periodic IDs + fuzzing, so
about 30 nodes and 60 edges per 100-frame window, as in real captures).
"""

from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")  # one core for every library, set before imports
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402


def timed(function, repeats: int) -> tuple[float, float, object]:
    """Median and best wall time of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        result = None  # free the previous result first, as a real caller would
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def pandas_reference(path: Path) -> int:
    """The usual pandas way: read_csv, then decode hex IDs and payloads row by row."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    ids = frame["arbitration_id"].map(lambda s: int(s, 16)).to_numpy()
    payload = np.stack(frame["data_field"].map(lambda s: np.frombuffer(bytes.fromhex(s).ljust(8, b"\0"), np.uint8)))
    timestamps = frame["timestamp"].astype(float).to_numpy()
    return len(ids) + len(payload) + len(timestamps)


def plain_vectorised_stride1(can_id: np.ndarray, payload: np.ndarray, window: int = 100) -> int:
    """A plain vectorised reference at S=1 (numpy over all windows at once, no per-window loop, none
    of the builder's tricks): each window's nodes with their occurrence count, last position and
    mean of each payload byte / 255, and its de-duplicated transition edges with counts. It leaves
    out the builder's edge timing and degree features. Returns the number of windows."""
    windows = np.lib.stride_tricks.sliding_window_view(can_id.astype(np.int64), window)  # (Wn, W), a view
    count = len(windows)
    rows = np.arange(count)[:, None]
    order = np.argsort(windows, axis=1, kind="stable")  # frames of each row grouped by ID
    ordered = np.take_along_axis(windows, order, axis=1)
    first = np.ones_like(ordered, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    starts = np.flatnonzero(first.ravel())  # one per node
    node_counts = np.diff(np.append(starts, ordered.size))
    frames = (rows + order).ravel()  # the frame behind every sorted position
    sums = np.add.reduceat(payload[frames].astype(np.float32), starts, axis=0)  # (nodes, 8)
    means = sums / node_counts[:, None] / 255.0
    last = np.maximum.reduceat(order.ravel(), starts) / (window - 1)
    node_window = np.broadcast_to(rows, ordered.shape).ravel()[starts]
    pairs = np.sort((windows[:, :-1] << 12) | windows[:, 1:], axis=1)  # edges: distinct (src, dst) per row
    new = np.ones_like(pairs, dtype=bool)
    new[:, 1:] = pairs[:, 1:] != pairs[:, :-1]
    edge_starts = np.flatnonzero(new.ravel())
    edge_counts = np.diff(np.append(edge_starts, pairs.size))
    edge_window = np.broadcast_to(rows, pairs.shape).ravel()[edge_starts]
    node_ptr = np.searchsorted(node_window, np.arange(count + 1))
    edge_ptr = np.searchsorted(edge_window, np.arange(count + 1))
    assert node_ptr[-1] == len(means) == len(last) and edge_ptr[-1] == len(edge_counts)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=1_000_000, help="frames for parsing and S=100")
    parser.add_argument("--stride1-frames", type=int, default=200_000, help="frames for S=1")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warm-gib", type=int, default=16, help="GiB of memory to touch before measuring")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from kdgat_data.domains.automotive.readers.dispatch import read_frames
    from kdgat_data.domains.automotive.reference_graphs import reference_window_graph
    from kdgat_data.domains.automotive.synthetic.generator import generate_capture, write_can_train_test_csv
    from kdgat_data.domains.automotive.window_graphs import build_window_graphs
    from kdgat_data.vocabulary import Vocabulary

    # A fresh VM backs guest memory lazily: the first touch of each page costs a host fault
    # (~1 s per GiB here), charged to whichever step first allocates. Touch --warm-gib GiB at
    # once in a child process (so it does not count in our peak RSS): the numbers then measure
    # the code, not the hypervisor (on a physical machine this changes nothing).
    warm = f"import numpy as np; blocks = [np.ones(1 << 28, np.float32) for _ in range({args.warm_gib})]"
    subprocess.run([sys.executable, "-c", warm], check=False)

    print(f"kdgat-data benchmark, one core, {args.repeats} repeats (median)")
    table = generate_capture(np.random.default_rng(0), args.frames, "fuzzing")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "capture.csv"
        write_can_train_test_csv(table, path)
        size_mb = path.stat().st_size / 1e6
        seconds, _, (parsed, _) = timed(lambda: read_frames(path), args.repeats)
        print(f"CSV parse (polars + numpy hex): {len(parsed) / seconds / 1e6:6.2f} M frames/s  ({len(parsed)} frames, {size_mb:.0f} MB)")
        seconds, _, _ = timed(lambda: pandas_reference(path), 1)
        print(f"CSV parse (pandas reference):   {len(parsed) / seconds / 1e6:6.2f} M frames/s")

    index = Vocabulary(table.can_id[: len(table) // 2]).encode(table.can_id)

    def build(n: int, stride: int):
        return build_window_graphs(table.can_id[:n], table.payload[:n], table.label[:n], table.attack_type[:n],
                                   index[:n], window=100, stride=stride)

    seconds, best, graphs = timed(lambda: build(len(table), 100), args.repeats)
    nodes, edges = graphs.num_nodes / len(graphs), graphs.num_edges / len(graphs)
    print(f"graphs W=100 S=100: {len(table) / seconds / 1e6:6.2f} M frames/s median, {len(table) / best / 1e6:6.2f} best, "
          f"{len(graphs) / seconds / 1e3:7.1f} K windows/s (target >= 10 M frames/s; {nodes:.1f} nodes, {edges:.1f} edges per graph)")
    del graphs
    n1 = min(args.stride1_frames, len(table))
    seconds, best, graphs = timed(lambda: build(n1, 1), args.repeats)
    print(f"graphs W=100 S=1:   {len(graphs) / seconds / 1e3:7.1f} K windows/s median, {len(graphs) / best / 1e3:7.1f} best "
          f"(target >= 150 K windows/s; {len(graphs)} windows, ~{(graphs.num_nodes * 45 + graphs.num_edges * 52) / len(graphs) / 1e3:.1f} KB output each)")

    del graphs
    seconds, best, count = timed(lambda: plain_vectorised_stride1(table.can_id[:n1], table.payload[:n1]), args.repeats)
    print(f"plain vectorised reference S=1: {count / seconds / 1e3:7.1f} K windows/s median, {count / best / 1e3:7.1f} best "
          "(nodes with count, last position, payload means; edges with counts; no edge timing or degree features)")

    sample = 2000
    start = time.perf_counter()
    for s in range(sample):
        sl = slice(s * 100, s * 100 + 100)
        reference_window_graph(table.can_id[sl], table.payload[sl], table.label[sl], index[sl])
    print(f"naive per-window Python loop:  {sample / (time.perf_counter() - start) / 1e3:7.2f} K windows/s (reference)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
