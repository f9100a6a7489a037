"""The kdgat-data CLI as a new user runs it: synth -> inspect -> build, and clear errors."""

import subprocess
import sys

import pytest
from click.testing import CliRunner
from kdgat_data.cli import main


def test_synth_inspect_build(tmp_path):
    runner = CliRunner()
    out = tmp_path / "synthetic"
    result = runner.invoke(main, ["synth", str(out), "--frames", "3000", "--seed", "1", "--attacks", "dos,fuzzing"])
    assert result.exit_code == 0, result.output
    assert "train_01_attack_free/normal-1.csv" in result.output

    result = runner.invoke(main, ["inspect", str(out), "--window", "50", "--stride", "50"])
    assert result.exit_code == 0, result.output
    assert "test:dos" in result.output and "attacks dos=" in result.output and "total: 5 files" in result.output

    result = runner.invoke(main, ["build", str(out), "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert "built cache" in result.output and "test/fuzzing" in result.output and "UNK" in result.output
    result = runner.invoke(main, ["build", str(out), "--cache-dir", str(tmp_path / "cache")])
    assert "reused cache" in result.output
    result = runner.invoke(main, ["build", str(out), "--cache-dir", str(tmp_path / "cache"), "--features", "dynamics",
                                  "--train-stride", "25"])
    assert result.exit_code == 0, result.output
    assert "built cache" in result.output and "features can-v2" in result.output and "every 25" in result.output
    result = runner.invoke(main, ["build", str(out), "--cache-dir", str(tmp_path / "cache"), "--features", "nope"])
    assert result.exit_code != 0 and "dataset_config.features" in result.output


@pytest.mark.real_data
def test_inspect_and_build_real_captures(shared_can, tmp_path, monkeypatch):
    monkeypatch.delenv("KDGAT_PROJECT_ROOT", raising=False)  # read as a plain folder, not as another test project's entry
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["inspect", str(shared_can / "road")])
    assert result.exit_code == 0, result.output
    assert "fuzzing=352" in result.output and "masquerade=1265" in result.output
    result = runner.invoke(main, ["build", str(shared_can / "can-train-and-test-set01/DoS-1.csv"), "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "vocabulary 5" in result.output  # 52 IDs, 5x in the training head
    assert "train" in result.output and "val" in result.output


def test_bad_input_is_one_clear_line(tmp_path, write):
    path = write(tmp_path / "bad.csv", "timestamp,arbitration_id,data_field,attack\n1.0,QQQ,00,0\n")
    result = CliRunner().invoke(main, ["inspect", str(path)])
    assert result.exit_code == 1
    assert "bad.csv:2: arbitration_id" in result.output and "Traceback" not in result.output
    mixed = write(tmp_path / "mixed.csv", "timestamp,arbitration_id,data_field,attack\n1.0,100,00,0\n1.1,QQQ,00,0\n1.2,200,00,0\n")
    result = CliRunner().invoke(main, ["inspect", str(mixed), "--on-bad-row", "skip", "--window", "2", "--stride", "1"])
    assert result.exit_code == 0, result.output
    assert "1 bad rows skipped" in result.output and "total: 1 files, 2 frames, 1 windows" in result.output
    result = CliRunner().invoke(main, ["build", "no_such_dataset"])
    assert result.exit_code == 1 and "no_such_dataset" in result.output


def test_cli_start_up_imports_neither_torch_nor_polars():
    code = "import sys; from kdgat_data.cli import main; print('torch' in sys.modules, 'polars' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_inspect_counts_the_validation_windows_the_cache_builds(tiny_synthetic, tmp_path):
    import re

    from kdgat_data.cache import build_cache
    from kdgat_data.catalog import resolve_dataset

    runner = CliRunner()
    result = runner.invoke(main, ["inspect", str(tiny_synthetic), "--window", "50", "--stride", "50"])
    assert result.exit_code == 0, result.output
    normal, attack = map(int, re.search(r"validation: (\d+) normal and (\d+) attack windows", result.output).groups())
    val = build_cache(resolve_dataset(str(tiny_synthetic)), window=50, stride=50, cache_root=tmp_path).manifest.splits["val"]
    assert (normal, attack) == (val.normal_windows, val.attack_windows)
    assert attack < 30 and "warning: validation has" in result.output and "fewer than 30 attack" in result.output

    catalog = tmp_path / "configs" / "datasets.yaml"  # the whole DoS capture validates: attacks in validation
    catalog.parent.mkdir()
    catalog.write_text(f"datasets:\n  tiny:\n    path: {tiny_synthetic}\n"
                       f"    validation: [train_02_with_attacks/dos-1.csv]\n")
    result = runner.invoke(main, ["inspect", "tiny", "--catalog", str(catalog), "--window", "50", "--stride", "50",
                                  "--min-class-windows", "5"])
    assert result.exit_code == 0, result.output
    assert re.search(r"dos-1.csv\s+validation ", result.output)
    normal, attack = map(int, re.search(r"validation: (\d+) normal and (\d+) attack windows", result.output).groups())
    assert attack >= 5 and "warning" not in result.output


def test_inspect_names_records_and_entities_per_domain(tmp_path):
    from kdgat_data.domains.internet.synthetic_flows import generate_flow_dataset

    generate_flow_dataset(tmp_path / "office", flows=2000, seed=1)
    result = CliRunner().invoke(main, ["inspect", str(tmp_path / "office"), "--window", "50", "--stride", "50"])
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[1].split()
    assert "flows" in header and "hosts" in header and "frames" not in header and "IDs" not in header
    assert "(internet; W=50 flows" in result.output
