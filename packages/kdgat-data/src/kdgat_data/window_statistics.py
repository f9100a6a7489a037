"""Per-window statistics of records: the features of the in-harness baselines (DESIGN.md §4).

Each domain adapter computes a fixed vector of statistics per window from the same records and the
same windows as its graphs (`GraphArrays.window_start` / ``window_stop``); the cache stores them per
split as ``window_stats.npy`` (G, F) float32 with the names in the manifest's folder
(``window_stats.json``). The helpers here reduce a per-record quantity over many (possibly
overlapping) record ranges at once, without a per-window Python loop.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

STATS_FILE = "window_stats.npy"
NAMES_FILE = "window_stats.json"


def range_sums(values: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Sums of ``values[start[g]:stop[g]]`` for every range (prefix sums; (N,) or (N, K) values)."""
    values = np.asarray(values, np.float64)
    prefix = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])
    return prefix[stop] - prefix[start]


def range_means(values: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    counts = np.maximum(stop - start, 1).reshape(-1, *([1] * (np.ndim(values) - 1)))
    return range_sums(values, start, stop) / counts


def range_stds(values: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    mean = range_means(values, start, stop)
    return np.sqrt(np.maximum(range_means(np.asarray(values, np.float64) ** 2, start, stop) - mean**2, 0))


def _reduce(ufunc, values: np.ndarray, start: np.ndarray, stop: np.ndarray, empty: float) -> np.ndarray:
    values = np.asarray(values, np.float64)
    if not len(start):
        return np.zeros(0)
    padded = np.concatenate([values, [empty]])  # so that stop == N is a valid index
    bounds = np.empty(2 * len(start), np.int64)
    bounds[0::2], bounds[1::2] = start, stop
    reduced = ufunc.reduceat(padded, bounds)[0::2]
    return np.where(stop > start, reduced, empty)


def range_max(values: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Maximum of ``values[start[g]:stop[g]]`` per range ((N,) values; -inf for an empty range)."""
    return _reduce(np.maximum, values, start, stop, -np.inf)


def range_min(values: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    return _reduce(np.minimum, values, start, stop, np.inf)


def range_entropy(codes: np.ndarray, start: np.ndarray, stop: np.ndarray, chunk_records: int = 10_000_000) -> np.ndarray:
    """Shannon entropy (nats) of the categorical values ``codes[start[g]:stop[g]]`` per range (0 for
    an empty range). Overlapping ranges (S < W) are expanded a chunk of about ``chunk_records``
    records at a time, so memory stays bounded at S=1."""
    _, dense = np.unique(np.asarray(codes), return_inverse=True)
    dense = dense.astype(np.int64).ravel()
    kinds = int(dense.max()) + 1 if len(dense) else 1
    start, stop = np.asarray(start, np.int64), np.asarray(stop, np.int64)
    lengths = stop - start
    entropy = np.zeros(len(start))
    first = 0
    while first < len(start):
        last = first + 1
        budget = lengths[first]
        while last < len(start) and budget + lengths[last] <= chunk_records:
            budget += lengths[last]
            last += 1
        part = lengths[first:last]
        offsets = np.concatenate([[0], np.cumsum(part)])
        window = np.repeat(np.arange(last - first), part)
        position = np.repeat(start[first:last], part) + (np.arange(offsets[-1]) - np.repeat(offsets[:-1], part))
        keys, counts = np.unique(window * kinds + dense[position], return_counts=True)
        owner = keys // kinds
        share = counts / part[owner]
        entropy[first:last] = np.bincount(owner, -share * np.log(share), minlength=last - first)
        first = last
    return entropy


def save_statistics(folder: Path, stats: np.ndarray) -> None:
    np.save(folder / STATS_FILE, np.ascontiguousarray(stats, np.float32))


def save_names(cache_folder: Path, names: tuple[str, ...]) -> None:
    (cache_folder / NAMES_FILE).write_text(json.dumps(list(names)) + "\n")


def load_statistics(split_folder: Path, cache_folder: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    return np.load(split_folder / STATS_FILE), tuple(json.loads((cache_folder / NAMES_FILE).read_text()))
