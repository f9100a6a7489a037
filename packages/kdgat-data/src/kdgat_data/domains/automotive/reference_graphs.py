"""A plain per-window Python implementation of the window graph: the readable specification.

Used by the tests to cross-check the vectorised builder on random data, and by the benchmark as
the naive baseline. Too slow for real use (a few thousand windows per second).
"""

from __future__ import annotations

import numpy as np


def reference_window_graph(can_id, payload, label, id_index):
    """One window -> ``(node_ids, x (n, 10), node_y, edge_index (2, e), edge_attr (e, 11), y)``."""
    w = len(can_id)
    ids = sorted(set(int(c) for c in can_id))
    local = {c: i for i, c in enumerate(ids)}
    frames_of = {c: [i for i in range(w) if int(can_id[i]) == c] for c in ids}
    counts = np.array([len(frames_of[c]) for c in ids], float)
    span = counts.max() - counts.min()
    x = np.zeros((len(ids), 10))
    for i, c in enumerate(ids):
        rows = frames_of[c]
        x[i, :8] = payload[rows].astype(float).mean(axis=0) / 255.0
        x[i, 8] = (counts[i] - counts.min()) / span if span > 0 else 0.0
        x[i, 9] = max(rows) / (w - 1)
    node_ids = np.array([int(id_index[frames_of[c][0]]) for c in ids])
    node_y = np.array([int(max(label[r] for r in frames_of[c])) for c in ids])

    transitions = {}
    degree = np.zeros(len(ids))
    for j in range(w - 1):
        a, b = local[int(can_id[j])], local[int(can_id[j + 1])]
        transitions.setdefault((a, b), []).append(j)
        degree[a] += 1
        degree[b] += 1
    edges = sorted(transitions)
    edge_attr = np.zeros((len(edges), 11))
    for k, (a, b) in enumerate(edges):
        pos = transitions[(a, b)]
        gaps = np.diff(pos)
        edge_attr[k, 0] = len(pos)
        edge_attr[k, 1] = len(pos) / w
        if len(gaps):
            edge_attr[k, 2] = gaps.mean()
            edge_attr[k, 3] = gaps.std()
            edge_attr[k, 4] = 1.0 / (1.0 + gaps.std())
        edge_attr[k, 5] = pos[0] / w
        edge_attr[k, 6] = pos[-1] / w
        edge_attr[k, 7] = (pos[-1] - pos[0]) / w
        edge_attr[k, 8] = float((b, a) in transitions)
        edge_attr[k, 9] = degree[a] * degree[b]
        edge_attr[k, 10] = degree[a] / degree[b]
    edge_index = np.array(edges, dtype=np.int64).T.reshape(2, -1)
    return node_ids, x, node_y, edge_index, edge_attr, int(max(label))
