"""The graph-less MLP reads pooled node features and ID embeddings and no edge; its scorer is P(attack)."""

import torch
from kdgat_models import WindowMLP
from kdgat_models.example_graphs import example_batch
from kdgat_models.window_scorer import MLPWindowScorer

NUM_IDS = 40


def test_it_reads_no_edge_and_each_window_alone():
    torch.manual_seed(0)
    batch = example_batch(5, num_ids=NUM_IDS, seed=1)
    mlp = WindowMLP(num_ids=NUM_IDS, in_channels=batch.x.shape[1], hidden_dim=16).eval()
    logits = mlp.forward_batch(batch).logits
    assert logits.shape == (5, 2)
    batch.edge_index = batch.edge_index[:, torch.randperm(batch.edge_index.shape[1])[:3]]  # edges gone: same output
    torch.testing.assert_close(mlp.forward_batch(batch).logits, logits)
    one = example_batch(1, num_ids=NUM_IDS, seed=1)  # a window scored alone scores as inside a batch
    torch.testing.assert_close(mlp.forward_batch(one).logits, logits[:1])


def test_the_window_features_are_the_mean_and_spread_of_its_nodes():
    mlp = WindowMLP(num_ids=NUM_IDS, in_channels=2, id_embedding_dim=0)
    x = torch.tensor([[1.0, 0.0], [3.0, 0.0], [5.0, 2.0]])
    features = mlp.window_features(x, torch.zeros(3, dtype=torch.long), torch.tensor([0, 0, 1]), 2)
    torch.testing.assert_close(features[0], torch.tensor([2.0, 0.0, 1.0, 1e-4, float(torch.log1p(torch.tensor(2.0)))]),
                               atol=1e-3, rtol=0)
    assert features[1, :2].tolist() == [5.0, 2.0] and features[1, 2:4].abs().max() < 1e-3  # one node: no spread


def test_the_scorer_is_p_attack_and_gives_each_node_its_windows_score():
    torch.manual_seed(0)
    batch = example_batch(4, num_ids=NUM_IDS, seed=2)
    mlp = WindowMLP(num_ids=NUM_IDS, in_channels=batch.x.shape[1]).eval()
    score, node_score = MLPWindowScorer(mlp=mlp)(batch.x, batch.node_id, batch.edge_index, batch.edge_attr,
                                                 batch.batch, batch.ptr)
    torch.testing.assert_close(score, torch.softmax(mlp.forward_batch(batch).logits, -1)[:, 1])
    torch.testing.assert_close(node_score, score[batch.batch])
