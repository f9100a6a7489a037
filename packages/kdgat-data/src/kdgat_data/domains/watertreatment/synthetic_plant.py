"""Synthetic water-distribution plant (the watertreatment domain's built-in data), BATADAL-style.

A seeded, hourly simulation of 4 tanks fed by 4 pumps and drained by a daily demand cycle, with a
valve between tanks 3 and 4 and 3 junction pressures: 17 tags (``L_T*`` levels, ``F_PU*``/``S_PU*``
pump flow and status, ``F_V1``/``S_V1`` valve, ``P_J*`` pressures). Pumps switch by hysteresis on the
level their controller READS, so a spoofed reading changes the physics as in BATADAL. Attacks
(``ATT_FLAG`` = 1 while active):
    level_spoofing      a tank's reported level is replayed (frozen) while its pump keeps running
    pump_manipulation   a pump is forced on regardless of its tank level
    level_drift         a tank's reported level drifts away from the true level
Layout: ``train_01_normal/plant.csv``, ``train_02_with_attacks/plant.csv``, ``test_0k_<attack>/plant.csv``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from kdgat_schemas import atomic_write

from kdgat_data.generated_dataset import check_new_dataset

WATER_ATTACKS = ("level_spoofing", "pump_manipulation", "level_drift")
TANKS = 4
LOW, HIGH = np.array([1.0, 1.5, 1.2, 0.8]), np.array([4.0, 5.0, 4.2, 3.5])
TAGS = ([f"L_T{i + 1}" for i in range(TANKS)]
        + [name for i in range(TANKS) for name in (f"F_PU{i + 1}", f"S_PU{i + 1}")]
        + ["F_V1", "S_V1", "P_J1", "P_J2", "P_J3"])


def simulate_plant(steps: int, rng: np.random.Generator, attacks: list[tuple[str, int, int, int]] = ()) -> tuple[np.ndarray, np.ndarray]:
    """``(values (steps, 17), att_flag (steps,))`` for attacks ``(kind, tank, start, length)``."""
    level = (LOW + HIGH) / 2 + rng.normal(0, 0.2, TANKS)
    pump_on = np.zeros(TANKS, bool)
    nominal = np.array([95.0, 90.0, 60.0, 45.0])
    drain = np.array([0.028, 0.026, 0.022, 0.018])
    values = np.zeros((steps, len(TAGS)), np.float64)
    flag = np.zeros(steps, np.uint8)
    frozen = {}
    for t in range(steps):
        hour = t % 24
        demand = 1.0 + 0.45 * np.sin(2 * np.pi * (hour - 7) / 24) + rng.normal(0, 0.05)
        reported = level.copy()
        forced = np.zeros(TANKS, bool)
        for kind, tank, start, length in attacks:
            if start <= t < start + length:
                flag[t] = 1
                if kind == "level_spoofing":
                    reported[tank] = frozen.setdefault((kind, tank, start), level[tank])
                elif kind == "level_drift":
                    reported[tank] = level[tank] - 0.04 * (t - start)
                elif kind == "pump_manipulation":
                    forced[tank] = True
        pump_on = np.where(reported < LOW, True, np.where(reported > HIGH, False, pump_on)) | forced
        flow = pump_on * nominal * (1 + rng.normal(0, 0.02, TANKS))
        valve_open = level[2] > level[3] + 0.5
        valve_flow = 30.0 * valve_open * (1 + rng.normal(0, 0.03))
        inflow = flow * 0.012 + np.array([0, 0, -1, 1]) * valve_flow * 0.01
        level = np.clip(level + inflow - drain * demand * 40 * 0.05 * (1 + rng.normal(0, 0.05, TANKS)), 0.0, 6.5)
        pressures = [20 + 3 * level[0] + 0.05 * flow[0] + rng.normal(0, 0.3),
                     30 + 2.5 * level[1] + 0.04 * flow[1] + rng.normal(0, 0.3),
                     25 + 2 * (level[2] + level[3]) + 0.05 * valve_flow + rng.normal(0, 0.3)]
        values[t] = [*reported, *np.ravel(np.column_stack([flow, pump_on.astype(float)])), valve_flow, float(valve_open),
                     *pressures]
    return values, flag


def _write(path: Path, values: np.ndarray, flag: np.ndarray, start: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["DATETIME," + ",".join(TAGS) + ",ATT_FLAG"]
    for t, (row, attack) in enumerate(zip(values, flag, strict=True)):
        stamp = (start + timedelta(hours=t)).strftime("%d/%m/%y %H")
        lines.append(stamp + "," + ",".join(f"{v:.4f}" for v in row) + f",{int(attack)}")
    atomic_write(path, "\n".join(lines) + "\n")


def generate_water_dataset(root: str | Path, steps: int = 6000, seed: int = 0, attacks: list[str] | None = None,
                           overwrite: bool = False) -> Path:
    """Write a training capture without attacks (``steps`` hours), one with every attack twice, and one
    test scenario per attack, each a different seeded stretch of operation."""
    root = Path(root)
    attacks = list(attacks or WATER_ATTACKS)
    check_new_dataset(root, attacks, WATER_ATTACKS, "water", overwrite)
    rng = np.random.default_rng(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    normal, flag = simulate_plant(steps, rng)
    _write(root / "train_01_normal" / "plant.csv", normal, flag, start)
    half = max(steps // 2, 200)
    planned = [(kind, int(rng.integers(TANKS)), int(s), int(rng.integers(24, 60)))
               for kind in attacks for s in rng.choice(np.arange(48, half - 80, 10), 2, replace=False)]
    values, flag = simulate_plant(half, rng, planned)
    _write(root / "train_02_with_attacks" / "plant.csv", values, flag, start + timedelta(hours=steps))
    quarter = max(steps // 4, 150)
    for k, kind in enumerate(attacks, 1):
        scenario = [(kind, int(rng.integers(TANKS)), int(s), int(rng.integers(24, 48)))
                    for s in (quarter // 4, quarter // 2 + 10)]
        values, flag = simulate_plant(quarter, rng, scenario)
        _write(root / f"test_{k:02d}_{kind}" / "plant.csv", values, flag, start + timedelta(hours=steps + half + k * quarter))
    return root
