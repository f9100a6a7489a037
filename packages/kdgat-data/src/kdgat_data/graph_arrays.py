"""`GraphArrays`: many window graphs collated into flat arrays with offsets (the cache format).

Shapes (G graphs, n nodes, e edges in total):
    x            (n, 10) float32  continuous node features (features.CONTINUOUS_NODE_FEATURES)
    node_id      (n,)    int32    vocabulary index of each node's CAN ID (0 = UNK)
    node_y       (n,)    uint8    1 if any frame of the node in the window is an attack
    edge_index   (2, e)  int32    local node indices within each graph
    edge_attr    (e, 11) float32  features.EDGE_FEATURES
    node_ptr     (G+1,)  int64    nodes of graph g are node_ptr[g]:node_ptr[g+1]
    edge_ptr     (G+1,)  int64    edges of graph g are edge_ptr[g]:edge_ptr[g+1]
    y            (G,)    uint8    1 if any frame of the window is an attack
    attack_type  (G,)    int16    dominant attack type of the window's attack frames (0 = normal)
    source       (G,)    int32    index of the source file in the manifest
    window_start (G,)    int64    index of the window's first record in its source file
    window_stop  (G,)    int64    one past the window's last record (records window_start:window_stop)
    start_time   (G,)    float64  timestamp of the window's first record, seconds (NaN when unknown)
    end_time     (G,)    float64  timestamp of the window's last record, seconds (NaN when unknown)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class GraphArrays:
    x: np.ndarray
    node_id: np.ndarray
    node_y: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray
    node_ptr: np.ndarray
    edge_ptr: np.ndarray
    y: np.ndarray
    attack_type: np.ndarray
    source: np.ndarray
    window_start: np.ndarray
    window_stop: np.ndarray
    start_time: np.ndarray
    end_time: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    @property
    def num_nodes(self) -> int:
        return int(self.node_ptr[-1])

    @property
    def num_edges(self) -> int:
        return int(self.edge_ptr[-1])

    @classmethod
    def empty(cls, node_features: int = 10, edge_features: int = 11) -> GraphArrays:
        return cls(
            x=np.zeros((0, node_features), np.float32), node_id=np.zeros(0, np.int32),
            node_y=np.zeros(0, np.uint8), edge_index=np.zeros((2, 0), np.int32),
            edge_attr=np.zeros((0, edge_features), np.float32), node_ptr=np.zeros(1, np.int64),
            edge_ptr=np.zeros(1, np.int64), y=np.zeros(0, np.uint8), attack_type=np.zeros(0, np.int16),
            source=np.zeros(0, np.int32), window_start=np.zeros(0, np.int64), window_stop=np.zeros(0, np.int64),
            start_time=np.zeros(0, np.float64), end_time=np.zeros(0, np.float64),
        )

    def with_record_span(self, stop: np.ndarray, timestamp: np.ndarray | None) -> GraphArrays:
        """These graphs with ``window_stop = stop`` and the first/last record times read from
        ``timestamp`` (the records' (N,) timestamps; ``None``: NaN)."""
        stop = np.asarray(stop, np.int64)
        if timestamp is None or not len(stop):
            times = np.full(len(stop), np.nan)
            return replace(self, window_stop=stop, start_time=times, end_time=times.copy())
        timestamp = np.asarray(timestamp, np.float64)
        return replace(self, window_stop=stop, start_time=timestamp[self.window_start], end_time=timestamp[stop - 1])

    def shifted(self, first_record: int) -> GraphArrays:
        """These graphs with record indices counted from ``first_record`` (a table that was a slice)."""
        return replace(self, window_start=self.window_start + first_record, window_stop=self.window_stop + first_record)

    @classmethod
    def concatenate(cls, parts: list[GraphArrays]) -> GraphArrays:
        """Collate several stores; offsets are shifted, local edge indices stay local."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]

        def shifted_ptr(name: str) -> np.ndarray:
            ptrs, offset = [np.zeros(1, np.int64)], 0
            for part in parts:
                ptr = getattr(part, name)
                ptrs.append(ptr[1:] + offset)
                offset += int(ptr[-1])
            return np.concatenate(ptrs)

        joined = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts], axis=1 if f.name == "edge_index" else 0)
            for f in fields(cls)
            if f.name not in ("node_ptr", "edge_ptr")
        }
        return cls(node_ptr=shifted_ptr("node_ptr"), edge_ptr=shifted_ptr("edge_ptr"), **joined)

    def save(self, folder: str | os.PathLike[str]) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for f in fields(self):
            np.save(folder / f"{f.name}.npy", np.ascontiguousarray(getattr(self, f.name)))

    @classmethod
    def load(cls, folder: str | os.PathLike[str], mmap: bool = True) -> GraphArrays:
        """Load a saved store; with ``mmap`` the arrays are memory-mapped read-only (no copy)."""
        folder = Path(folder)
        mode = "r" if mmap else None
        return cls(**{f.name: np.load(folder / f"{f.name}.npy", mmap_mode=mode) for f in fields(cls)})
