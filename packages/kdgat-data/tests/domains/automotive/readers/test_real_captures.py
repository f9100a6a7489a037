"""Every reader on the real captures in ../shared/data/can: counts equal the README there."""

import numpy as np
import pytest
from kdgat_data.domains.automotive.readers.dispatch import ReaderOptions, read_frames

pytestmark = pytest.mark.real_data


def test_can_train_and_test_dos(shared_can):
    table, report = read_frames(shared_can / "can-train-and-test-set01/DoS-1.csv")
    assert report.format == "can_train_test"
    assert len(table) == 90_169
    assert table.attack_frames == 9_139
    assert len(np.unique(table.can_id)) == 52
    first_attack = int(np.argmax(table.label))
    assert first_attack == 4_841  # the README counts data rows from 0
    attack_rows = table.label == 1
    assert set(table.can_id[attack_rows].tolist()) == {0}
    assert not table.payload[attack_rows].any()
    assert table.attack_counts() == {"dos": 9_139}


@pytest.mark.parametrize(
    ("name", "rows", "counts"),
    [
        ("fuzzing_attack_2.csv", 32_351, {"fuzzing": 352}),
        ("fuzzing_attack_3.csv", 13_238, {"fuzzing": 115}),
        ("correlated_signal_attack_3.csv", 41_829, {"fabrication": 1_265}),
        ("correlated_signal_attack_3_masquerade.csv", 40_565, {"masquerade": 1_265}),
    ],
)
def test_road(shared_can, name, rows, counts):
    table, report = read_frames(shared_can / "road" / name)
    assert report.format == "column_mapped"
    assert len(table) == rows
    assert table.attack_counts() == counts
    assert (table.dlc == 8).all()


def test_road_single_target_id(shared_can):
    table, _ = read_frames(shared_can / "road/correlated_signal_attack_3.csv")
    assert len(np.unique(table.can_id[table.label == 1])) == 1


def test_crysys_whitespace_trace(shared_can):
    table, report = read_frames(shared_can / "crysys/48.csv")
    # The README says 34,893 rows, which is `wc -l`: the last line has no newline but is a
    # complete frame, so there are 34,894 frames.
    assert len(table) == 34_894
    assert not table.labelled and table.attack_frames == 0
    assert table.can_id[0] == 0x380 and table.dlc[2] == 6
    assert table.payload[0].tolist() == [0x30, 0xBB, 0x82, 0x00, 0x9D, 0x53, 0x00, 0x81]
    assert table.payload[2, 6:].tolist() == [0, 0]  # beyond DLC


def test_candump_screen_format(shared_can):
    table, report = read_frames(shared_can / "j1939/normal.log")
    assert report.format == "candump_screen"
    assert len(table) == 19_957
    assert table.can_id[0] == 0x18FCF200
    assert table.payload[0].tolist() == [0xE1] + [0xFF] * 7


def test_candump_dos_labelled_by_attack_id_rule(shared_can):
    table, _ = read_frames(shared_can / "j1939/dos_1ms.log", ReaderOptions(attack_ids=["00000000"]))
    assert len(table) == 28_074
    assert table.attack_frames == 7_237
    assert round(table.attack_frames / len(table), 3) == 0.258


def test_candump_log_file_through_python_can(shared_can):
    table, report = read_frames(shared_can / "j1939/memory_leak_attack.log")
    assert report.format == "python_can"
    assert len(table) == 2_310
    assert table.can_id[0] == 0x08FE6E0B
    assert table.payload[0].tolist() == [0xFF, 0xFE, 0xFF, 0xFE, 0xFF, 0xFE, 0xFF, 0xFE]
