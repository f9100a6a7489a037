"""Each scorer returns what evaluation thresholds (the same numbers as the training-side code) and node
scores that point at nodes; the fusion scorer is the greedy DQN over the normalised VGAE score."""

import pytest
import torch
from kdgat_models import GATWithJK, GraphAutoencoderNeighborhood
from kdgat_models.fusion import STATE_DIM, QNetwork, fused_score, fusion_state
from kdgat_models.vgae import anomaly_score, batch_graph_errors
from kdgat_models.window_scorer import FusionWindowScorer, GATWindowScorer, VGAEWindowScorer

NUM_IDS = 50


def inputs(batch):
    return batch.x, batch.node_id, batch.edge_index, batch.edge_attr, batch.batch, batch.ptr


def networks():
    torch.manual_seed(0)
    gat = GATWithJK(num_ids=NUM_IDS, hidden_dim=8, heads=2, add_self_loops=False).eval()
    vgae = GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=8, num_layers=1, latent_dim=4, add_self_loops=False).eval()
    return gat, vgae


def test_gat_scorer_is_p_attack_and_its_node_scores_are_attention_on_each_node(batch):
    gat, _ = networks()
    score, node_score = GATWindowScorer(gat=gat)(*inputs(batch))
    torch.testing.assert_close(score, torch.softmax(gat.forward_batch(batch).logits, -1)[:, 1])
    assert node_score.shape == (batch.num_nodes,) and (node_score >= 0).all()
    # every node with out-edges gets attention; the total is one unit per destination node (mean over heads)
    torch.testing.assert_close(node_score.sum(), torch.tensor(float(batch.num_nodes)))
    assert node_score.std() > 0  # not one constant (the sum over in-edges would be 1 everywhere)


def test_vgae_scorer_is_the_anomaly_score_whatever_the_batch(batch):
    _, vgae = networks()
    scorer = VGAEWindowScorer(vgae=vgae, window=20)
    score, node_score = scorer(*inputs(batch))
    torch.testing.assert_close(score, anomaly_score(batch_graph_errors(vgae.forward_batch(batch), batch)))
    assert node_score.shape == (batch.num_nodes,) and (node_score > 0).all()
    assert not any(p.requires_grad for p in scorer.parameters())


def test_fusion_scorer_fuses_the_normalised_vgae_score_with_the_greedy_alpha(batch):
    gat, vgae = networks()
    q_network = QNetwork(state_dim=STATE_DIM, num_actions=21, hidden_dim=16, num_layers=2).eval()
    raw = anomaly_score(batch_graph_errors(vgae.forward_batch(batch), batch))
    reference = torch.cat([torch.full((3,), -1.0), raw[:1], torch.full((4,), 100.0)])  # 8 normal training scores
    score, _ = FusionWindowScorer(vgae=vgae, gat=gat, q_network=q_network, reference=reference, window=20)(*inputs(batch))
    # the share of reference scores <= the window's: 3/8 below every window, window 0's own counts for it
    anomaly = torch.where(raw >= raw[0], 4 / 8, 3 / 8)
    output, classified = vgae.forward_batch(batch), gat.forward_batch(batch)
    state = fusion_state(batch_graph_errors(output, batch), anomaly, output.mu, output.logvar, batch.batch,
                         batch.num_graphs, classified.logits, classified.embedding)
    alpha = torch.linspace(0, 1, 21)[q_network(state).argmax(-1)]
    expected = fused_score(alpha, anomaly, torch.softmax(classified.logits, -1)[:, 1])
    torch.testing.assert_close(score, expected)


def test_a_fusion_scorer_without_reference_scores_is_refused():
    gat, vgae = networks()
    with pytest.raises(ValueError, match="normal training windows"):
        FusionWindowScorer(vgae=vgae, gat=gat, q_network=QNetwork(state_dim=STATE_DIM, num_actions=3),
                           reference=torch.zeros(0), window=20)
