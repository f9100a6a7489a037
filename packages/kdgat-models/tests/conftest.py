import pytest
import torch
from kdgat_models.example_graphs import example_batch
from kdgat_models.self_loops import SelfLoops

NUM_IDS = 50


@pytest.fixture
def batch():
    """Four small window graphs with self-loops already added (as the data pipeline does)."""
    torch.manual_seed(0)
    return SelfLoops()(example_batch(4, num_ids=NUM_IDS, min_nodes=5, max_nodes=9))

