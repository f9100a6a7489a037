"""Attack events: maximal runs of attack records, and normal seconds between normal records."""

import numpy as np
from kdgat_data.attack_events import SplitEvents, find_attack_events


def test_runs_become_events_with_their_times_and_types(tmp_path):
    label = np.array([0, 1, 1, 0, 0, 1, 0, 1], np.uint8)
    codes = np.array([0, 2, 2, 0, 0, 3, 0, 3], np.int16)
    timestamp = np.arange(8, dtype=np.float64) * 0.5
    found = find_attack_events(label, timestamp, codes, source=4, first_record=100)
    assert [(e.first_record, e.last_record, e.attack_type) for e in found.events] == [(101, 102, 2), (105, 105, 3), (107, 107, 3)]
    assert found.events[0].start_time == 0.5 and found.events[0].end_time == 1.0
    assert {e.source for e in found.events} == {4}
    assert found.normal_seconds == 0.5  # only records 3 -> 4 are two normal records in a row
    found.save(tmp_path)
    assert SplitEvents.load(tmp_path) == found


def test_all_normal_and_all_attack():
    assert find_attack_events(np.zeros(5, np.uint8), np.arange(5.0), np.zeros(5, np.int16), source=0).events == []
    everything = find_attack_events(np.ones(5, np.uint8), np.arange(5.0), np.ones(5, np.int16), source=0)
    assert len(everything.events) == 1 and everything.normal_seconds == 0
