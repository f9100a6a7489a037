"""The synthetic vehicle: ECUs sending CAN IDs at their own periods, with realistic payloads.

Each message has a period (10 ms to 1 s) with jitter, a DLC, and bytes that are a 4-bit rolling
counter, a checksum, slowly varying physical signals (speed, RPM, gear, temperatures), status
flags or constants. The signals follow one smooth driving profile shared by all ECUs, so related
IDs are consistent with each other, as on a real bus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GEAR_ID = 0x43F  # the IDs the Car-Hacking spoofing attacks target
RPM_ID = 0x316
SPEED_ID = 0x1E5  # masquerade / suppression target

_PERIODS_S = (0.01, 0.01, 0.02, 0.02, 0.02, 0.05, 0.1, 0.1, 0.2, 0.5, 1.0)


@dataclass(frozen=True)
class MessageSpec:
    """One periodic CAN message: ID, period, DLC and what each byte carries.

    ``layout`` has one entry per payload byte: ``counter``, ``checksum``, ``speed_hi``,
    ``speed_lo``, ``rpm_hi``, ``rpm_lo``, ``gear``, ``temperature``, ``flags``, or ``const:NN``.
    """

    can_id: int
    period: float
    dlc: int
    layout: tuple[str, ...]


def vehicle_messages(vehicle_seed: int = 0, n_messages: int = 40) -> list[MessageSpec]:
    """A fixed set of periodic messages for one synthetic car (independent of the traffic seed)."""
    rng = np.random.default_rng(vehicle_seed)
    fixed = [
        MessageSpec(SPEED_ID, 0.01, 8, ("speed_hi", "speed_lo", "flags", "const:00", "temperature", "const:3C", "counter", "checksum")),
        MessageSpec(RPM_ID, 0.01, 8, ("const:05", "rpm_hi", "rpm_lo", "temperature", "const:21", "const:00", "counter", "checksum")),
        MessageSpec(GEAR_ID, 0.01, 8, ("gear", "const:00", "const:00", "flags", "const:00", "const:00", "counter", "checksum")),
    ]
    used = {m.can_id for m in fixed}
    choices = ("speed_hi", "speed_lo", "rpm_hi", "rpm_lo", "temperature", "flags", "const")
    messages = list(fixed)
    while len(messages) < n_messages:
        can_id = int(rng.integers(0x080, 0x6FF))
        if can_id in used:
            continue
        used.add(can_id)
        dlc = int(rng.choice([8, 8, 8, 8, 6, 5, 4, 2]))
        layout = []
        for position in range(dlc):
            if dlc >= 4 and position == dlc - 1:
                layout.append("checksum")
            elif dlc >= 4 and position == dlc - 2:
                layout.append("counter")
            else:
                kind = str(rng.choice(choices))
                layout.append(f"const:{int(rng.integers(0, 256)):02X}" if kind == "const" else kind)
        messages.append(MessageSpec(can_id, float(rng.choice(_PERIODS_S)), dlc, tuple(layout)))
    return sorted(messages, key=lambda m: m.can_id)


def driving_profile(rng: np.random.Generator, duration: float) -> dict[str, np.ndarray]:
    """Smooth speed (km/h), RPM, gear and temperature sampled every 100 ms over ``duration`` s."""
    steps = int(duration / 0.1) + 2
    smoothing = min(20, steps)
    acceleration = np.convolve(rng.normal(0, 1.5, steps), np.ones(smoothing) / smoothing, mode="same")
    speed = np.clip(40 + np.cumsum(acceleration) * 0.1 * 3.6, 0, 180)
    gear = np.clip(np.digitize(speed, [15, 30, 50, 70, 95]) + 1, 1, 6)
    rpm = np.clip(800 + speed * (60 - 7 * gear) + rng.normal(0, 30, steps), 700, 6500)
    temperature = 85 + np.cumsum(rng.normal(0, 0.02, steps))
    return {"t": np.arange(steps) * 0.1, "speed": speed, "rpm": rpm, "gear": gear, "temperature": temperature}


def message_payloads(spec: MessageSpec, times: np.ndarray, profile: dict[str, np.ndarray], counter_start: int) -> np.ndarray:
    """(len(times), 8) uint8 payloads of one message at the given times."""
    n = len(times)
    signal = {name: np.interp(times, profile["t"], profile[name]) for name in ("speed", "rpm", "gear", "temperature")}
    speed = (signal["speed"] * 100).astype(np.int64)
    rpm = (signal["rpm"] * 4).astype(np.int64)
    payload = np.zeros((n, 8), np.uint8)
    for position, kind in enumerate(spec.layout):
        if kind.startswith("const:"):
            column = np.full(n, int(kind[6:], 16))
        elif kind == "counter":
            column = (counter_start + np.arange(n)) % 16
        elif kind == "speed_hi":
            column = speed >> 8
        elif kind == "speed_lo":
            column = speed
        elif kind == "rpm_hi":
            column = rpm >> 8
        elif kind == "rpm_lo":
            column = rpm
        elif kind == "gear":
            column = signal["gear"].round().astype(np.int64)
        elif kind == "temperature":
            column = (signal["temperature"] + 40).astype(np.int64)
        elif kind == "flags":
            column = (signal["speed"] > 5).astype(np.int64) | ((signal["rpm"] > 3000).astype(np.int64) << 3)
        else:  # checksum, filled below
            continue
        payload[:, position] = (column & 0xFF).astype(np.uint8)
    if "checksum" in spec.layout:
        position = spec.layout.index("checksum")
        payload[:, position] = (payload[:, : spec.dlc].astype(np.int64).sum(axis=1) - payload[:, position]) & 0xFF
    return payload
