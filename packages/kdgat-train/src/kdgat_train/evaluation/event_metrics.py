"""Event-level metrics: attack events detected, detection delay, false alarms per hour (DESIGN.md §4).

An attack event is a maximal run of attack records in one source (`kdgat_data.attack_events`). It is
detected when a window that overlaps it is predicted attack; the first such window raises the alarm
at its last record, so the delay is that record's index (and time) minus the event's first record's.
A false alarm is a run of consecutive predicted-attack normal windows of one source; it is counted
per hour of normal traffic (the seconds between consecutive normal records of the split).
"""

from __future__ import annotations

import numpy as np
from kdgat_data.attack_events import SplitEvents


def event_detections(predicted: np.ndarray, arrays, events: SplitEvents) -> list[dict]:
    """Each attack event of ``events`` with whether it was detected and its delay.

    Args:
        predicted: (G,) bool, the windows predicted attack (in the split's window order).
        arrays: the split's windows (``source``, ``window_start``, ``window_stop``, ``end_time``).
        events: the split's attack events.

    Returns one dict per event, in ``events`` order: ``source``, ``first_record``, ``last_record``,
    ``start_time``, ``attack_type``, ``detected``, ``delay_records`` and ``delay_s`` (None when missed).
    """
    predicted = np.asarray(predicted, bool)
    source = np.asarray(arrays.source, np.int64)
    start, last = np.asarray(arrays.window_start, np.int64), np.asarray(arrays.window_stop, np.int64) - 1
    end_time = np.asarray(arrays.end_time, np.float64)
    found_by_event: dict[int, tuple[bool, int, float]] = {}
    for index in np.unique([event.source for event in events.events]):
        alarmed = np.flatnonzero(predicted & (source == index))
        alarmed = alarmed[np.argsort(last[alarmed], kind="stable")]
        of_source = [k for k, event in enumerate(events.events) if event.source == index]
        first = np.array([events.events[k].first_record for k in of_source], np.int64)
        final = np.array([events.events[k].last_record for k in of_source], np.int64)
        # the alarmed window that ends first at or after the event's start; windows are ordered by
        # their last record, and a window that ends later never starts earlier
        position = np.searchsorted(last[alarmed], first, "left")
        found = position < len(alarmed)
        window = alarmed[np.minimum(position, max(len(alarmed) - 1, 0))] if len(alarmed) else np.zeros(len(first), np.int64)
        detected = found & (start[window] <= final) if len(alarmed) else np.zeros(len(first), bool)
        for j, k in enumerate(of_source):
            found_by_event[k] = (bool(detected[j]), int(last[window[j]] - first[j]) if detected[j] else 0,
                                 float(end_time[window[j]] - events.events[k].start_time) if detected[j] else 0.0)
    rows = []
    for k, event in enumerate(events.events):
        detected, records, seconds = found_by_event[k]
        rows.append({"source": event.source, "first_record": event.first_record, "last_record": event.last_record,
                     "start_time": event.start_time, "attack_type": event.attack_type, "detected": detected,
                     "delay_records": records if detected else None, "delay_s": seconds if detected else None})
    return rows


def event_metrics(predicted: np.ndarray, arrays, events: SplitEvents) -> dict[str, float]:
    """Event metrics of one split.

    Args:
        predicted: (G,) bool, the windows predicted attack (in the split's window order).
        arrays: the split's `GraphArrays` (``source``, ``window_start``, ``window_stop``, ``end_time``, ``y``).
        events: the split's attack events and normal seconds.
    """
    predicted = np.asarray(predicted, bool)
    source = np.asarray(arrays.source, np.int64)
    detections = [row for row in event_detections(predicted, arrays, events) if row["detected"]]
    delays_records = [row["delay_records"] for row in detections]
    delays_seconds = [row["delay_s"] for row in detections]
    false_positive = predicted & (np.asarray(arrays.y) == 0)
    continues = np.concatenate([[False], false_positive[:-1] & (source[1:] == source[:-1])]) if len(source) else np.zeros(0, bool)
    false_alarms = int((false_positive & ~continues).sum())
    hours = events.normal_seconds / 3600
    count = len(events.events)

    def summary(values, how):
        return float(how(values)) if values else float("nan")

    return {
        "events": float(count),
        "events_detected": float(len(delays_records)),
        "event_recall": len(delays_records) / count if count else float("nan"),
        "detection_delay_records_mean": summary(delays_records, np.mean),
        "detection_delay_records_median": summary(delays_records, np.median),
        "detection_delay_s_mean": summary(delays_seconds, np.mean),
        "detection_delay_s_median": summary(delays_seconds, np.median),
        "false_alarms": float(false_alarms),
        "false_alarms_per_hour": false_alarms / hours if hours > 0 else float("nan"),
    }


__all__ = ["event_detections", "event_metrics"]
