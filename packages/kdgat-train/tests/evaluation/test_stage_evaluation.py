"""Stage evaluation: thresholds from validation only, scores.parquet that recomputes metrics.json,
the rule recorded in metrics.json, run.json and MLflow."""

import json
import shutil

import numpy as np
import polars as pl
import pytest
from kdgat_data.cache import GraphCache
from kdgat_train.evaluation.metrics import binary_metrics
from kdgat_train.evaluation.stage_evaluation import evaluate_stage
from kdgat_train.families import family_of
from kdgat_train.stages.single_stage import build_stage

GAT = "automotive_synthetic_supervised_gat_student_no_all_samples"


@pytest.fixture(scope="module")
def untrained(project, tmp_path_factory):
    """An untrained (random, but deterministic) GAT and its cache: evaluation needs no training."""
    from ..test_config import _compose, settings_from

    settings = settings_from(_compose(project, [f"config_store={GAT}", "device=cpu"]))
    stage = build_stage(settings, tmp_path_factory.mktemp("stage"))
    return settings, stage.module, stage.datamodule.prepare()


def test_test_labels_are_never_read_to_choose_the_threshold(untrained, tmp_path):
    settings, module, cache = untrained
    first = evaluate_stage(module, cache, family_of("gat"), tmp_path, settings.evaluation)
    flipped_root = tmp_path / "flipped"
    shutil.copytree(cache.path, flipped_root)
    for scenario in cache.test_scenarios:  # every test label inverted; validation and training untouched
        y = np.load(flipped_root / "test" / scenario / "y.npy")
        np.save(flipped_root / "test" / scenario / "y.npy", 1 - y)
    (tmp_path / "run2").mkdir()
    flipped = evaluate_stage(module, GraphCache.open(flipped_root), family_of("gat"), tmp_path / "run2", settings.evaluation)
    assert flipped.results["val"]["threshold"] == first.results["val"]["threshold"]
    scenario = f"test/{cache.test_scenarios[0]}"
    assert flipped.results[scenario]["threshold"] == first.results["val"]["threshold"]
    assert flipped.results[scenario]["attack_windows"] == first.results[scenario]["normal_windows"]  # the labels did change


def test_scores_parquet_recomputes_metrics_json_exactly(untrained, tmp_path):
    settings, module, cache = untrained
    evaluate_stage(module, cache, family_of("gat"), tmp_path, settings.evaluation)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    scores = pl.read_parquet(tmp_path / "scores.parquet")
    assert set(scores["split"].unique()) == set(metrics) - {"threshold_rule"}
    assert {"source", "window", "first_record", "last_record", "start_time", "end_time", "attack_type",
            "threshold", "prediction"} <= set(scores.columns)
    for split, expected in metrics.items():
        if split == "threshold_rule":
            continue
        rows = scores.filter(pl.col("split") == split).sort("window")
        recomputed = binary_metrics(rows["score"].to_numpy(), rows["label"].to_numpy(), rows["threshold"][0])
        for key, value in recomputed.items():
            assert value == pytest.approx(expected[key], nan_ok=True, abs=0, rel=0), (split, key)
        assert (rows["prediction"].to_numpy() == (rows["score"].to_numpy() > rows["threshold"][0])).all()
        assert len(rows) == len(cache.split(split))
    assert metrics["threshold_rule"]["configured"] == settings.evaluation.threshold


def test_the_evaluation_fields_land(untrained, tmp_path):
    """evaluation.threshold and evaluation.min_class_windows reach the threshold (the field walk's share)."""
    settings, module, cache = untrained
    fixed = settings.evaluation.model_copy(update={"threshold": "fixed:0.37"})
    assert evaluate_stage(module, cache, family_of("gat"), tmp_path, fixed).results["val"]["threshold"] == 0.37
    strict = settings.evaluation.model_copy(update={"min_class_windows": 10**6})
    evaluation = evaluate_stage(module, cache, family_of("gat"), tmp_path, strict)
    assert evaluation.tags["threshold_rule"] == "fpr:0.01" and "minimum 1000000" in evaluation.tags["threshold_fallback"]
    assert json.loads((tmp_path / "metrics.json").read_text())["threshold_rule"]["fallback"]


def test_a_trained_run_records_its_rule_and_event_metrics(project, tmp_path):
    from kdgat_schemas import RunRecord
    from kdgat_train.api import train
    from mlflow.tracking import MlflowClient

    [run_dir] = train([f"config_store={GAT}", "training_config.epochs=1", "training_config.batch_size=64", "device=cpu",
                       "evaluation.threshold=youden", f"runs_root={tmp_path}"], project_root=project)
    record = RunRecord.read(run_dir)
    assert record.tags["threshold_rule"] in ("youden", "fpr:0.01") and record.tags["threshold_configured"] == "youden"
    tags = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").get_run(record.mlflow_run_id).data.tags
    assert tags["threshold_rule"] == record.tags["threshold_rule"]
    assert record.metrics["test/dos/events"] > 0 and "test/dos/events_detected" in record.metrics
    assert "scores.parquet" in {a.path for a in MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").list_artifacts(record.mlflow_run_id)}
