"""Host graphs from flows: features hand-computed on a tiny window; W-flow and T-second windows."""

import numpy as np
import pytest
from kdgat_data.domains import adapter_for
from kdgat_data.domains.internet.adapter import window_ranges
from kdgat_data.domains.internet.flow_readers import FlowOptions
from kdgat_data.domains.internet.flows import FlowTable


def _squash(v):
    return np.log1p(v) / (1 + np.log1p(v))


def _flows():
    # hosts: 0 = 192.168.1.10 (private), 1 = 8.8.8.8, 2 = 10.0.0.5 (private)
    return FlowTable(
        timestamp=np.array([0.0, 1.0, 2.0, 10.0]), src=np.array([0, 0, 1, 2], np.int32), dst=np.array([1, 1, 0, 1], np.int32),
        dst_port=np.array([53, 443, 5000, 53], np.int32), proto=np.array([1, 0, 0, 1], np.int8),
        duration=np.array([0.5, 1.5, 1.0, 0.1], np.float32), bytes_out=np.array([10, 30, 5, 7], np.float32),
        bytes_in=np.array([20, 40, 0, 9], np.float32), packets_out=np.array([1, 2, 1, 1], np.float32),
        packets_in=np.array([1, 3, 0, 1], np.float32), failed=np.array([0, 0, 1, 0], np.uint8),
        label=np.array([0, 0, 1, 0], np.uint8), attack_type=np.array([0, 0, 1, 0], np.int16),
        hosts=("192.168.1.10", "8.8.8.8", "10.0.0.5"), attack_types=("normal", "scan"),
    )


def test_features_of_a_tiny_window_by_hand():
    table = _flows()
    adapter = adapter_for("internet")
    fitted = adapter.fit([table])
    assert fitted.vocabulary == [] and adapter.has_vocabulary is False
    graphs = adapter.graphs(table, fitted, table.attack_type, window=3, stride=3, source=0)  # flows 0..2
    assert len(graphs) == 1 and graphs.y.tolist() == [1] and graphs.attack_type.tolist() == [1]
    assert graphs.node_id.tolist() == [0, 0]  # no vocabulary
    # nodes in host order: 192.168.1.10, 8.8.8.8
    first = graphs.x[0]
    expected = [_squash(2), _squash(1), _squash(10 + 30 + 0), _squash(20 + 40 + 5), _squash(1), _squash(1), _squash(2), 0.0, 1.0]
    assert first == pytest.approx(expected, abs=1e-6)
    assert graphs.x[1][-1] == 0.0 and graphs.x[1][7] == pytest.approx(1.0)  # public; its one outgoing flow failed
    assert graphs.node_y.tolist() == [1, 1]
    edges = list(map(tuple, graphs.edge_index.T.tolist()))
    assert sorted(edges) == [(0, 1), (1, 0)]
    out = graphs.edge_attr[edges.index((0, 1))]
    expected_edge = [_squash(2), _squash(100), _squash(7), _squash(1.0), _squash(2), 0.5, 0.5, 0.0, 0.0, 1.0]
    assert out == pytest.approx(expected_edge, abs=1e-6)


def test_windows_of_w_flows_and_of_t_seconds():
    table = _flows()
    first, stop = window_ranges(table.timestamp, 2, 1)
    assert first.tolist() == [0, 1, 2] and stop.tolist() == [2, 3, 4]
    first, stop = window_ranges(table.timestamp, 0, 0, window_seconds=5.0)
    assert first.tolist() == [0, 3] and stop.tolist() == [3, 4]  # [0, 5) and [10, 15); the empty [5, 10) is dropped
    adapter = adapter_for("internet")
    timed = adapter.graphs(table, adapter.fit([table], FlowOptions(window_seconds=5.0)), table.attack_type, 100, 100, 0)
    assert len(timed) == 2 and np.diff(timed.node_ptr).tolist() == [2, 2]
