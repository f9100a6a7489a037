"""The cache as a PyG dataset with PyG's DataLoader, and training-time ID dropout."""

import pytest
import torch
from kdgat_data.cache import build_cache
from kdgat_data.catalog import resolve_dataset
from kdgat_data.dataset import WindowGraphDataset
from kdgat_data.id_dropout import RandomIdDropout
from torch_geometric.loader import DataLoader


@pytest.fixture(scope="module")
def train_arrays(tiny_synthetic, tmp_path_factory):
    cache = build_cache(resolve_dataset(str(tiny_synthetic)), cache_root=tmp_path_factory.mktemp("cache"))
    return cache.split("train")


def test_items_and_batches(train_arrays):
    dataset = WindowGraphDataset(train_arrays)
    assert len(dataset) == len(train_arrays)
    item = dataset[0]
    n = int(train_arrays.node_ptr[1])
    assert item.x.shape == (n, 10) and item.x.dtype == torch.float32
    assert item.node_id.dtype == torch.long and item.edge_index.dtype == torch.long
    assert item.edge_attr.shape[1] == 11 and item.edge_index.max() < n
    batch = next(iter(DataLoader(dataset, batch_size=8, shuffle=False)))
    assert batch.num_graphs == 8 and batch.y.shape == (8,)
    assert batch.x.shape[0] == int(train_arrays.node_ptr[8])
    assert batch.edge_index.max() < batch.x.shape[0]


def test_id_dropout_maps_a_share_of_nodes_to_unk_and_is_off_at_zero(train_arrays):
    generator = torch.Generator().manual_seed(0)
    dropped = WindowGraphDataset(train_arrays, transform=RandomIdDropout(0.5, generator))
    plain = WindowGraphDataset(train_arrays)
    before = torch.cat([plain[i].node_id for i in range(50)])
    after = torch.cat([dropped[i].node_id for i in range(50)])
    assert (before > 0).all()
    share = (after == 0).float().mean().item()
    assert 0.4 < share < 0.6
    assert torch.equal(after[after != 0], before[after != 0])
    untouched = WindowGraphDataset(train_arrays, transform=RandomIdDropout(0.0))
    assert torch.equal(untouched[3].node_id, plain[3].node_id)
    with pytest.raises(ValueError):
        RandomIdDropout(1.5)
