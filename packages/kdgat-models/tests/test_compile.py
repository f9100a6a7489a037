"""Compiled (torch.compile, dynamic shapes) equals eager, with no graph breaks, for every model."""

import pytest
import torch
from kdgat_models.example_graphs import example_batch
from kdgat_models.fusion import QNetwork
from kdgat_models.gat import GATWithJK
from kdgat_models.self_loops import SelfLoops
from kdgat_models.vgae import GraphAutoencoderNeighborhood

pytestmark = pytest.mark.slow
NUM_IDS = 60


def _batches():
    return [SelfLoops()(example_batch(n, num_ids=NUM_IDS, seed=n)) for n in (5, 11)]  # two sizes: dynamic shapes


def _check(model, make_args, pick):
    torch._dynamo.reset()
    model.eval()
    explanation = torch._dynamo.explain(model)(*make_args(_batches()[0]))
    assert explanation.graph_break_count == 0, explanation.break_reasons
    compiled = torch.compile(model, dynamic=True)
    with torch.no_grad():
        for batch in _batches():
            torch.testing.assert_close(pick(compiled(*make_args(batch))), pick(model(*make_args(batch))), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("jk_mode", ["cat", "max"])
def test_gat(jk_mode):
    torch.manual_seed(0)
    model = GATWithJK(NUM_IDS, hidden_dim=8, num_layers=2, heads=2, jk_mode=jk_mode, pooling="multi", add_self_loops=False)
    _check(model, lambda b: (b.x, b.node_id, b.edge_index, b.edge_attr, b.batch, b.num_graphs), lambda out: out.logits)


def test_vgae():
    torch.manual_seed(0)
    model = GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=8, num_layers=2, latent_dim=4, heads=2, add_self_loops=False)
    _check(model, lambda b: (b.x, b.node_id, b.edge_index, b.edge_attr), lambda out: torch.cat([out.z, out.id_query, out.id_key], -1))


def test_q_network():
    torch.manual_seed(0)
    model = QNetwork(hidden_dim=16)
    _check(model, lambda b: (torch.randn(b.num_graphs, 15, generator=torch.Generator().manual_seed(1)),), lambda out: out)
