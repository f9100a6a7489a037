import shutil

import pytest
from kdgat_data.layout import dedupe_sources, discover_files, scenario_name


def test_discovers_can_train_and_test_layout(tiny_synthetic):
    files = discover_files(tiny_synthetic)
    assert [p.parent.name for p in files.train].count("train_01_attack_free") == 1
    assert len(files.train) == 7
    assert sorted(files.test) == sorted(["dos", "fuzzing", "gear_spoofing", "rpm_spoofing", "masquerade", "suppression"])


def test_flat_folder_is_all_training(tmp_path, write):
    write(tmp_path / "a.csv", "x")
    write(tmp_path / "sub/b.log", "x")
    write(tmp_path / "README.md", "x")
    files = discover_files(tmp_path)
    assert [p.name for p in files.train] == ["a.csv", "b.log"] and files.test == {}


def test_explicit_globs_override_discovery(tmp_path, write):
    for name in ("a.csv", "b.csv", "c.csv"):
        write(tmp_path / name, name)
    files = discover_files(tmp_path, ["a.csv", "b.csv"], {"third": ["c.csv"]})
    assert [p.name for p in files.train] == ["a.csv", "b.csv"]
    assert [p.name for p in files.test["third"]] == ["c.csv"]
    with pytest.raises(FileNotFoundError, match="matches no file"):
        discover_files(tmp_path, ["nope*.csv"])


def test_scenario_names():
    assert scenario_name("test_01_DoS") == "dos"
    assert scenario_name("test_03_known_vehicle_unknown_attack") == "known_vehicle_unknown_attack"


def test_byte_identical_files_are_kept_once_and_test_copies_of_training_files_dropped(tiny_synthetic, tmp_path):
    root = tmp_path / "dup"
    shutil.copytree(tiny_synthetic, root)
    normal = root / "train_01_attack_free/normal-1.csv"
    shutil.copy(normal, root / "train_01_attack_free/normal-1-copy.csv")
    (root / "test_09_leak").mkdir()
    shutil.copy(normal, root / "test_09_leak/normal.csv")
    sources = {s.path: s for s in dedupe_sources(discover_files(root))}
    copies = [sources["train_01_attack_free/normal-1-copy.csv"], sources["train_01_attack_free/normal-1.csv"]]
    assert sorted(s.role for s in copies) == ["duplicate", "train"]
    kept = next(s.path for s in copies if s.role == "train")
    assert sources["test_09_leak/normal.csv"].role == "duplicate"
    assert sources["test_09_leak/normal.csv"].duplicate_of == kept


def test_named_validation_files_leave_the_training_files(tiny_synthetic):
    files = discover_files(tiny_synthetic, validation=["train_02_with_attacks/dos-1.csv"])
    names = [p.name for p in files.train]
    assert "dos-1.csv" not in names and "normal-1.csv" in names
    assert [p.name for p in files.validation] == ["dos-1.csv"]
    roles = {s.path: s.role for s in dedupe_sources(files)}
    assert roles["train_02_with_attacks/dos-1.csv"] == "validation"


def test_a_validation_file_that_is_also_a_test_file_is_refused(tiny_synthetic):
    with pytest.raises(ValueError, match="both a validation file and a file of test scenario 'dos'"):
        discover_files(tiny_synthetic, validation=["test_01_dos/*.csv"])
