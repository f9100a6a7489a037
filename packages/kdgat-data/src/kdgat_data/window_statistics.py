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


def save_statistics(folder: Path, stats: np.ndarray) -> None:
    np.save(folder / STATS_FILE, np.ascontiguousarray(stats, np.float32))


def save_names(cache_folder: Path, names: tuple[str, ...]) -> None:
    (cache_folder / NAMES_FILE).write_text(json.dumps(list(names)) + "\n")


def load_statistics(split_folder: Path, cache_folder: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    return np.load(split_folder / STATS_FILE), tuple(json.loads((cache_folder / NAMES_FILE).read_text()))
