"""`kdgat-models export RUN_DIR`: a self-contained export whose scores equal eager PyTorch's on the run's
validation windows, with the run's threshold and domain fit beside it; refusals leave nothing."""

import json

import numpy as np
import polars as pl
import pytest
import yaml
from kdgat_models.cli import main as kdgat_models_cli
from kdgat_models.scorer_export import load_scorer
from kdgat_train.config.run_settings import RunSettings
from kdgat_train.deployment.deployment_manifest import DeploymentManifest
from kdgat_train.deployment.export_run import batched_scores, export_run
from kdgat_train.deployment.run_scorer import DeploymentError
from kdgat_train.window_data_module import open_cache

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("family", "export_format"), [("gat", "onnx"), ("vgae", "torchscript"), ("dqn", "onnx"), ("dqn", "aoti")])
def test_an_export_reproduces_the_runs_validation_scores_and_predictions(student_runs, tmp_path, family, export_format):
    run_dir = student_runs[family]
    done = export_run(run_dir, export_format, tmp_path / "export", say=lambda message: None)
    manifest = DeploymentManifest.read(done.folder)
    saved = json.loads((run_dir / "metrics.json").read_text())["threshold_rule"]
    assert manifest.family == family and manifest.threshold == saved["value"] and manifest.window == 50
    assert manifest.vocabulary and manifest.reader_options is not None and manifest.parity_windows > 10
    # independent of the export's own check: the file alone against the run's scores.parquet
    settings = RunSettings.model_validate({**yaml.safe_load((run_dir / "config.yaml").read_text()), "resume": None})
    validation = open_cache(settings.dataset_config).split("val")
    exported = batched_scores(load_scorer(done.folder / manifest.model_file), validation, batch_size=97)
    frame = pl.read_parquet(run_dir / "scores.parquet").filter(pl.col("split") == "val").sort("window")
    saved = frame["score"].to_numpy()
    off = np.abs(exported - saved) > manifest.parity_tolerance
    # a fused score jumps where two actions' Q-values tie within rounding (export_run.windows_off): 1 % allowed
    assert off.sum() <= (max(1, len(saved) // 100) if family == "dqn" else 0), np.abs(exported - saved).max()
    assert ((exported > manifest.threshold) == (frame["prediction"].to_numpy() == 1))[~off].all()
    assert not list(tmp_path.glob(".export.tmp-*"))


def test_the_command_line_exports_next_to_the_run(student_runs, capsys):
    run_dir = student_runs["gat"]
    kdgat_models_cli(["export", str(run_dir), "--format", "torchscript"])  # through the kdgat_models.exporters entry point
    assert "parity on" in capsys.readouterr().out and (run_dir / "export" / "torchscript" / "model.pt").is_file()
    assert (run_dir / "export" / "torchscript" / "detector.json").is_file()


def test_a_run_whose_scores_no_longer_match_is_refused_and_nothing_is_written(student_runs, tmp_path):
    run_dir = student_runs["vgae"]
    original = (run_dir / "scores.parquet").read_bytes()
    frame = pl.read_parquet(run_dir / "scores.parquet")
    try:
        frame.with_columns(pl.col("score") + 0.01).write_parquet(run_dir / "scores.parquet")
        with pytest.raises(DeploymentError, match="does not reproduce the run's own validation scores"):
            export_run(run_dir, "onnx", tmp_path / "export", say=lambda message: None)
    finally:
        (run_dir / "scores.parquet").write_bytes(original)
    assert list(tmp_path.iterdir()) == []


def test_what_cannot_be_exported_is_refused_with_the_reason(student_runs, tmp_path):
    with pytest.raises(DeploymentError, match="--format must be one of"):
        export_run(student_runs["gat"], "tflite")
    with pytest.raises(DeploymentError, match="no run.json"):
        export_run(tmp_path, "onnx")


def test_a_fusion_run_keeps_fusing_the_runs_it_was_trained_on_when_newer_ones_exist(student_runs, project, tmp_path):
    from kdgat_schemas import RunRecord
    from kdgat_train.api import train

    from ..conftest import FAST, WINDOWS

    fusion = student_runs["dqn"]
    recorded = RunRecord.read(fusion).upstream_runs
    assert recorded == {"training_config.fusion.vgae_run": str(student_runs["vgae"]),
                        "training_config.fusion.gat_run": str(student_runs["gat"])}
    runs_root = student_runs["vgae"].parents[7]
    [newer] = train(["config_store=automotive_synthetic_unsupervised_vgae_student_no_all_samples", *FAST, *WINDOWS,
                     "training_config.seed=7", f"runs_root={runs_root}"], project_root=project)
    assert newer != student_runs["vgae"]  # now the latest completed VGAE student
    done = export_run(fusion, "torchscript", tmp_path / "export", say=lambda message: None)
    assert done.manifest.parity_max_abs_difference == 0.0  # and the rebuilt fusion reproduced scores.parquet


def test_a_window_on_the_threshold_is_counted_not_compared():
    """A best-F1 threshold is a validation score: the window holding it flips on a 1e-8 rounding (a teacher
    export with largest difference 8.9e-08 was refused for it). Such windows are counted and reported."""
    from kdgat_train.deployment.export_run import windows_on_threshold

    eager = np.array([0.5, 0.2, 0.9, 0.50009, 0.1])
    assert windows_on_threshold(eager, threshold=0.5, tolerance=1e-4) == 2
    assert windows_on_threshold(eager, threshold=0.15, tolerance=1e-4) == 0
