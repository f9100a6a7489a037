import pytest
import torch
from kdgat_models.vgae import (
    GraphAutoencoderNeighborhood,
    anomaly_score,
    batch_graph_errors,
    graph_anomaly_scores,
    neighbourhood_targets,
    vgae_loss,
)

NUM_IDS = 50  # the conftest batch draws node IDs below this


def vgae_inputs(batch):
    return batch.x, batch.node_id, batch.edge_index, batch.edge_attr


def test_forward_parts_and_shapes(batch):
    model = GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=12, num_layers=2, latent_dim=5, heads=2, add_self_loops=False)
    out = model(*vgae_inputs(batch))
    n = batch.num_nodes
    assert out.mu.shape == out.logvar.shape == out.z.shape == (n, 5)
    assert out.x_reconstruction.shape == (n, 10) and out.x_reconstruction.min() >= 0 and out.x_reconstruction.max() <= 1
    assert out.id_logits.shape == out.neighbourhood_logits.shape == (n, NUM_IDS)


def test_eval_uses_the_mean_and_training_samples(batch):
    model = GraphAutoencoderNeighborhood(NUM_IDS, add_self_loops=False)
    model.eval()
    out = model(*vgae_inputs(batch))
    torch.testing.assert_close(out.z, out.mu)
    model.train()
    out = model(*vgae_inputs(batch))
    assert not torch.allclose(out.z, out.mu)


def test_loss_reaches_every_parameter_and_weights_matter(batch):
    model = GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=8, num_layers=1, latent_dim=4, add_self_loops=False)
    out = model(*vgae_inputs(batch))
    loss = vgae_loss(out, batch.x, batch.node_id, batch.edge_index)
    loss.backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []
    heavier = vgae_loss(out, batch.x, batch.node_id, batch.edge_index, id_weight=1.0)
    assert heavier > loss


def test_neighbourhood_targets_by_hand():
    # nodes 0, 1, 2 with IDs 7, 8, 9; edges 0->1, 1->1 (self-loop), 2->1
    edge_index = torch.tensor([[0, 1, 2], [1, 1, 1]])
    targets = neighbourhood_targets(edge_index, torch.tensor([7, 8, 9]), 10)
    assert targets[0].nonzero().view(-1).tolist() == [8]
    assert targets[1].nonzero().view(-1).tolist() == [7, 9]  # not itself
    assert targets[2].nonzero().view(-1).tolist() == [8]


def test_per_graph_anomaly_scores(batch):
    model = GraphAutoencoderNeighborhood(NUM_IDS, add_self_loops=False).eval()
    out = model(*vgae_inputs(batch))
    scores = graph_anomaly_scores(out, batch.x, batch.node_id, batch.edge_index, batch.batch, batch.num_graphs)
    assert set(scores) == {"features", "can_id", "neighbourhood", "kl"}
    assert all(s.shape == (4,) and (s >= 0).all() for s in scores.values())


def test_strict_loading_and_argument_checks():
    source = GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=8, num_layers=2, latent_dim=3)
    GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=8, num_layers=2, latent_dim=3).load_state_dict(source.state_dict())
    with pytest.raises(RuntimeError):
        GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=8, num_layers=2, latent_dim=5).load_state_dict(source.state_dict())
    with pytest.raises(ValueError, match="must divide by heads"):
        GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=10, num_layers=1, heads=4)


def test_without_a_vocabulary_the_embedding_and_id_decoders_switch_off(batch):
    """Domains without a fixed entity vocabulary (hosts): node IDs are never read, errors keep their keys."""
    model = GraphAutoencoderNeighborhood(1, id_embedding_dim=0, decode_ids=False, add_self_loops=False)
    assert model.id_embedding is None and model.id_decoder is None and model.neighbourhood_decoder is None
    model.eval()
    out = model(*vgae_inputs(batch))
    assert out.id_logits is None and out.neighbourhood_logits is None
    scrambled = model(batch.x, torch.zeros_like(batch.node_id), batch.edge_index, batch.edge_attr)
    torch.testing.assert_close(out.mu, scrambled.mu)  # the IDs do not reach the network
    scores = graph_anomaly_scores(out, batch.x, batch.node_id, batch.edge_index, batch.batch, batch.num_graphs)
    assert set(scores) == {"features", "can_id", "neighbourhood", "kl"}
    assert torch.all(scores["can_id"] == 0) and torch.all(scores["neighbourhood"] == 0) and torch.all(scores["features"] > 0)
    loss = vgae_loss(out, *vgae_inputs(batch)[:3])
    loss.backward()
    assert torch.isfinite(loss) and model.feature_decoder[0].weight.grad is not None


def test_with_a_vocabulary_the_ids_matter(batch):
    model = GraphAutoencoderNeighborhood(NUM_IDS, add_self_loops=False).eval()
    out = model(*vgae_inputs(batch))
    scrambled = model(batch.x, torch.zeros_like(batch.node_id), batch.edge_index, batch.edge_attr)
    assert not torch.allclose(out.mu, scrambled.mu)


def test_anomaly_score_is_feature_plus_neighbourhood_error_per_graph(batch):
    model = GraphAutoencoderNeighborhood(NUM_IDS, add_self_loops=False).eval()
    out = model.forward_batch(batch)
    torch.testing.assert_close(out.mu, model(*vgae_inputs(batch)).mu)
    errors = batch_graph_errors(out, batch)
    score = anomaly_score(errors)
    assert score.shape == (batch.num_graphs,)
    torch.testing.assert_close(score, errors["features"] + errors["neighbourhood"])
    assert not torch.allclose(score, errors["features"])  # the neighbourhood term counts
