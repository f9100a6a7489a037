"""Attack events of a record sequence: the unit of event-level metrics (DESIGN.md §4).

An attack event is a maximal run of consecutive attack records in one source file. The cache
stores, per split, the events of every record range it windowed and the seconds of normal traffic
(the sum of gaps between consecutive normal records), so detection delay and false alarms per hour
can be computed from window predictions alone.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

EVENTS_FILE = "events.json"


@dataclass(frozen=True)
class AttackEvent:
    """One maximal run of attack records ``first_record..last_record`` (inclusive) of ``source``."""

    source: int
    first_record: int
    last_record: int
    start_time: float
    end_time: float
    attack_type: int


@dataclass
class SplitEvents:
    """The attack events of one split and how much normal traffic it holds."""

    events: list[AttackEvent] = field(default_factory=list)
    normal_seconds: float = 0.0

    def extend(self, other: SplitEvents) -> None:
        self.events.extend(other.events)
        self.normal_seconds += other.normal_seconds

    def save(self, folder: Path) -> None:
        payload = {"normal_seconds": self.normal_seconds, "events": [asdict(event) for event in self.events]}
        (folder / EVENTS_FILE).write_text(json.dumps(payload) + "\n")

    @classmethod
    def load(cls, folder: Path) -> SplitEvents:
        payload = json.loads((folder / EVENTS_FILE).read_text())
        return cls([AttackEvent(**event) for event in payload["events"]], float(payload["normal_seconds"]))


def find_attack_events(label: np.ndarray, timestamp: np.ndarray, attack_codes: np.ndarray, *, source: int,
                       first_record: int = 0) -> SplitEvents:
    """Events and normal seconds of one record range.

    Args:
        label: (N,) 0/1 attack flag per record.
        timestamp: (N,) record times in seconds (non-decreasing).
        attack_codes: (N,) attack-type code per record (the dataset's shared list).
        source: the source file's index. first_record: the range's first record index in that file.
    """
    label = np.asarray(label).astype(bool)
    timestamp = np.asarray(timestamp, np.float64)
    edges = np.diff(np.concatenate([[False], label, [False]]).astype(np.int8))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # runs are starts[i]:stops[i]
    events = [
        AttackEvent(source=source, first_record=int(a) + first_record, last_record=int(b) - 1 + first_record,
                    start_time=float(timestamp[a]), end_time=float(timestamp[b - 1]),
                    attack_type=int(np.bincount(np.asarray(attack_codes[a:b], np.int64)).argmax()))
        for a, b in zip(starts, stops, strict=True)
    ]
    both_normal = ~label[1:] & ~label[:-1]
    normal_seconds = float(np.clip(np.diff(timestamp), 0, None)[both_normal].sum()) if len(label) > 1 else 0.0
    return SplitEvents(events, normal_seconds)
