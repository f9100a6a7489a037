"""The synthetic plant: seeded, every attack labelled, physics changed by spoofed readings."""

import numpy as np
import pytest
from kdgat_data.domains.watertreatment.sensor_csv import read_sensor_csv
from kdgat_data.domains.watertreatment.synthetic_plant import TAGS, generate_water_dataset, simulate_plant


def test_layout_counts_and_determinism(tmp_path):
    generate_water_dataset(tmp_path / "a", steps=800, seed=4)
    generate_water_dataset(tmp_path / "b", steps=800, seed=4)
    folders = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert folders == ["test_01_level_spoofing", "test_02_pump_manipulation", "test_03_level_drift", "train_01_normal",
                       "train_02_with_attacks"]
    for folder in folders:
        assert (tmp_path / "a" / folder / "plant.csv").read_bytes() == (tmp_path / "b" / folder / "plant.csv").read_bytes()
    normal, _ = read_sensor_csv(tmp_path / "a" / "train_01_normal" / "plant.csv")
    attacked, _ = read_sensor_csv(tmp_path / "a" / "train_02_with_attacks" / "plant.csv")
    assert (len(normal), normal.attack_frames) == (800, 0) and normal.sensors == tuple(TAGS)
    assert 0 < attacked.attack_frames < len(attacked)


def test_a_forced_pump_overfills_its_tank():
    steps = 300
    calm, _ = simulate_plant(steps, np.random.default_rng(1))
    forced, flag = simulate_plant(steps, np.random.default_rng(1), [("pump_manipulation", 0, 100, 80)])
    assert flag[100:180].all() and not flag[:100].any()
    assert forced[100:180, TAGS.index("S_PU1")].min() == 1.0  # on throughout
    assert forced[179, 0] > calm[179, 0]  # tank 1 fuller than without the attack


def test_unknown_attack_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown water attacks"):
        generate_water_dataset(tmp_path, steps=300, attacks=["flood"])
