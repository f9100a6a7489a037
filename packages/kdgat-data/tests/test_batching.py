"""Vectorised batches equal PyG's DataLoader batches of the same windows."""

import numpy as np
import pytest
import torch
from kdgat_data.batching import WindowBatches, collate_windows
from kdgat_data.cache import build_cache
from kdgat_data.catalog import resolve_dataset
from kdgat_data.dataset import WindowGraphDataset
from torch_geometric.data import Batch


@pytest.fixture(scope="module")
def arrays(tiny_synthetic, tmp_path_factory):
    return build_cache(resolve_dataset(str(tiny_synthetic)), cache_root=tmp_path_factory.mktemp("cache")).split("train")


def test_same_tensors_as_pyg_collation(arrays):
    index = np.array([5, 0, 17, 3, 3, len(arrays) - 1])  # any order, repeats allowed
    ours = collate_windows(arrays, index)
    dataset = WindowGraphDataset(arrays)
    reference = Batch.from_data_list([dataset[int(i)] for i in index])
    assert ours.num_graphs == reference.num_graphs == len(index)
    for key in ("x", "node_id", "edge_index", "edge_attr", "y", "node_y", "attack_type", "batch", "ptr"):
        assert torch.equal(getattr(ours, key), getattr(reference, key)), key


def test_batches_cover_every_window_once_and_shuffle_by_seed(arrays):
    batches = WindowBatches(arrays, batch_size=32)
    assert len(batches) == -(-len(arrays) // 32)
    assert sum(b.num_graphs for b in batches) == len(arrays)

    def order(seed):
        shuffled = WindowBatches(arrays, 32, shuffle=True, generator=torch.Generator().manual_seed(seed))
        return torch.cat([b.y for b in shuffled]), torch.cat([b.ptr[1:] - b.ptr[:-1] for b in shuffled])

    a, b = order(1), order(1)
    assert torch.equal(a[1], b[1])
    assert not torch.equal(order(1)[1], order(2)[1])
    subset = WindowBatches(arrays, 8, indices=np.flatnonzero(np.asarray(arrays.y) == 0))
    assert all((batch.y == 0).all() for batch in subset)
