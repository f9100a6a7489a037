"""Sums, means and softmax over segments given by an index (edges by destination, nodes by graph).

The same numbers as PyG's ``scatter`` / ``softmax``, written with an accumulating ``index_put``:
exported to ONNX that is one ScatterND over whole rows, where ``scatter``'s element-wise
ScatterElements made the exported GAT several times slower than eager PyTorch.
"""

from __future__ import annotations

from torch import Tensor


def segment_sum(values: Tensor, index: Tensor, size: int) -> Tensor:
    """``out[k] = sum of values[i] with index[i] == k``.

    Shapes: values (M, ...), index (M,) long in [0, size). Returns (size, ...).
    """
    return values.new_zeros((size, *values.shape[1:])).index_put((index,), values, accumulate=True)


def segment_mean(values: Tensor, index: Tensor, size: int) -> Tensor:
    """Mean of each segment (0 for an empty one). Shapes as `segment_sum`."""
    counts = segment_sum(values.new_ones(values.shape[0]), index, size).clamp(min=1)
    return segment_sum(values, index, size) / counts.view(-1, *([1] * (values.dim() - 1)))


def segment_softmax(logits: Tensor, index: Tensor, size: int) -> Tensor:
    """Softmax of ``logits`` within each segment of ``index`` (PyG's ``softmax(src, index, num_nodes=size)``).

    Shapes: logits (M, H), index (M,). Returns (M, H).
    """
    expanded = index.unsqueeze(-1).expand_as(logits)
    # started at -inf and reduced with include_self: exported, one ScatterElements(max); include_self=False
    # exports as a second ScatterElements(min) that marks the touched rows and costs more than the max
    top = logits.new_full((size, logits.shape[1]), float("-inf")).scatter_reduce(0, expanded, logits.detach(), "amax")
    shifted = (logits - top.index_select(0, index)).exp()
    return shifted / (segment_sum(shifted, index, size).index_select(0, index) + 1e-16)
