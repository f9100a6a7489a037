"""The one base of the three record tables: slicing, reordering and row checks written once."""

import numpy as np
import pytest
from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_data.domains.internet.flows import FlowTable
from kdgat_data.domains.watertreatment.sensors import SensorTable
from kdgat_data.record_table import NORMAL, remap_attack_types

N = 6


def _tables():
    rng = np.random.default_rng(0)
    label = np.array([0, 1, 0, 1, 1, 0], np.uint8)
    attack_type = label.astype(np.int16)
    frames = FrameTable.build(timestamp=np.arange(N, dtype=float), can_id=rng.integers(0, 9, N), dlc=np.full(N, 8),
                              payload=rng.integers(0, 255, (N, 8)), label=label, attack_type="dos")
    flows = FlowTable(timestamp=np.arange(N, dtype=float), src=np.arange(N, dtype=np.int32),
                      dst=np.arange(N, dtype=np.int32)[::-1].copy(), dst_port=np.full(N, 80, np.int32),
                      proto=np.zeros(N, np.int8), duration=rng.random(N).astype(np.float32),
                      bytes_out=rng.random(N).astype(np.float32), bytes_in=rng.random(N).astype(np.float32),
                      packets_out=rng.random(N).astype(np.float32), packets_in=rng.random(N).astype(np.float32),
                      failed=np.zeros(N, np.uint8), label=label, attack_type=attack_type,
                      hosts=tuple(f"h{i}" for i in range(N)), attack_types=(NORMAL, "scan"))
    sensors = SensorTable(timestamp=np.arange(N, dtype=float), values=rng.random((N, 3)).astype(np.float32),
                          sensors=("a", "b", "c"), label=label, attack_type=attack_type, attack_types=(NORMAL, "leak"))
    return [frames, flows, sensors]


@pytest.mark.parametrize("index", range(3), ids=["frames", "flows", "sensors"])
def test_slice_and_take_move_every_record_column_and_keep_the_rest(index):
    table = _tables()[index]
    order = np.array([5, 0, 3])
    for part, rows in ((table.slice(2, 5), np.arange(2, 5)), (table.take(order), order)):
        assert len(part) == len(rows)
        for column in type(table).record_columns:
            np.testing.assert_array_equal(getattr(part, column), getattr(table, column)[rows])
        assert part.attack_types == table.attack_types and part.source == table.source
    assert table.attack_frames == 3 and table.attack_counts() == {table.attack_types[1]: 3}


@pytest.mark.parametrize("index", range(3), ids=["frames", "flows", "sensors"])
def test_a_column_of_the_wrong_length_is_refused_by_name(index):
    table = _tables()[index]
    column = type(table).record_columns[0]
    with pytest.raises(ValueError, match=f"{type(table).__name__}.{column} has {N - 1} rows"):
        type(table)(**{**table.__dict__, column: getattr(table, column)[:-1]})
    with pytest.raises(ValueError, match="attack_types\\[0\\] must be 'normal'"):
        type(table)(**{**table.__dict__, "attack_types": ("dos", NORMAL)})


def test_remap_attack_types_into_a_shared_list():
    frames = _tables()[0]
    names = [NORMAL, "fuzzing"]
    codes = remap_attack_types(frames, names)
    assert names == [NORMAL, "fuzzing", "dos"]
    np.testing.assert_array_equal(codes, np.where(frames.label == 1, 2, 0))
