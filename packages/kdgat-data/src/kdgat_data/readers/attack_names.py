"""Attack-type names derived from file and folder names (for captures labelled only 0/1)."""

from __future__ import annotations

import re
from pathlib import Path

# Keywords in published file/folder names -> canonical attack-type name.
_KEYWORDS = [
    ("dos", "dos"), ("flood", "dos"),
    ("fuzz", "fuzzing"),
    ("gear", "gear_spoofing"), ("rpm", "rpm_spoofing"), ("speed", "speed_spoofing"),
    ("spoof", "spoofing"),
    ("masquerade", "masquerade"),
    ("suppress", "suppression"),
    ("replay", "replay"),
    ("standstill", "standstill"), ("accessory", "accessory"), ("interval", "interval"),
    ("systematic", "systematic"), ("force_neutral", "force_neutral"),
]


def attack_type_from_path(path: str | Path) -> str:
    """Name the attack of a binary-labelled capture from its folder, else its file name.

    ``test_01_DoS/x.csv`` -> ``dos``; ``train_02_with_attacks/fuzzing-1.csv`` -> ``fuzzing``;
    ``DoS-1.csv`` -> ``dos``; an unknown name -> the cleaned file stem.
    """
    path = Path(path)
    for candidate in (scenario_of_folder(path.parent.name), path.stem):
        if candidate is None:
            continue
        cleaned = _clean(candidate)
        for keyword, name in _KEYWORDS:
            if keyword in cleaned:
                return name
    return _clean(path.stem) or "attack"


TEST_FOLDER = re.compile(r"^test_\d+_(.+)$", re.IGNORECASE)  # can-train-and-test: test_01_DoS


def scenario_of_folder(folder: str) -> str | None:
    """``test_01_DoS`` -> ``DoS``; ``None`` for a folder that is not a test scenario."""
    match = TEST_FOLDER.match(folder)
    return match.group(1) if match else None


def _clean(name: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return re.sub(r"_?\d+$", "", name)
