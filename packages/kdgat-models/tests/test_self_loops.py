import torch
from kdgat_models.self_loops import SelfLoops, ensure_self_loops
from torch_geometric.data import Data


def test_real_loops_kept_missing_loops_added_with_mean_in_edge_features():
    # node 0 has a real loop; node 1 has in-edges from 0 and 2; node 2 has no in-edge
    edge_index = torch.tensor([[0, 0, 2], [0, 1, 1]])
    edge_attr = torch.tensor([[1.0], [2.0], [4.0]])
    looped, attr = ensure_self_loops(edge_index, edge_attr, 3)
    assert looped.tolist() == [[0, 0, 2, 1, 2], [0, 1, 1, 1, 2]]
    assert attr.view(-1).tolist() == [1.0, 2.0, 4.0, 3.0, 0.0]  # node 1: mean(2, 4); node 2: no in-edge


def test_transform_is_idempotent():
    data = Data(edge_index=torch.tensor([[0, 1], [1, 2]]), edge_attr=torch.ones(2, 3), num_nodes=3)
    once = SelfLoops()(data)
    twice = SelfLoops()(once)
    assert once.edge_index.size(1) == 5 and torch.equal(once.edge_index, twice.edge_index)
    assert data.edge_index.size(1) == 2  # the input is not modified
