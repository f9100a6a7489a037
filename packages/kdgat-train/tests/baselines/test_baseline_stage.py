"""Baselines run as stages on the graph models' windows, thresholds and evaluation, and detect something."""

import json

import numpy as np
import pytest
from kdgat_schemas import RunRecord
from kdgat_train.baselines.baseline_detectors import BaselineDetector, BaselineNotApplicable
from kdgat_train.baselines.baseline_stage import run_baseline
from kdgat_train.pipeline.dag import baseline_settings
from kdgat_train.task import settings_from


def _pipeline(project, overrides=(), store="automotive_synthetic_pipeline"):
    from hydra import compose, initialize
    from kdgat_train.config.store import PRIMARY, register

    register(project)
    with initialize(version_base="1.3", config_path=None):
        config = compose(config_name=PRIMARY, overrides=[f"config_store={store}", "device=cpu",
                                                          *overrides])
    return settings_from(config)


@pytest.fixture(scope="module")
def runs_root(tmp_path_factory):
    return tmp_path_factory.mktemp("baseline_runs")  # one MLflow database for every baseline run here


@pytest.mark.parametrize("method", ["timing", "gbdt", "iforest", "pca"])
def test_a_baseline_stage_records_a_run_like_every_stage(project, runs_root, method):
    pipeline = _pipeline(project, [f"runs_root={runs_root}", "evaluation.min_class_windows=2"])
    run_dir = run_baseline(baseline_settings(pipeline, method))
    assert run_dir.parent.as_posix().endswith(f"automotive/synthetic/baseline/{method}")
    record = RunRecord.read(run_dir)
    assert record.status == "COMPLETED" and record.tags["baseline"] == method and record.tags["threshold_rule"]
    assert record.metrics["model/parameters"] > 0 and record.metrics["model/inference_windows_per_s"] > 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert {"val", "test/dos", "test/fuzzing"} <= set(metrics) and (run_dir / "scores.parquet").is_file()
    if method == "timing":  # a DoS flood breaks every ID's period: the timing rule ranks it first
        assert metrics["test/dos"]["auroc"] > 0.9
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{runs_root / 'mlflow.db'}")
    run = client.get_run(record.mlflow_run_id)
    assert run.info.run_name == f"{method}_run{run_dir.name[4:]}"  # told apart in MLflow's run list
    experiment = client.get_experiment(run.info.experiment_id)  # opens on its runs, not MLflow 3's GenAI page
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"


def test_baselines_are_not_constant_and_unsupervised_ones_never_see_attacks():
    rng = np.random.default_rng(0)
    normal = rng.normal(0, 1, (300, 4))
    attack = rng.normal(3, 1, (60, 4))
    stats = np.concatenate([normal, attack]).astype(np.float32)
    labels = np.array([0] * 300 + [1] * 60)
    names = ("a", "b", "c", "d")
    for method in ("gbdt", "iforest", "pca"):
        detector = BaselineDetector(method=method, names=names, seed=1).fit(stats, labels)
        scores = detector.score(stats)
        assert scores[labels == 1].mean() > scores[labels == 0].mean(), method  # it separates the classes
    # the unsupervised fits ignore attack windows: fitting on normals only gives the same model
    fitted = BaselineDetector(method="pca", names=names).fit(stats, labels).score(stats)
    normals_only = BaselineDetector(method="pca", names=names).fit(normal.astype(np.float32), np.zeros(300)).score(stats)
    np.testing.assert_allclose(fitted, normals_only)
    # plant windows far outside training (BATADAL): float32 statistics whose squares overflow float32
    far = np.concatenate([normal, normal[:5] * 1e20]).astype(np.float32)
    far_scores = BaselineDetector(method="pca", names=names).fit(normal.astype(np.float32), np.zeros(300)).score(far)
    assert np.isfinite(far_scores).all() and far_scores[-5:].min() > far_scores[:-5].max()
    with pytest.raises(BaselineNotApplicable, match="attack and normal"):
        BaselineDetector(method="gbdt", names=names).fit(normal.astype(np.float32), np.zeros(300))
    with pytest.raises(BaselineNotApplicable, match="CAN frames"):
        BaselineDetector(method="timing", names=names).fit(stats, labels)


def test_the_timing_baseline_counts_frames_of_ids_training_never_saw():
    """Fuzzing sends random IDs: their frames have no training period, so the inter-arrival z-score alone gives
    them no weight. Each frame of an unknown ID weighs as much as a z-score at the normal 99th percentile."""
    rng = np.random.default_rng(1)
    names = ("frames", "unseen_share", "id_gap_z_max_abs")
    normal = np.column_stack([np.full(200, 100.0), np.zeros(200), rng.gamma(2.0, 1.0, 200)])
    fuzzing = np.column_stack([np.full(20, 100.0), rng.uniform(0.05, 0.3, 20), rng.gamma(2.0, 1.0, 20)])
    stats, labels = np.concatenate([normal, fuzzing]).astype(np.float32), np.array([0] * 200 + [1] * 20)
    detector = BaselineDetector(method="timing", names=names).fit(stats, labels)
    scores = detector.score(stats)
    assert scores[labels == 1].min() > scores[labels == 0].max()  # every fuzzing window above every normal one
    timing_only = stats[:, 2]
    assert timing_only[labels == 1].min() < timing_only[labels == 0].max()  # which the z-score alone cannot do
    scale = np.quantile(normal[:, 2], 0.99)
    np.testing.assert_allclose(scores[:200], normal[:, 2] / scale, rtol=1e-5)  # normal windows: the scaled z-score


def test_the_plant_pca_baseline_scores_the_residual_of_the_z_scored_readings(project, runs_root):
    """On plant data pca is the residual of the readings (rows) against the normal training axes
    fitted with the cache, not a PCA of window statistics: its scores are that statistic."""
    import polars as pl
    from kdgat_train.window_data_module import open_cache

    pipeline = _pipeline(project, [f"runs_root={runs_root}", "evaluation.min_class_windows=2"],
                         store="watertreatment_synthetic_pipeline")
    settings = baseline_settings(pipeline, "pca")
    run_dir = run_baseline(settings)
    cache = open_cache(settings.dataset_config)
    stats, names = cache.window_statistics("val")
    state = cache.fitted_state()
    record = RunRecord.read(run_dir)
    assert record.metrics["model/parameters"] == np.size(state["reading_components"]) + 2 * len(state["sensors"])
    scores = pl.read_parquet(run_dir / "scores.parquet").filter(pl.col("split") == "val").sort("window")["score"]
    np.testing.assert_allclose(scores.to_numpy(), stats[:, names.index("reading_pca_residual_mean")], rtol=1e-6)
