"""A new model family is one module plus one registry line: the toy graph-less MLP of
`toy_mlp_family` trains as a stage, is evaluated, distils from the GAT teacher, exports to ONNX and
runs under ``kdgat-detect`` with no other file naming it. Run in a subprocess, so the registration
stays out of this test session's registry and Hydra store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kdgat_schemas import RunRecord

pytestmark = pytest.mark.slow

DRIVER = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
import toy_mlp_family  # noqa: F401 (registers the family: its last line)
from click.testing import CliRunner
from kdgat_train.api import train
from kdgat_train.deployment.detect_cli import main as detect
from kdgat_train.deployment.export_run import export_run

project, runs = Path(sys.argv[1]), Path(sys.argv[2])
common = ["training_config.epochs=2", "training_config.batch_size=64", "device=cpu", "dataset_config.window=50",
          "dataset_config.stride=25", f"runs_root={runs}"]
[teacher] = train(["config_store=automotive_synthetic_supervised_gat_teacher_no_all_samples", *common,
                   "model_size_config.hidden_dim=16", "model_size_config.num_layers=2", "model_size_config.heads=2"],
                  project_root=project)
[student] = train(["config_store=automotive_synthetic_supervised_nodemlp_student_standard_all_samples", *common],
                  project_root=project)
exported = export_run(student, "onnx", runs / "export", say=print)
[capture] = sorted((project / "data" / "automotive" / "synthetic").glob("test_*dos*/*.csv"))
result = CliRunner().invoke(detect, [str(exported.folder), "--input", str(capture), "--alerts", str(runs / "alerts.jsonl"),
                                     "--no-status"])
assert result.exit_code == 0, result.output
print(json.dumps({"teacher": str(teacher), "student": str(student), "export": str(exported.folder)}))
"""


def test_a_family_in_one_module_trains_distils_exports_and_detects(project, tmp_path):
    runs = tmp_path / "runs"
    script = tmp_path / "drive.py"
    script.write_text(DRIVER)
    done = subprocess.run([sys.executable, str(script), str(project), str(runs), str(Path(__file__).parent)],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "KDGAT_PROJECT_ROOT": str(project)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    paths = {key: Path(value) for key, value in json.loads(done.stdout.strip().splitlines()[-1]).items()}

    student = RunRecord.read(paths["student"])
    assert student.status == "COMPLETED" and "/supervised/nodemlp/student/standard/" in str(paths["student"])
    assert student.upstream_runs["distillation_config.teacher_run"] == str(paths["teacher"])  # the GAT teacher
    assert "/supervised/gat/teacher/no/" in str(paths["teacher"])
    assert student.metrics["val/kd_loss"] > 0  # the KD term took part in training and model choice
    assert {"test/dos/f1", "test/fuzzing/auroc", "val/threshold"} <= set(student.metrics)

    manifest = json.loads((paths["export"] / "detector.json").read_text())
    assert manifest["family"] == "nodemlp" and manifest["parity_windows"] > 10
    summary = json.loads((runs / "alerts.summary.json").read_text())
    assert summary["family"] == "nodemlp" and summary["windows"] > 0
