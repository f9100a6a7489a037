"""Seeded generator of synthetic CAN captures in the can-train-and-test layout.

``generate_dataset(out_dir)`` writes::

    train_01_attack_free/normal-1.csv         `frames` attack-free frames
    train_02_with_attacks/<attack>-1.csv      frames // 2 each, one file per attack
    test_0k_<attack>/<attack>-2.csv           frames // 4 each, one test scenario per attack
    synthetic.json                            the generator settings

so it takes the same reader and cache path as the published datasets.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
from kdgat_schemas import atomic_write

from kdgat_data.domains.automotive.frames import FrameTable
from kdgat_data.domains.automotive.synthetic.attacks import ATTACKS, QueuedFrames, apply_attack
from kdgat_data.domains.automotive.synthetic.bus import schedule_on_bus
from kdgat_data.domains.automotive.synthetic.vehicle import (
    driving_profile,
    message_payloads,
    vehicle_messages,
)

DEFAULT_FRAMES = 60_000
DEFAULT_ATTACK_SHARE = 0.02
DEFAULT_BITRATE = 500_000


def generate_capture(
    rng: np.random.Generator,
    frames: int,
    attack: str | None = None,
    *,
    attack_share: float = DEFAULT_ATTACK_SHARE,
    bitrate: int = DEFAULT_BITRATE,
    vehicle_seed: int = 0,
) -> FrameTable:
    """One capture of about ``frames`` normal frames, with ``attack`` applied if given."""
    messages = vehicle_messages(vehicle_seed)
    rate = sum(1.0 / m.period for m in messages)
    duration = frames / rate
    profile = driving_profile(rng, duration)
    parts = []
    for spec in messages:
        offset = rng.uniform(0, spec.period)
        drift = 1.0 + rng.normal(0, 1e-4)  # each ECU's clock runs slightly fast or slow
        times = offset + np.arange(int((duration - offset) / (spec.period * drift)) + 1) * spec.period * drift
        times = times + rng.normal(0, spec.period * 0.01, len(times))
        times = times[(times >= 0) & (times < duration)]
        payload = message_payloads(spec, times, profile, int(rng.integers(0, 16)))
        parts.append((times, np.full(len(times), spec.can_id), np.full(len(times), spec.dlc), payload))
    queued = QueuedFrames(
        ready=np.concatenate([p[0] for p in parts]),
        can_id=np.concatenate([p[1] for p in parts]).astype(np.int64),
        dlc=np.concatenate([p[2] for p in parts]),
        payload=np.concatenate([p[3] for p in parts]),
        label=np.zeros(sum(len(p[0]) for p in parts), np.uint8),
    )
    if attack is not None:
        apply_attack(attack, queued, rng, duration, attack_share, {m.can_id: m.period for m in messages})
    order, timestamp = schedule_on_bus(queued.ready, queued.can_id, queued.dlc, bitrate)
    return FrameTable.build(
        timestamp=1_700_000_000.0 + timestamp, can_id=queued.can_id[order], dlc=queued.dlc[order],
        payload=queued.payload[order], label=queued.label[order], attack_type=attack or "attack",
    )


def write_can_train_test_csv(table: FrameTable, path: Path) -> None:
    """Write ``timestamp,arbitration_id,data_field,attack`` atomically (temporary name, then rename)."""
    hex_rows = np.frombuffer(table.payload.tobytes().hex().upper().encode(), dtype="S16").astype(str)
    short = np.flatnonzero(table.dlc < 8)
    hex_rows[short] = [hex_rows[i][: 2 * int(table.dlc[i])] for i in short]
    frame = pl.DataFrame(
        {
            "timestamp": np.char.mod("%.6f", table.timestamp),
            "arbitration_id": np.char.mod("%03X", table.can_id),
            "data_field": hex_rows,
            "attack": table.label.astype(np.int64),
        }
    )
    atomic_write(path, frame.write_csv())


def generate_dataset(
    out_dir: str | Path,
    *,
    frames: int = DEFAULT_FRAMES,
    seed: int = 0,
    attacks: list[str] | tuple[str, ...] = ATTACKS,
    attack_share: float = DEFAULT_ATTACK_SHARE,
    bitrate: int = DEFAULT_BITRATE,
    overwrite: bool = False,
    vehicle: int = 0,
) -> list[Path]:
    """Write a whole synthetic dataset; the folder appears complete or not at all.

    ``vehicle`` picks the car (`vehicle_messages`): its CAN IDs and payload layouts; ``seed`` the traffic.

    Returns:
        The written capture files.
    """
    unknown = [a for a in attacks if a not in ATTACKS]
    if unknown:
        raise ValueError(f"unknown attack(s) {', '.join(unknown)}; expected some of {', '.join(ATTACKS)}")
    if frames < 1000:
        raise ValueError(f"frames must be at least 1000, got {frames}")
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise FileExistsError(f"{out_dir} exists and is not empty: inspect or build it as it is, write to a new folder, "
                              "or replace it with --force")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        seeds = np.random.SeedSequence(seed).spawn(1 + 2 * len(attacks))
        jobs = [("train_01_attack_free/normal-1.csv", None, frames, seeds[0])]
        for k, attack in enumerate(attacks):
            jobs.append((f"train_02_with_attacks/{attack}-1.csv", attack, frames // 2, seeds[1 + 2 * k]))
            jobs.append((f"test_{k + 1:02d}_{attack}/{attack}-2.csv", attack, frames // 4, seeds[2 + 2 * k]))
        written = []
        for relative, attack, n, seed_sequence in jobs:
            table = generate_capture(
                np.random.default_rng(seed_sequence), n, attack, attack_share=attack_share, bitrate=bitrate,
                vehicle_seed=vehicle,
            )
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            write_can_train_test_csv(table, path)
            written.append(relative)
        settings = {"frames": frames, "seed": seed, "attacks": list(attacks), "attack_share": attack_share, "bitrate": bitrate,
                    "vehicle": vehicle}
        (staging / "synthetic.json").write_text(json.dumps(settings, indent=2) + "\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [out_dir / r for r in written]
