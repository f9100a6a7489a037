"""The domain-adapter interface: one adapter per domain, the CAN path runs through it."""

import numpy as np
import pytest
from kdgat_data.domains import adapter_for
from kdgat_data.domains.automotive.readers.dispatch import ReaderOptions
from kdgat_data.domains.automotive.synthetic.generator import generate_dataset
from kdgat_data.domains.automotive.window_graphs import build_window_graphs
from kdgat_data.vocabulary import Vocabulary


def test_automotive_adapter_is_the_can_path(tmp_path):
    generate_dataset(tmp_path, frames=3000, seed=1, attacks=["dos"], overwrite=True)
    adapter = adapter_for("automotive")
    table, _ = adapter.read(next((tmp_path / "train_01_attack_free").glob("*.csv")), ReaderOptions())
    fitted = adapter.fit([table.slice(0, 2000)])
    assert fitted.vocabulary == Vocabulary.from_training([table.can_id[:2000]]).to_list()  # training head only
    assert len(adapter.node_features) == 11 and len(adapter.edge_features) == 11
    arrays = adapter.graphs(table, fitted, table.attack_type, 100, 100, 0)
    direct = build_window_graphs(table.can_id, table.payload, table.label, table.attack_type,
                                 Vocabulary(fitted.vocabulary).encode(table.can_id), window=100, stride=100, source=0)
    assert np.array_equal(arrays.x, direct.x) and np.array_equal(arrays.edge_attr, direct.edge_attr)


def test_unknown_domain_says_which_exist():
    with pytest.raises(NotImplementedError, match="known: .*automotive"):
        adapter_for("spacecraft")
