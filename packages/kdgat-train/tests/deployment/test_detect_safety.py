"""``kdgat-detect`` refuses what would score silently wrong: model files changed or swapped since export
(sha256 recorded at export), an AOTInductor export (native code) others can write, and the traffic of a
vehicle the model never saw; it reports the unknown-ID share, handles SIGTERM like Ctrl-C, and never
overwrites earlier alerts without --force."""

import json
import os
import shutil

import pytest
from click.testing import CliRunner
from kdgat_train.deployment.deployment_manifest import DeploymentManifest
from kdgat_train.deployment.detect_cli import main as detect
from kdgat_train.deployment.export_run import export_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exports(student_runs, tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    return {family: export_run(student_runs[family], "onnx", root / family, say=lambda message: None).folder
            for family in ("gat", "vgae")}


def _copy(export, tmp_path):
    return shutil.copytree(export, tmp_path / "export")


def _detect(arguments):
    return CliRunner().invoke(detect, [str(a) for a in arguments])


def test_an_export_records_the_digest_of_every_model_file(exports):
    manifest = DeploymentManifest.read(exports["gat"])
    files = sorted(p.name for p in exports["gat"].iterdir() if p.name != "detector.json")
    assert sorted(manifest.model_digests) == files and manifest.model_file in files
    assert all(len(digest) == 64 for digest in manifest.model_digests.values())


def test_a_model_file_changed_after_export_is_refused_before_it_scores(exports, dos_capture, tmp_path):
    export = _copy(exports["gat"], tmp_path)
    target = max((p for p in export.iterdir() if p.name != "detector.json"), key=lambda p: p.stat().st_size)
    data = bytearray(target.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4000] = bytes(min(4000, len(data) - middle))  # same size, 4,000 bytes zeroed
    target.write_bytes(bytes(data))
    alerts = tmp_path / "out" / "alerts.jsonl"
    result = _detect([export, "--input", dos_capture, "--alerts", alerts])
    assert result.exit_code == 1 and f"{target}: sha256" in result.output and "export the run again" in result.output
    assert not alerts.exists() and "Traceback" not in result.output


def test_another_runs_model_beside_the_manifest_is_refused(exports, dos_capture, tmp_path):
    export = _copy(exports["gat"], tmp_path)
    shutil.copy(exports["vgae"] / "model.onnx", export / "model.onnx")
    result = _detect([export, "--input", dos_capture, "--alerts", tmp_path / "alerts.jsonl"])
    assert result.exit_code == 1 and "model.onnx: sha256" in result.output


def test_an_aoti_export_others_can_write_is_refused_before_anything_loads(exports, dos_capture, tmp_path):
    export = _copy(exports["gat"], tmp_path)
    package = export / "model.pt2"
    package.write_bytes(b"PK\x03\x04 not a real package")  # what an attacker with write access could drop here
    manifest = DeploymentManifest.read(export)
    digests = {name: digest for name, digest in manifest.model_digests.items()}
    from kdgat_data.file_digests import sha256_file

    digests["model.pt2"] = sha256_file(package)  # ... with a matching digest: the digest alone cannot protect it
    manifest.model_copy(update={"format": "aoti", "model_file": "model.pt2", "model_digests": digests}).write(export)
    os.chmod(export, 0o777)
    result = _detect([export, "--input", dos_capture, "--alerts", tmp_path / "a.jsonl"])
    assert result.exit_code == 1 and "native code that runs when loaded" in result.output
    assert "writable by others" in result.output and "--trust-export" in result.output
    os.chmod(export, 0o755)
    os.chmod(package, 0o644)
    result = _detect([export, "--input", dos_capture, "--alerts", tmp_path / "b.jsonl"])
    assert "native code" not in result.output and result.exit_code == 1  # past the check: the load itself fails


def _shifted_capture(capture, tmp_path, offset=0x600):
    """The capture with every CAN ID moved by ``offset``: every frame carries an ID training never saw."""
    lines = capture.read_text().splitlines()
    rows = [lines[0]]
    for line in lines[1:]:
        timestamp, can_id, data, label = line.split(",")
        rows.append(f"{timestamp},{int(can_id, 16) + offset:03X},{data},{label}")
    shifted = tmp_path / "other-vehicle.csv"
    shifted.write_text("\n".join(rows) + "\n")
    return shifted


def test_a_vehicle_the_model_never_saw_is_refused_and_the_share_reported(exports, dos_capture, tmp_path):
    other = _shifted_capture(dos_capture, tmp_path)
    alerts = tmp_path / "alerts.jsonl"
    result = _detect([exports["gat"], "--input", other, "--alerts", alerts])
    assert result.exit_code == 1 and "100.0% of its frames carry CAN IDs the model never saw" in result.output
    assert "--max-unknown-share 1" in result.output and not alerts.exists()
    result = _detect([exports["gat"], "--input", other, "--alerts", alerts, "--max-unknown-share", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads(alerts.with_name("alerts.summary.json").read_text())
    assert summary["unknown_id_share"] == 1.0 and summary["training_ids_seen_share"] == 0.0
    assert summary["problems"] == 1 and "never saw in training" in summary["problem_messages"][0]
    assert "unknown CAN IDs: 100.0% of frames" in result.output


def test_the_vehicles_own_traffic_under_attack_is_scored(exports, dos_capture, tmp_path):
    alerts = tmp_path / "alerts.jsonl"
    result = _detect([exports["gat"], "--input", dos_capture, "--alerts", alerts])
    assert result.exit_code == 0, result.output
    summary = json.loads(alerts.with_name("alerts.summary.json").read_text())
    assert summary["training_ids_seen_share"] > 0.5 and summary["unknown_id_share"] < 0.5


def test_alerts_go_beside_the_run_and_are_never_overwritten_silently(exports, student_runs, dos_capture, tmp_path):
    result = _detect([exports["gat"], "--input", dos_capture])
    assert result.exit_code == 0, result.output
    written = sorted((student_runs["gat"] / "detect").glob("dos-2-*/alerts.jsonl"))
    assert written and f"-> {written[-1]}" in result.output
    alerts = tmp_path / "alerts.jsonl"
    assert _detect([exports["gat"], "--input", dos_capture, "--alerts", alerts]).exit_code == 0
    again = _detect([exports["gat"], "--input", dos_capture, "--alerts", alerts])
    assert again.exit_code == 1 and f"{alerts} exists: pass --force" in again.output
    assert _detect([exports["gat"], "--input", dos_capture, "--alerts", alerts, "--force"]).exit_code == 0


def test_a_vector_log_is_read_as_one_whatever_the_runs_csv_format(exports, tmp_path):
    """The synthetic run reads can-train-and-test CSVs; a .blf given to kdgat-detect goes to python-can
    (before: parsed as CSV, 'not a well-formed CSV')."""
    garbage = tmp_path / "drive.blf"
    garbage.write_bytes(bytes(range(256)) * 12)
    result = _detect([exports["gat"], "--input", garbage, "--alerts", tmp_path / "a.jsonl"])
    assert result.exit_code == 1 and f"{garbage}: python-can could not parse the log" in result.output
