"""One VGAE anomaly score: evaluation and the curriculum's difficulty score through the VGAE's
`WindowScorer`, and the fusion's inputs through `fusion_parts` (what the deployed fusion scorer runs),
all in `kdgat_models.window_scorer`, so they can never drift apart."""

import numpy as np
import torch
from kdgat_data.graph_arrays import GraphArrays
from kdgat_models import GATWithJK, GraphAutoencoderNeighborhood
from kdgat_train.curriculum import normal_difficulty
from kdgat_train.families import family_of
from kdgat_train.fusion.inputs import raw_fusion_outputs
from kdgat_train.window_scoring import window_scores

NUM_IDS = 6


def _store(graphs: int = 40, nodes: int = 4) -> GraphArrays:
    rng = np.random.default_rng(0)
    n = graphs * nodes
    ring = np.stack([np.arange(nodes), np.roll(np.arange(nodes), -1)])  # a directed ring per window
    return GraphArrays(
        x=rng.random((n, 10), dtype=np.float32), node_id=rng.integers(1, NUM_IDS, n).astype(np.int32),
        node_y=np.zeros(n, np.uint8), edge_index=np.tile(ring, graphs).astype(np.int32),
        edge_attr=rng.random((graphs * nodes, 11), dtype=np.float32),
        node_ptr=np.arange(graphs + 1) * nodes, edge_ptr=np.arange(graphs + 1) * nodes,
        y=(np.arange(graphs) % 4 == 0).astype(np.uint8), attack_type=np.zeros(graphs, np.int16),
        source=np.zeros(graphs, np.int32), window_start=np.arange(graphs), window_stop=np.arange(graphs) + 1,
        start_time=np.zeros(graphs), end_time=np.zeros(graphs),
    )


def test_every_consumer_sees_the_same_score():
    torch.manual_seed(0)
    arrays = _store()
    vgae = GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=8, latent_dim=4, add_self_loops=False).eval()
    gat = GATWithJK(num_ids=NUM_IDS, hidden_dim=4, num_layers=1, heads=1, add_self_loops=False).eval()
    evaluated = window_scores(family_of("vgae").scorer(vgae, window=4), arrays, batch_size=7)
    normals = np.asarray(arrays.y) == 0
    np.testing.assert_allclose(normal_difficulty(vgae, arrays, window=4, batch_size=5), evaluated[normals], rtol=1e-5)
    _, fused_raw, _, _ = raw_fusion_outputs(vgae, gat, arrays, window=4, batch_size=9)
    np.testing.assert_allclose(fused_raw.numpy(), evaluated, rtol=1e-5)
    assert evaluated.std() > 0  # a real per-window score, not a constant
