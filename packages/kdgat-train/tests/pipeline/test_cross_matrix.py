"""The cross-dataset matrix averages a metric over the test scenarios that define it."""

import math

from kdgat_train.pipeline.cross_matrix import _scenario_mean


def test_a_one_class_test_source_adds_what_it_defines_and_nothing_else():
    metrics = {"test/parked/attack_windows": 0, "test/parked/normal_windows": 120, "test/parked/f1": 0.0,
               "test/parked/fpr": 0.04, "test/parked/false_alarms_per_hour": 6.0,
               "test/flood/attack_windows": 80, "test/flood/normal_windows": 0, "test/flood/f1": 0.9,
               "test/flood/recall": 0.8, "test/flood/fpr": float("nan"), "test/flood/detection_delay_s_median": 0.3,
               "test/mixed/attack_windows": 20, "test/mixed/normal_windows": 100, "test/mixed/f1": 0.6,
               "test/mixed/fpr": 0.02, "test/mixed/recall": 0.7, "test/mixed/unk_share": 0.1}
    assert _scenario_mean(metrics, "f1") == 0.6  # the parked car's F1 of 0 is undefined, not a miss
    assert math.isclose(_scenario_mean(metrics, "fpr"), 0.03)
    assert math.isclose(_scenario_mean(metrics, "recall"), 0.75)
    assert _scenario_mean(metrics, "false_alarms_per_hour") == 6.0
    assert _scenario_mean(metrics, "detection_delay_s_median") == 0.3
    assert _scenario_mean(metrics, "unk_share") == 0.1
