"""The quality protocol's datasets: one catalog entry each over the real captures in ``../shared/data``
(read where they lie; only the DoS capture is split in time into the work folder).

- ``road_<capture>``: ROAD leave-one-capture-out over the four shared captures: train on three, test
  on the fourth. (``correlated_signal_attack_3_masquerade`` is ``correlated_signal_attack_3`` with the
  target ID's legitimate frames removed: when one is the test capture the other is in training.)
- ``can_dos``: the can-train-and-test DoS capture (set_01), split in time at the middle of its attack
  period (a split by share would leave one side without attacks).
- ``batadal``: BATADAL dataset 1 (normal year) -> dataset 2, labelled by the official attack windows.
- ``iot23_30s``: IoT-23 34-1 + 42-1 -> Stratosphere 008 in 30-second windows.
- ``<key>_idfree``: each automotive dataset's ID-free twin (catalog ``entity_ids: false``), and the
  unknown-vehicle test sets.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROAD_CAPTURES = ("fuzzing_attack_2", "fuzzing_attack_3", "correlated_signal_attack_3",
                 "correlated_signal_attack_3_masquerade")


ROAD_MAPPING = {"timestamp": "Time", "id": "Id", "bytes": [f"Byte{k}" for k in range(1, 9)], "label": "Label",
                "normal_values": ["Benign"]}


DOMAIN_FEATURES = {"automotive": ("anchor", "dynamics"), "watertreatment": ("statistics", "signal")}


ID_FREE = "_idfree"  # the key suffix of an automotive dataset's ID-free twin (catalog entity_ids: false)


UNKNOWN_VEHICLE_PAIRS = (  # (training dataset, test dataset, what changes): trained with and without entity IDs
    ("road_fuzzing_attack_2", "can_dos", "ROAD's vehicle (fuzzing, fabrication, masquerade) -> the Impala's DoS: "
                                         "another car and an attack never trained on"),
    ("can_dos", "j1939_dos", "the Impala's DoS -> a J1939 truck's DoS (ID 0 flooded every 1 ms): another vehicle, "
                             "the same attack"),
)


def catalog_entries(shared: Path, work: Path) -> dict[str, dict]:
    """Catalog key -> entry of every protocol dataset."""
    road = shared / "can" / "road"
    entries = {}
    for test in ROAD_CAPTURES:
        entries[f"road_{test}"] = {
            "domain": "automotive", "path": str(road), "format": "column_mapped", "mapping": ROAD_MAPPING,
            "train": [f"{c}.csv" for c in ROAD_CAPTURES if c != test], "test": {test: [f"{test}.csv"]},
            "description": f"ROAD leave-one-out: train on the other three captures, test on {test}",
        }
    entries["can_dos"] = {
        "domain": "automotive", "path": str(work / "data" / "can_dos"), "format": "can_train_test",
        "train": ["head.csv"], "test": {"dos_tail": ["tail.csv"]},
        "description": "can-train-and-test set_01 DoS-1 split in time at the middle of its attack period",
    }
    entries["batadal"] = {
        "domain": "watertreatment", "path": str(shared / "watertreatment" / "batadal"), "format": "sensor_csv",
        "train": ["BATADAL_train_dataset_1.csv"], "test": {"dataset_2": ["BATADAL_train_dataset_2.csv"]},
        "sensors": {"attack_windows": "attacks_official_table.transcribed.csv"}, "window": 24, "stride": 6,
    }
    entries["iot23_30s"] = {
        "domain": "internet", "token": "iot23t30", "path": str(shared / "internet"), "format": "zeek",
        "train": ["iot23/CTU-Malware-Capture-34-1-labeled.csv", "iot23/CTU-Malware-Capture-42-1-labeled.csv"],
        "test": {"stratosphere_008": ["stratosphere-008/conn.log.labeled"]}, "flows": {"window_seconds": 30},
    }
    entries["j1939_dos"] = {
        "domain": "automotive", "path": str(shared / "can" / "j1939"), "format": "candump_screen",
        "attack_ids": ["00000000"], "train": ["normal.log"], "test": {"dos_1ms": ["dos_1ms.log"]},
        "description": "J1939 truck: benign traffic, and a DoS flooding ID 00000000 every 1 ms (labelled by that ID); "
                       "a test set for models trained on another vehicle",
    }
    for key in [k for k, entry in entries.items() if entry["domain"] == "automotive" and k not in test_only_datasets()]:
        entries[f"{key}{ID_FREE}"] = {**entries[key], "entity_ids": False,  # the ID-free twin (--id-free)
                                      "description": f"{entries[key]['description']}; ID-free models (entity_ids: false)"}
    return entries


def split_dos_capture(shared: Path, work: Path) -> None:
    """The DoS capture's rows before the middle of its attack period (first to last row with
    ``attack`` 1) as head.csv, the rest as tail.csv (each with the header)."""
    folder = work / "data" / "can_dos"
    if (folder / "tail.csv").is_file():
        return
    lines = (shared / "can" / "can-train-and-test-set01" / "DoS-1.csv").read_text().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    attacks = [i for i, row in enumerate(rows) if row.rstrip("\r\n").rsplit(",", 1)[-1].strip() == "1"]
    if not attacks:
        raise ValueError("DoS-1.csv holds no attack row to split around")
    cut = (attacks[0] + attacks[-1] + 1) // 2
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "head.csv").write_text(header + "".join(rows[:cut]))
    (folder / "tail.csv").write_text(header + "".join(rows[cut:]))


def write_catalog(entries: dict[str, dict], work: Path) -> None:

    (work / "configs").mkdir(parents=True, exist_ok=True)
    text = "# written by kdgat-runs protocol: the quality protocol's datasets\n"
    text += yaml.safe_dump({"datasets": entries}, sort_keys=False)
    target = work / "configs" / "datasets.yaml"
    if not target.is_file() or target.read_text() != text:
        staging = target.with_suffix(".tmp")
        staging.write_text(text)
        staging.replace(target)


def pipeline_name(key: str, entry: dict) -> str:
    return f"{entry['domain']}_{entry.get('token') or key.replace('_', '')}_pipeline"


def test_only_datasets() -> set[str]:
    """The unknown-vehicle test sets that nothing trains on (left out of the protocol's own runs)."""
    return {test for _, test, _ in UNKNOWN_VEHICLE_PAIRS} - {training for training, _, _ in UNKNOWN_VEHICLE_PAIRS}


def feature_sets(entry: dict, features: str) -> list[str | None]:
    """The requested feature sets of the entry's domain ([None]: a domain with one feature set)."""
    sets = DOMAIN_FEATURES.get(entry["domain"])
    if sets and entry.get("entity_ids") is False:  # ID-free twins: the default features (dynamics reads per-ID training)
        sets = sets[:1]
    return [None] if sets is None else [name for name in sets if name in features.split(",")]
