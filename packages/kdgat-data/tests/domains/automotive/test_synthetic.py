import hashlib

import numpy as np
import pytest
from kdgat_data.domains.automotive.readers.dispatch import read_frames
from kdgat_data.domains.automotive.synthetic.attacks import ATTACKS
from kdgat_data.domains.automotive.synthetic.bus import frame_duration
from kdgat_data.domains.automotive.synthetic.generator import generate_capture, generate_dataset


def _digest(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.csv"))}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = generate_dataset(tmp_path / "a", frames=2000, seed=3, attacks=["dos"])
    generate_dataset(tmp_path / "b", frames=2000, seed=3, attacks=["dos"])
    generate_dataset(tmp_path / "c", frames=2000, seed=4, attacks=["dos"])
    assert len(a) == 3
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("share", [0.005, 0.03])
def test_attack_share_matches_setting(attack, share):
    table = generate_capture(np.random.default_rng(1), 20_000, attack, attack_share=share)
    measured = table.attack_frames / len(table)
    assert measured == pytest.approx(share, rel=0.3)
    assert set(table.attack_counts()) == {attack}


def test_bus_timing_is_respected():
    table = generate_capture(np.random.default_rng(0), 5000, "dos")
    gaps = np.diff(table.timestamp)
    assert (gaps >= frame_duration(table.dlc[1:], 500_000) - 1e-6).all()  # frames never overlap on the wire (µs stamps)


def test_layout_on_disk_reads_back(tiny_synthetic):
    assert (tiny_synthetic / "synthetic.json").is_file()
    table, report = read_frames(tiny_synthetic / "test_01_dos/dos-2.csv")
    assert report.format == "can_train_test"
    assert table.attack_counts().keys() == {"dos"}
    assert set(table.can_id[table.label == 1].tolist()) == {0}
    normal, _ = read_frames(tiny_synthetic / "train_01_attack_free/normal-1.csv")
    assert normal.attack_frames == 0 and len(np.unique(normal.can_id)) == 40


def test_refuses_to_overwrite_and_bad_arguments(tmp_path, write):
    write(tmp_path / "full/x.txt", "x")
    with pytest.raises(FileExistsError):
        generate_dataset(tmp_path / "full", frames=2000)
    with pytest.raises(ValueError, match="unknown attack"):
        generate_dataset(tmp_path / "new", attacks=["teleport"])
    assert not (tmp_path / "new").exists()
