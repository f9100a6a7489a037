import inspect

import pytest
import torch
from kdgat_models.gat import GATWithJK

NUM_IDS = 50  # the conftest batch draws node IDs below this


def gat_inputs(batch):
    return batch.x, batch.node_id, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs


@pytest.mark.parametrize("jk_mode", ["cat", "max", "lstm"])
@pytest.mark.parametrize("pooling", ["mean", "multi"])
def test_shapes_and_gradients_reach_every_parameter(batch, jk_mode, pooling):
    model = GATWithJK(NUM_IDS, hidden_dim=6, num_layers=3, heads=2, id_embedding_dim=4, jk_mode=jk_mode,
                      pooling=pooling, fc_layers=2, add_self_loops=False)
    out = model(*gat_inputs(batch))
    layer_width = 6 * 2
    jk_width = layer_width * 3 if jk_mode == "cat" else layer_width
    assert out.logits.shape == (4, 2)
    assert out.embedding.shape == (4, jk_width * (2 if pooling == "multi" else 1)) == (4, model.pooled_dim)
    out.logits.sum().backward()
    # the LSTM-JK attention bias shifts every layer's score equally: softmax-invariant, its
    # gradient is zero up to rounding, so it is not checked
    exempt = {"jk.att.bias"}
    missing = [n for n, p in model.named_parameters() if n not in exempt and (p.grad is None or not p.grad.abs().sum() > 0)]
    assert missing == []


def test_attention_weights_per_layer(batch):
    model = GATWithJK(NUM_IDS, hidden_dim=4, num_layers=2, heads=3, add_self_loops=False)
    out = model(*gat_inputs(batch), return_attention=True)
    assert len(out.attention) == 2
    edge_index, alpha = out.attention[0]
    assert alpha.shape == (batch.edge_index.size(1), 3)
    # attention over the incoming edges of each node sums to one per head
    sums = torch.zeros(batch.num_nodes, 3).index_add_(0, edge_index[1], alpha)
    torch.testing.assert_close(sums, torch.ones_like(sums))


def test_self_loops_added_in_forward_by_default(batch):
    from kdgat_models.example_graphs import example_batch

    raw = example_batch(2, num_ids=NUM_IDS, min_nodes=5, max_nodes=6)
    eager = GATWithJK(NUM_IDS, hidden_dim=4, num_layers=1, heads=1)
    out = eager(raw.x, raw.node_id, raw.edge_index, raw.edge_attr, raw.batch, raw.num_graphs, return_attention=True)
    att_index = out.attention[0][0]
    assert (att_index[0] == att_index[1]).sum() >= raw.num_nodes


def test_edge_features_are_optional(batch):
    model = GATWithJK(NUM_IDS, edge_dim=None, add_self_loops=False)
    assert model(*gat_inputs(batch)).logits.shape == (4, 2)


def test_state_dict_loads_strictly_only_into_the_same_architecture():
    source = GATWithJK(NUM_IDS, hidden_dim=8, num_layers=2, heads=2)
    GATWithJK(NUM_IDS, hidden_dim=8, num_layers=2, heads=2).load_state_dict(source.state_dict(), strict=True)
    for changed in ({"hidden_dim": 9}, {"num_layers": 3}, {"heads": 1}, {"jk_mode": "max"}):
        kwargs = {"hidden_dim": 8, "num_layers": 2, "heads": 2, **changed}
        with pytest.raises(RuntimeError):
            GATWithJK(NUM_IDS, **kwargs).load_state_dict(source.state_dict(), strict=True)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="jk_mode"):
        GATWithJK(NUM_IDS, jk_mode="sum")
    with pytest.raises(ValueError, match="pooling"):
        GATWithJK(NUM_IDS, pooling="median")


def test_every_hyperparameter_is_a_constructor_argument_with_a_default():
    parameters = inspect.signature(GATWithJK).parameters
    assert all(p.default is not inspect.Parameter.empty for name, p in parameters.items() if name != "num_ids")


def test_entity_embedding_is_optional(batch):
    """id_embedding_dim=0: no ID table (hosts have no fixed vocabulary); the node IDs never reach the network."""
    model = GATWithJK(num_ids=1, id_embedding_dim=0, add_self_loops=False).eval()
    assert model.id_embedding is None
    inputs = (batch.x, batch.node_id, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs)
    out = model(*inputs)
    scrambled = model(batch.x, torch.zeros_like(batch.node_id), *inputs[2:])
    torch.testing.assert_close(out.logits, scrambled.logits)
    with_ids = GATWithJK(num_ids=NUM_IDS, add_self_loops=False).eval()
    assert not torch.allclose(with_ids(*inputs).logits, with_ids(batch.x, torch.zeros_like(batch.node_id), *inputs[2:]).logits)
