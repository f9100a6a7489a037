"""Synthetic flows: seeded, every attack labelled with its kind, readable as Zeek conn.log."""

import pytest
from kdgat_data.domains.internet.flow_readers import read_flows
from kdgat_data.domains.internet.synthetic_flows import generate_flow_dataset


def test_layout_labels_and_determinism(tmp_path):
    generate_flow_dataset(tmp_path / "a", flows=1000, seed=2)
    generate_flow_dataset(tmp_path / "b", flows=1000, seed=2)
    folders = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert folders == ["test_01_port_scan", "test_02_ddos", "test_03_c2_beacon", "test_04_exfiltration",
                       "train_01_normal", "train_02_with_attacks"]
    for folder in folders:
        assert (tmp_path / "a" / folder / "conn.log").read_bytes() == (tmp_path / "b" / folder / "conn.log").read_bytes()
    normal, report = read_flows(tmp_path / "a" / "train_01_normal" / "conn.log")
    assert report.format == "zeek" and (len(normal), normal.attack_frames) == (1000, 0)
    mixed, _ = read_flows(tmp_path / "a" / "train_02_with_attacks" / "conn.log")
    assert mixed.attack_counts() == {"C&C": 120, "DDoS": 120, "Exfiltration": 120, "PartOfAHorizontalPortScan": 120}
    scan, _ = read_flows(tmp_path / "a" / "test_01_port_scan" / "conn.log")
    assert scan.failed[scan.label == 1].all()  # scans fail to connect


def test_unknown_attack_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown flow attacks"):
        generate_flow_dataset(tmp_path, flows=100, attacks=["ransomware"])
