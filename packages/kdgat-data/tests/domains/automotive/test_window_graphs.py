"""The 22 features on a hand-built window, and the vectorised builder against the reference."""

import numpy as np
import pytest
from kdgat_data.domains.automotive.graph_features import EDGE_FEATURES, NODE_FEATURES
from kdgat_data.domains.automotive.reference_graphs import reference_window_graph
from kdgat_data.domains.automotive.window_graphs import build_window_graphs, window_starts
from kdgat_data.vocabulary import Vocabulary

A, B, C, D = 0x100, 0x200, 0x300, 0x400
#            pos: 0  1  2  3  4  5  6  7  8  9
WINDOW_IDS = np.array([A, B, A, B, A, A, C, A, B, D])
# transitions j: 0 A>B, 1 B>A, 2 A>B, 3 B>A, 4 A>A, 5 A>C, 6 C>A, 7 A>B, 8 B>D


def _window():
    payload = (10 * np.arange(10)[:, None] + np.arange(8)[None, :]).astype(np.uint8)  # byte k of frame i = 10 i + k
    label = np.zeros(10, np.uint8)
    label[6] = 1  # the C frame is an attack
    attack_type = np.where(label == 1, 2, 0).astype(np.int16)
    vocabulary = Vocabulary([A, B, C])  # D was never seen in training
    graphs = build_window_graphs(
        WINDOW_IDS, payload, label, attack_type, vocabulary.encode(WINDOW_IDS), window=10, stride=10
    )
    assert len(graphs) == 1
    return graphs


def test_feature_names_are_the_designed_eleven_and_eleven():
    assert len(NODE_FEATURES) == 11 and len(EDGE_FEATURES) == 11


def test_node_features_by_hand():
    g = _window()
    # nodes ordered by CAN ID: A, B, C, D
    assert g.node_id.tolist() == [1, 2, 3, 0]  # D is UNK
    byte_means = {  # mean over the node's frames of (10 i + k), / 255
        "A": [(0 + 20 + 40 + 50 + 70) / 5 + k for k in range(8)],  # frames 0, 2, 4, 5, 7
        "B": [(10 + 30 + 80) / 3 + k for k in range(8)],  # frames 1, 3, 8
        "C": [60 + k for k in range(8)],
        "D": [90 + k for k in range(8)],
    }
    expected = np.array([
        [*(np.array(byte_means["A"]) / 255), (5 - 1) / (5 - 1), 7 / 9],  # count 5 -> 1.0; last position 7 of 9
        [*(np.array(byte_means["B"]) / 255), (3 - 1) / (5 - 1), 8 / 9],
        [*(np.array(byte_means["C"]) / 255), 0.0, 6 / 9],
        [*(np.array(byte_means["D"]) / 255), 0.0, 9 / 9],
    ])
    np.testing.assert_allclose(g.x, expected, atol=1e-6)
    assert g.node_y.tolist() == [0, 0, 1, 0]
    assert g.y.tolist() == [1] and g.attack_type.tolist() == [2]


def test_edge_features_by_hand():
    g = _window()
    a, b, c, d = 0, 1, 2, 3
    edges = {(int(s), int(t)): row for (s, t), row in zip(g.edge_index.T, g.edge_attr, strict=True)}
    degree = {a: 9, b: 6, c: 2, d: 1}  # transitions touching each node, self-loop counted twice
    expected = {
        # count, count/W, gap mean, gap std, regularity, first/W, last/W, span/W, reverse, deg product, deg ratio
        (a, b): [3, 0.3, 3.5, 1.5, 1 / 2.5, 0.0, 0.7, 0.7, 1, 9 * 6, 9 / 6],  # at 0, 2, 7: gaps 2 and 5
        (b, a): [2, 0.2, 2.0, 0.0, 1.0, 0.1, 0.3, 0.2, 1, 6 * 9, 6 / 9],  # at 1, 3
        (a, a): [1, 0.1, 0.0, 0.0, 0.0, 0.4, 0.4, 0.0, 1, 9 * 9, 1.0],  # a self-loop is its own reverse
        (a, c): [1, 0.1, 0.0, 0.0, 0.0, 0.5, 0.5, 0.0, 1, 9 * 2, 9 / 2],
        (c, a): [1, 0.1, 0.0, 0.0, 0.0, 0.6, 0.6, 0.0, 1, 2 * 9, 2 / 9],
        (b, d): [1, 0.1, 0.0, 0.0, 0.0, 0.8, 0.8, 0.0, 0, 6 * 1, 6 / 1],  # no d -> b
    }
    assert set(edges) == set(expected)
    for key, row in expected.items():
        np.testing.assert_allclose(edges[key], row, atol=1e-6, err_msg=str(key))
    assert degree  # documented above; checked through the product and ratio columns


def test_windows_and_strides():
    assert window_starts(250, 100, 100).tolist() == [0, 100]
    assert window_starts(102, 100, 1).tolist() == [0, 1, 2]
    assert window_starts(99, 100, 1).tolist() == []
    with pytest.raises(ValueError, match="window"):
        window_starts(10, 1, 1)
    with pytest.raises(ValueError, match="stride"):
        window_starts(10, 5, 0)


@pytest.mark.parametrize(("window", "stride"), [(100, 100), (100, 1), (7, 3), (2, 1), (33, 50)])
def test_vectorised_equals_reference_on_random_traffic(window, stride):
    rng = np.random.default_rng(window * 1000 + stride)
    n = 1500
    can_id = rng.choice([0x10, 0x20, 0x30, 0x7FF, 0x123, 0x1FFFFFFF], size=n, p=[0.3, 0.3, 0.2, 0.1, 0.05, 0.05])
    payload = rng.integers(0, 256, (n, 8)).astype(np.uint8)
    label = (rng.random(n) < 0.02).astype(np.uint8)
    attack_type = label.astype(np.int16)
    index = Vocabulary([0x10, 0x20, 0x30]).encode(can_id)
    g = build_window_graphs(can_id, payload, label, attack_type, index, window=window, stride=stride)
    assert len(g) == len(window_starts(n, window, stride))
    for gi in rng.choice(len(g), size=min(len(g), 60), replace=False):
        sl = slice(int(g.window_start[gi]), int(g.window_start[gi]) + window)
        node_ids, x, node_y, edge_index, edge_attr, y = reference_window_graph(can_id[sl], payload[sl], label[sl], index[sl])
        n0, n1, e0, e1 = g.node_ptr[gi], g.node_ptr[gi + 1], g.edge_ptr[gi], g.edge_ptr[gi + 1]
        assert g.node_id[n0:n1].tolist() == node_ids.tolist()
        np.testing.assert_allclose(g.x[n0:n1], x, atol=1e-6)
        assert g.node_y[n0:n1].tolist() == node_y.tolist()
        order = np.lexsort((g.edge_index[1, e0:e1], g.edge_index[0, e0:e1]))
        assert g.edge_index[:, e0:e1][:, order].tolist() == edge_index.tolist()
        np.testing.assert_allclose(g.edge_attr[e0:e1][order], edge_attr, atol=1e-5)
        assert int(g.y[gi]) == y


def test_unknown_ids_stay_distinct_nodes_with_unk_index():
    ids = np.array([1, 2, 3, 1, 2, 3])
    g = build_window_graphs(ids, np.zeros((6, 8), np.uint8), np.zeros(6, np.uint8), np.zeros(6, np.int16),
                            Vocabulary([]).encode(ids), window=6, stride=6)
    assert g.num_nodes == 3 and g.node_id.tolist() == [0, 0, 0]


def test_concatenate_and_save_load_round_trip(tmp_path):
    g = _window()
    both = type(g).concatenate([g, g])
    assert len(both) == 2 and both.node_ptr.tolist() == [0, 4, 8] and both.edge_ptr.tolist() == [0, 6, 12]
    both.save(tmp_path / "store")
    loaded = type(g).load(tmp_path / "store")
    assert isinstance(loaded.x, np.memmap)
    np.testing.assert_array_equal(loaded.edge_attr, both.edge_attr)
    np.testing.assert_array_equal(loaded.edge_index, both.edge_index)
