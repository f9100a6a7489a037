import pytest
import torch
from kdgat_models.vgae import (
    GraphAutoencoderNeighborhood,
    WindowIds,
    WindowLayout,
    _query_and_key,
    anomaly_score,
    batch_graph_errors,
    graph_anomaly_scores,
    node_errors,
    vgae_loss,
    window_neighbours,
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
    hidden = model.id_decoder[0].out_features
    assert out.id_query.shape == out.neighbourhood_query.shape == (n, hidden)
    assert out.id_key.shape == out.neighbourhood_key.shape == (n, hidden + 1)
    # a key is the decoder's output row of the node's own ID: query . key = that vocabulary logit
    full = model.id_decoder(out.z)  # (N, V): what a vocabulary-wide decoder would give
    own_logit = (out.id_query * out.id_key[:, :-1]).sum(-1) + out.id_key[:, -1]
    torch.testing.assert_close(own_logit, full.gather(1, batch.node_id.view(-1, 1)).view(-1))


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
    loss = vgae_loss(out, batch.x, batch.node_id, batch.edge_index, batch.batch)
    loss.backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []
    heavier = vgae_loss(out, batch.x, batch.node_id, batch.edge_index, batch.batch, id_weight=1.0)
    assert heavier > loss


def test_neighbourhood_marks_by_hand():
    # window 0: nodes 0, 1, 2 with IDs 7, 8, 9; edges 0->1, 1->1 (self-loop), 2->1
    # window 1: nodes 3, 4, 5 with IDs 0, 0, 5 (two unseen IDs, both UNK); edges 3->4, 4->5
    edge_index = torch.tensor([[0, 1, 2, 3, 4], [1, 1, 1, 4, 5]])
    layout = WindowLayout(batch=torch.tensor([0, 0, 0, 1, 1, 1]))
    ids = WindowIds(node_id=torch.tensor([7, 8, 9, 0, 0, 5]), layout=layout, num_ids=10)
    assert ids.count.tolist() == [1, 1, 1, 2, 2, 1] and ids.first_position.tolist() == [0, 1, 2, 0, 0, 2]
    marks = window_neighbours(edge_index, ids, layout)
    assert layout.mask.all() and marks.shape == (2, 3, 3)
    assert marks[0].tolist() == [[0, 1, 0], [1, 0, 1], [0, 1, 0]]  # by the ID of each column's node; not itself
    # nodes 3 and 5 neighbour node 4 (UNK), node 4 neighbours node 3 (UNK) and node 5: UNK marked once, at node 3
    assert marks[1].tolist() == [[1, 0, 0], [1, 0, 1], [1, 0, 0]]
    assert ids.outside(torch.tensor([0, 5, 7])).tolist() == [[True, True, False]] * 3 + [[False, False, True]] * 3


def test_window_errors_equal_a_per_window_reference(batch):
    """The batched errors equal a plain per-window computation: softmax / sigmoids over the window's IDs."""
    torch.manual_seed(0)
    model = GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=8, num_layers=1, latent_dim=4, scoring_probes=0,
                                         add_self_loops=False).eval()
    out = model.forward_batch(batch)
    errors = node_errors(out, batch.x, batch.node_id, batch.edge_index, batch.batch)
    id_full = model.id_decoder(out.z)  # (N, V)
    neighbourhood_full = model.neighbourhood_decoder(out.z)
    for g in range(batch.num_graphs):
        nodes = (batch.batch == g).nonzero().view(-1)
        ids = batch.node_id[nodes]
        local = {int(node): k for k, node in enumerate(nodes)}
        for k, node in enumerate(nodes):
            logits = id_full[node, ids]  # over the window's IDs only
            expected_ce = torch.logsumexp(logits, 0) - torch.logsumexp(logits[ids == ids[k]], 0)
            torch.testing.assert_close(errors["can_id"][node], expected_ce, atol=1e-5, rtol=1e-5)
            neighbours = {int(batch.node_id[other]) for a, b in batch.edge_index.t().tolist() if node in (a, b) and a != b
                          for other in ([b] if a == node else [a]) if other in local}
            distinct = ids.unique()  # each ID of the window once
            target = torch.tensor([float(int(i) in neighbours) for i in distinct])
            expected_bce = torch.nn.functional.binary_cross_entropy_with_logits(
                neighbourhood_full[node, distinct], target, reduction="sum") / NUM_IDS  # the vocabulary mean, outside IDs left out
            torch.testing.assert_close(errors["neighbourhood"][node], expected_bce, atol=1e-5, rtol=1e-5)


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
    assert out.id_query is None and out.neighbourhood_query is None and out.id_key is None
    scrambled = model(batch.x, torch.zeros_like(batch.node_id), batch.edge_index, batch.edge_attr)
    torch.testing.assert_close(out.mu, scrambled.mu)  # the IDs do not reach the network
    scores = graph_anomaly_scores(out, batch.x, batch.node_id, batch.edge_index, batch.batch, batch.num_graphs)
    assert set(scores) == {"features", "can_id", "neighbourhood", "kl"}
    assert torch.all(scores["can_id"] == 0) and torch.all(scores["neighbourhood"] == 0) and torch.all(scores["features"] > 0)
    loss = vgae_loss(out, *vgae_inputs(batch)[:3], batch.batch)
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


@pytest.mark.parametrize("scoring_probes", [0, 16])
def test_anomaly_only_errors_equal_the_full_errors(batch, scoring_probes):
    model = GraphAutoencoderNeighborhood(NUM_IDS, add_self_loops=False, scoring_probes=scoring_probes).eval()
    out = model.forward_batch(batch)
    full, only = batch_graph_errors(out, batch), batch_graph_errors(out, batch, anomaly_only=True)
    assert set(only) == {"features", "neighbourhood"} and set(full) == {"features", "neighbourhood", "can_id", "kl"}
    torch.testing.assert_close(anomaly_score(only), anomaly_score(full), atol=0, rtol=0)
    assert (only["neighbourhood"] > 0).all()


def _candidate_logits(decoder, query, ids):
    """The decoder's logits of each node for the shared candidate IDs: (N, k) from query (N, H), ids (k,)."""
    return query @ decoder[-1].weight[ids].T + decoder[-1].bias[ids]


def test_sampled_negatives_estimate_the_vocabulary_wide_loss_without_bias(batch):
    """Training errors with sampled negatives average to the dense, vocabulary-wide BCE; without them
    the IDs outside the window would be left out (a test that fails if sampling becomes a no-op)."""
    torch.manual_seed(0)
    model = GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=8, num_layers=1, latent_dim=4, dropout=0.0,
                                         sampled_negatives=16, add_self_loops=False)
    with torch.no_grad():
        model.neighbourhood_decoder[-1].bias.add_(1.0)  # outside IDs then cost clearly more than nothing
        model.eval()
        mu = model.forward_batch(batch).mu
        full = model.neighbourhood_decoder(mu)  # (N, V)
        targets = torch.zeros_like(full)
        src, dst = batch.edge_index[:, batch.edge_index[0] != batch.edge_index[1]]
        targets[src, batch.node_id[dst]] = 1.0
        targets[dst, batch.node_id[src]] = 1.0
        dense = torch.nn.functional.binary_cross_entropy_with_logits(full, targets, reduction="none").mean(-1)
        scored = node_errors(model.forward_batch(batch), batch.x, batch.node_id, batch.edge_index, batch.batch)
        model.probe_ids = model.probe_ids[:0]
        window_only = node_errors(model.forward_batch(batch), batch.x, batch.node_id, batch.edge_index, batch.batch)
        model.probe_ids = torch.arange(NUM_IDS)
        model.train()
        estimates = []
        for _ in range(200):
            out = model.forward_batch(batch)
            out.z, out.mu = mu, mu  # the same latent as the dense reference (training samples z)
            out.neighbourhood_query, out.neighbourhood_key = _query_and_key(model.neighbourhood_decoder, mu, batch.node_id)
            out.id_query, out.id_key = _query_and_key(model.id_decoder, mu, batch.node_id)
            out.neighbourhood_negative_logits = _candidate_logits(model.neighbourhood_decoder, out.neighbourhood_query, out.negative_ids)
            out.id_negative_logits = _candidate_logits(model.id_decoder, out.id_query, out.negative_ids)
            estimates.append(node_errors(out, batch.x, batch.node_id, batch.edge_index, batch.batch)["neighbourhood"])
    estimate = torch.stack(estimates).mean(0)
    assert torch.allclose(estimate.mean(), dense.mean(), rtol=0.03)
    # scoring with the whole (small) vocabulary as probes is the dense error exactly; without probes the
    # outside IDs are left out
    torch.testing.assert_close(scored["neighbourhood"], dense, atol=1e-5, rtol=1e-5)
    assert window_only["neighbourhood"].mean() < 0.9 * dense.mean()


def test_scoring_probes_are_a_fixed_sample_of_a_large_vocabulary():
    large = GraphAutoencoderNeighborhood(2049, scoring_probes=64)
    again = GraphAutoencoderNeighborhood(2049, scoring_probes=64)
    assert large.probe_ids.shape == (64,) and torch.equal(large.probe_ids, again.probe_ids)  # seeded: deterministic
    assert len(large.probe_ids.unique()) == 64 and "probe_ids" not in large.state_dict()  # rebuilt, not loaded
    assert torch.equal(GraphAutoencoderNeighborhood(50, scoring_probes=64).probe_ids, torch.arange(50))


def test_a_fixed_dense_width_gives_the_same_errors(batch):
    """An exported model lays windows out W wide (no data-dependent size): the padding changes nothing."""
    model = GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=8, num_layers=1, latent_dim=4, add_self_loops=False).eval()
    out = model.forward_batch(batch)
    fitted = node_errors(out, batch.x, batch.node_id, batch.edge_index, batch.batch)
    widest = int(torch.bincount(batch.batch).max())
    padded = node_errors(out, batch.x, batch.node_id, batch.edge_index, batch.batch, batch.num_graphs, widest + 37)
    for name in fitted:
        torch.testing.assert_close(padded[name], fitted[name])
    assert WindowLayout(batch=batch.batch, width=widest + 37).mask.sum() == batch.num_nodes


def test_an_empty_batch_has_empty_errors():
    model = GraphAutoencoderNeighborhood(NUM_IDS, add_self_loops=False, scoring_probes=16).eval()
    x, node_id = torch.zeros(0, 10), torch.zeros(0, dtype=torch.long)
    edge_index, edge_attr = torch.zeros(2, 0, dtype=torch.long), torch.zeros(0, 11)
    errors = node_errors(model(x, node_id, edge_index, edge_attr), x, node_id, edge_index, node_id, num_graphs=0)
    assert set(errors) == {"features", "kl", "can_id", "neighbourhood"}
    assert all(error.shape == (0,) for error in errors.values())
