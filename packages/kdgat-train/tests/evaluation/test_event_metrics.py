"""Event-level metrics on a capture with known attack starts give the known delays and false alarms."""

import numpy as np
import pytest
from kdgat_data.attack_events import find_attack_events
from kdgat_data.graph_arrays import GraphArrays
from kdgat_train.evaluation.event_metrics import event_metrics


def _windows(label: np.ndarray, timestamp: np.ndarray, window: int, stride: int) -> GraphArrays:
    starts = np.arange(0, len(label) - window + 1, stride)
    g = len(starts)
    y = np.array([label[s : s + window].max() for s in starts], np.uint8)
    arrays = GraphArrays.empty()
    from dataclasses import replace

    arrays = replace(arrays, y=y, source=np.zeros(g, np.int32), window_start=starts, attack_type=np.zeros(g, np.int16),
                     node_ptr=np.zeros(g + 1, np.int64), edge_ptr=np.zeros(g + 1, np.int64))
    return arrays.with_record_span(starts + window, timestamp)


def test_known_attack_starts_give_the_known_delays():
    n, window, stride = 400, 10, 5
    label = np.zeros(n, np.uint8)
    label[103:140] = 1  # event 1 starts at record 103
    label[250:260] = 1  # event 2 starts at record 250
    label[330:332] = 1  # event 3: never alarmed
    timestamp = np.arange(n) * 0.01  # 100 records/s
    arrays = _windows(label, timestamp, window, stride)
    events = find_attack_events(label, timestamp, label.astype(np.int16), source=0)
    predicted = np.asarray(arrays.y).astype(bool).copy()
    predicted[np.isin(arrays.window_start, [95, 100])] = False  # the first two windows over event 1 miss it
    predicted[(arrays.window_start >= 325) & (arrays.window_start <= 330)] = False
    predicted[arrays.window_start == 50] = True  # one false alarm of two consecutive windows ...
    predicted[arrays.window_start == 55] = True
    predicted[arrays.window_start == 380] = True  # ... and one of a single window
    metrics = event_metrics(predicted, arrays, events)
    # event 1: first alarm is the window 105..114 (raised at record 114): 11 records; event 2: window
    # 245..254 raises at record 254: 4 records
    assert metrics["events"] == 3 and metrics["events_detected"] == 2 and metrics["event_recall"] == pytest.approx(2 / 3)
    assert metrics["detection_delay_records_mean"] == pytest.approx((11 + 4) / 2)
    assert metrics["detection_delay_records_median"] == pytest.approx(7.5)
    assert metrics["detection_delay_s_mean"] == pytest.approx((0.11 + 0.04) / 2)
    assert metrics["false_alarms"] == 2
    assert metrics["false_alarms_per_hour"] == pytest.approx(2 / (events.normal_seconds / 3600))


def test_nothing_alarmed_detects_nothing():
    label = np.zeros(100, np.uint8)
    label[40:45] = 1
    timestamp = np.arange(100.0)
    arrays = _windows(label, timestamp, 10, 10)
    metrics = event_metrics(np.zeros(len(arrays), bool), arrays, find_attack_events(label, timestamp, label, source=0))
    assert metrics["events_detected"] == 0 and np.isnan(metrics["detection_delay_records_mean"])
    assert metrics["false_alarms"] == 0
