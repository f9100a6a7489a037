"""The inputs of a `kdgat_models.window_scorer.WindowScorer` from collated window graphs.

The same collation and the same self-loop rule as training (`kdgat_data.batching.collate_arrays`, which
`collate_windows` wraps, and `kdgat_models.self_loops.ensure_self_loops`), as numpy arrays keyed by
`INPUT_NAMES`; no PyG `Batch` is built (at S=1 that was 40 % of the cost of the inputs).
"""

from __future__ import annotations

import numpy as np
import torch
from kdgat_data.batching import collate_arrays
from kdgat_models.self_loops import ensure_self_loops
from kdgat_models.window_scorer import INPUT_NAMES


def scorer_inputs(arrays, index) -> dict[str, np.ndarray]:
    """The windows ``index`` of ``arrays`` (`GraphArrays`) as scorer inputs.

    Shapes: x (N, F) float32, node_id (N,) int64, edge_index (2, E) int64 with self-loops,
    edge_attr (E, F_e) float32, batch (N,) int64, node_ptr (G + 1,) int64.
    """
    batch = collate_arrays(arrays, index)
    edge_index, edge_attr = ensure_self_loops(torch.from_numpy(batch["edge_index"]), torch.from_numpy(batch["edge_attr"]),
                                              len(batch["x"]))
    inputs = {**batch, "edge_index": edge_index.numpy(), "edge_attr": edge_attr.numpy(), "node_ptr": batch["ptr"]}
    return {name: np.ascontiguousarray(inputs[name]) for name in INPUT_NAMES}
