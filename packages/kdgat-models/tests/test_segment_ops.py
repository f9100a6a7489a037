"""The export-friendly segment operations give PyG's scatter / softmax numbers, empty segments included."""

import torch
from kdgat_models.segment_ops import segment_mean, segment_softmax, segment_sum
from torch_geometric.utils import scatter, softmax


def test_segment_operations_equal_pyg():
    torch.manual_seed(0)
    index = torch.tensor([3, 0, 3, 1, 0, 3, 5])  # segments 2 and 4 are empty
    values = torch.randn(7, 4, 2)
    torch.testing.assert_close(segment_sum(values, index, 6), scatter(values, index, dim=0, dim_size=6, reduce="sum"))
    torch.testing.assert_close(segment_mean(values, index, 6), scatter(values, index, dim=0, dim_size=6, reduce="mean"))
    logits = torch.randn(7, 3) * 30  # large logits: the per-segment maximum keeps exp finite
    torch.testing.assert_close(segment_softmax(logits, index, 6), softmax(logits, index, num_nodes=6))
    assert torch.allclose(segment_sum(segment_softmax(logits, index, 6), index, 6)[[0, 1, 3, 5]], torch.ones(4, 3))


def test_the_softmax_gradient_equals_pyg():
    logits = torch.randn(9, 2, requires_grad=True)
    index = torch.tensor([0, 0, 1, 1, 1, 2, 2, 2, 2])
    weights = torch.randn(9, 2)
    (segment_softmax(logits, index, 3) * weights).sum().backward()
    mine = logits.grad.clone()
    logits.grad = None
    (softmax(logits, index, num_nodes=3) * weights).sum().backward()
    torch.testing.assert_close(mine, logits.grad)
