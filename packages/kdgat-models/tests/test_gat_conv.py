import pytest
import torch
from kdgat_models.gat_conv import EdgeGATConv
from torch_geometric.nn import GATConv


@pytest.mark.parametrize("edge_dim", [None, 5])
@pytest.mark.parametrize(("in_channels", "out_channels"), [(7, 4), (3, 8)])  # (3, 8): summed before the projection
def test_equals_pyg_gatconv_with_the_same_weights(edge_dim, in_channels, out_channels):
    torch.manual_seed(0)
    reference = GATConv(in_channels, out_channels, heads=3, concat=True, edge_dim=edge_dim, add_self_loops=False).eval()
    ours = EdgeGATConv(in_channels, out_channels, heads=3, edge_dim=edge_dim).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(12, in_channels)
    edge_index = torch.randint(0, 12, (2, 40))
    edge_attr = torch.randn(40, 5) if edge_dim else None
    expected, (_, expected_alpha) = reference(x, edge_index, edge_attr, return_attention_weights=True)
    out, (_, alpha) = ours(x, edge_index, edge_attr, return_attention_weights=True)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(alpha, expected_alpha, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("out_channels", [2, 8])  # 8: attention folded into the projection, summed before it
def test_gradients_reach_every_parameter(out_channels):
    conv = EdgeGATConv(3, out_channels, heads=2, edge_dim=4)
    # every node has two in-edges, so the attention softmax is not trivially 1
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 2, 3, 4, 0, 1], [1, 2, 3, 4, 0, 0, 1, 2, 3, 4]])
    out = conv(torch.randn(5, 3), edge_index, torch.randn(10, 4))
    out.pow(2).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in conv.parameters())
