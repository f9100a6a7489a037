"""The standard CAN attacks, applied to one capture's queued frames.

Injection attacks add frames (labelled 1): ``dos`` floods ID 0x000 with zero payloads (it wins
every arbitration), ``fuzzing`` sends random IDs and payloads, ``gear_spoofing`` and
``rpm_spoofing`` repeat one fixed payload on the gear or RPM ID. ``masquerade`` replaces a
legitimate ID's frames, at that ID's own period, with fabricated values (the replaced frames
are labelled 1). ``suppression`` silences one ID; since there is no frame to flag, every frame
sent while it is silenced is labelled 1, so the windows that miss the ID are the attack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kdgat_data.domains.automotive.synthetic.vehicle import GEAR_ID, RPM_ID, SPEED_ID

ATTACKS = ("dos", "fuzzing", "gear_spoofing", "rpm_spoofing", "masquerade", "suppression")
_INJECTION_PERIOD_S = {"dos": 0.0003, "fuzzing": 0.0005, "gear_spoofing": 0.001, "rpm_spoofing": 0.001}


@dataclass
class QueuedFrames:
    """Frames as queued by the ECUs (before bus arbitration). Shapes (N,) and (N, 8)."""

    ready: np.ndarray
    can_id: np.ndarray
    dlc: np.ndarray
    payload: np.ndarray
    label: np.ndarray

    def append(self, ready, can_id, dlc, payload) -> None:
        self.ready = np.concatenate([self.ready, ready])
        self.can_id = np.concatenate([self.can_id, can_id])
        self.dlc = np.concatenate([self.dlc, dlc])
        self.payload = np.concatenate([self.payload, payload])
        self.label = np.concatenate([self.label, np.ones(len(ready), np.uint8)])

    def keep(self, mask: np.ndarray) -> None:
        for name in ("ready", "can_id", "dlc", "payload", "label"):
            setattr(self, name, getattr(self, name)[mask])


def attack_intervals(rng: np.random.Generator, duration: float, total: float, bursts: int = 3) -> list[tuple[float, float]]:
    """``bursts`` non-overlapping intervals of summed length ``total`` inside the middle 90 %."""
    length = min(total / bursts, 0.9 * duration / bursts)
    slots = np.sort(rng.choice(bursts * 4, size=bursts, replace=False))
    slot_width = 0.9 * duration / (bursts * 4)
    starts = 0.05 * duration + slots * slot_width + rng.uniform(0, max(slot_width - length, 0), bursts)
    return [(float(s), float(s + length)) for s in starts]


def apply_attack(
    name: str, frames: QueuedFrames, rng: np.random.Generator, duration: float, share: float, period_of: dict[int, float]
) -> None:
    """Apply attack ``name`` so that about ``share`` of the capture's frames are attack frames."""
    n_normal = len(frames.ready)
    if name in _INJECTION_PERIOD_S:
        period = _INJECTION_PERIOD_S[name]
        injected = share / (1 - share) * n_normal
        for start, stop in attack_intervals(rng, duration, injected * period):
            ready = np.arange(start, stop, period) + rng.normal(0, period * 0.05, int(np.ceil((stop - start) / period)))[: len(np.arange(start, stop, period))]
            n = len(ready)
            if name == "dos":
                can_id, dlc, payload = np.zeros(n, np.int64), np.full(n, 8), np.zeros((n, 8), np.uint8)
            elif name == "fuzzing":
                can_id = rng.integers(0, 0x800, n)
                dlc = np.full(n, 8)
                payload = rng.integers(0, 256, (n, 8)).astype(np.uint8)
            else:
                target = GEAR_ID if name == "gear_spoofing" else RPM_ID
                fixed = np.array([0x06, 0, 0, 0, 0, 0, 0, 0] if target == GEAR_ID else [0x05, 0x1F, 0x40, 0, 0, 0, 0, 0], np.uint8)
                can_id, dlc, payload = np.full(n, target, np.int64), np.full(n, 8), np.tile(fixed, (n, 1))
            frames.append(ready, can_id, dlc, payload)
    elif name == "masquerade":
        replaced_total = share * n_normal * period_of[SPEED_ID]
        for start, stop in attack_intervals(rng, duration, replaced_total):
            hit = (frames.can_id == SPEED_ID) & (frames.ready >= start) & (frames.ready < stop)
            frames.payload[hit, 0] = 0x00  # fabricated speed: a constant 0.5 km/h, counter and checksum kept plausible
            frames.payload[hit, 1] = 0x32
            frames.payload[hit, 7] = (frames.payload[hit, :7].astype(np.int64).sum(axis=1)) & 0xFF
            frames.label[hit] = 1
    elif name == "suppression":
        for start, stop in attack_intervals(rng, duration, share * duration):
            window = (frames.ready >= start) & (frames.ready < stop)
            frames.label[window] = 1
            frames.keep(~(window & (frames.can_id == SPEED_ID)))
    else:
        raise ValueError(f"unknown attack {name!r}; expected one of {', '.join(ATTACKS)}")
