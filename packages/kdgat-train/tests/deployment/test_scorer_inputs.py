"""`ConsecutiveInputs` slices exactly the arrays `scorer_inputs` collates for the same windows."""

import numpy as np
import pytest
from kdgat_data.domains import FittedDomain, adapter_for
from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_train.deployment.scorer_inputs import ConsecutiveInputs, scorer_inputs


@pytest.fixture(scope="module")
def stride_one_graphs():
    """Windows of 20 frames every frame over 140 frames of 6 IDs: repeated IDs give some nodes a self-loop
    of their own (A -> A), the others get one from `ensure_self_loops`."""
    rng = np.random.default_rng(0)
    frames = 140
    table = FrameTable.build(timestamp=np.arange(frames) * 1e-3, can_id=rng.choice([0x10, 0x20, 0x30, 0x40, 0x50, 0x60], frames),
                             dlc=np.full(frames, 8), payload=rng.integers(0, 256, (frames, 8), dtype=np.uint8))
    fitted = FittedDomain(vocabulary=[0x10, 0x20, 0x30, 0x40, 0x50])  # 0x60 is unknown (UNK)
    return adapter_for("automotive").graphs(table, fitted, table.attack_type, 20, 1, 0)


@pytest.mark.parametrize(("start", "stop"), [(0, 121), (0, 64), (64, 121), (5, 6), (37, 100)])
def test_a_slice_of_consecutive_windows_equals_their_collation(stride_one_graphs, start, stop):
    arrays = stride_one_graphs
    assert len(arrays) == 121
    expected = scorer_inputs(arrays, np.arange(start, stop))
    sliced = ConsecutiveInputs(arrays=arrays).inputs(start, stop)
    assert list(sliced) == list(expected)
    for name, values in expected.items():
        assert sliced[name].dtype == values.dtype, name
        np.testing.assert_array_equal(sliced[name], values, err_msg=name)
    edge_index = sliced["edge_index"]
    loops = edge_index[0] == edge_index[1]
    assert np.array_equal(np.unique(edge_index[0][loops]), np.arange(len(sliced["x"])))  # one loop per node
    assert (np.asarray(arrays.edge_index)[0] == np.asarray(arrays.edge_index)[1]).any()  # some came with the data
