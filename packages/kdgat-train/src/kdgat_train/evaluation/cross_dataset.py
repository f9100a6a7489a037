"""Cross-dataset evaluation: a COMPLETED run scored on another catalog dataset's test scenarios.

The run keeps everything it learned on its own dataset: the network weights (or the baseline fitted
again on its own training windows, with its seed), the vocabulary and normalisation of its own
training split (entities it never saw become UNK, index 0) and the threshold it chose on its own
validation split. Nothing of the other dataset is fitted and none of its labels choose anything:
they are read only to report. Written under ``RUN_DIR/cross/<dataset>/`` (``metrics.json`` with the
UNK share per scenario, ``scores.parquet``, ``evaluation.png``) and logged to the run's MLflow run as
``cross/<dataset>/<scenario>/<metric>`` with the files under ``cross/<dataset>/``.

A fusion (DQN) run is scored as its DQN policy over its own VGAE and GAT runs; its MLP and
fixed-alpha comparators are not re-run here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from kdgat_data.cache import build_cache
from kdgat_data.catalog import resolve_dataset
from kdgat_schemas import ExperimentName, RunFolder, RunFolderError, RunPaths, RunRecord

from kdgat_train import tracking
from kdgat_train.baselines.baseline_detectors import BaselineDetector
from kdgat_train.baselines.baseline_settings import BaselineSettings
from kdgat_train.checkpoint_state import CheckpointError, load_checkpoint_state
from kdgat_train.evaluation.stage_evaluation import report, write_report
from kdgat_train.evaluation.threshold_rule import ChosenThreshold
from kdgat_train.families import family_of
from kdgat_train.stages.upstream_runs import frozen_run, frozen_upstream, settings_of_run
from kdgat_train.tracking_service import tracking_call
from kdgat_train.window_data_module import open_cache

CROSS_FOLDER = RunFolder.CROSS


class CrossEvaluationError(ValueError):
    """A run that cannot be scored on the dataset asked for (named, with the reason)."""


@dataclass(frozen=True)
class CrossEvaluation:
    """Where the results went and what they are: ``results[scenario]`` is the metrics of that test
    scenario (with ``unk_share``)."""

    run_dir: Path
    dataset: str
    folder: Path
    results: dict[str, dict[str, float]]
    mlflow: str


def unk_share(arrays) -> float:
    """Share of the nodes of a split whose entity index is UNK (0): entities the training split never had.

    Shapes: ``arrays.node_id`` is (N,) over all N nodes of the split.
    """
    node_id = np.asarray(arrays.node_id)
    return float((node_id == 0).mean()) if len(node_id) else float("nan")


def _settings(run_dir: Path):
    config = RunFolder(run_dir).read_config()
    name = ExperimentName.parse(config["experiment_name"])
    if name.is_pipeline:
        raise CrossEvaluationError(f"{run_dir} is a pipeline run: evaluate its stage runs (listed in its pipeline.json)")
    if name.is_baseline:
        return BaselineSettings.model_validate(config)
    return settings_of_run(config, run_dir)


def _scenarios(cache, wanted: list[str] | None, dataset: str) -> list[str]:
    available = cache.test_scenarios
    unknown = [s for s in wanted or [] if s not in available]
    if unknown:
        raise CrossEvaluationError(f"--scenario {', '.join(unknown)}: {dataset} has the test scenarios {', '.join(available)}")
    return list(wanted) if wanted else available


def _scores(settings, run_dir: Path, source, cross, splits: list[str]) -> dict[str, np.ndarray]:
    """One attack score per window of each split of ``cross`` (the other dataset, fitted on ``source``)."""
    name = settings.name
    if name.is_baseline:
        train_stats, names = source.window_statistics("train")
        cross_names = cross.window_statistics(splits[0])[1]
        if tuple(cross_names) != tuple(names):
            raise CrossEvaluationError(f"{run_dir}: the window statistics of {cross.manifest.dataset} differ from its own")
        detector = BaselineDetector(method=settings.method, names=names, seed=settings.training_config.seed)
        detector.fit(np.asarray(train_stats), np.asarray(source.split("train").y).astype(int))
        return {split: detector.score(np.asarray(cross.window_statistics(split)[0])) for split in splits}
    family = family_of(name)
    own = frozen_run(run_dir, source, network=family.reads_window_graphs)
    return family.cross_scores(settings, source, cross, splits, own=own, upstream=frozen_upstream(settings, source))


def _check_weights(settings, folder: RunFolder, record: RunRecord) -> None:
    """The checkpoints the run's scores come from load safely (its own, and a fusion's VGAE and GAT runs'):
    a damaged or crafted one is one `CrossEvaluationError`, before any cache is built."""
    if settings.name.is_baseline:
        return
    checkpoints = [folder.evaluated_checkpoint()]
    if not family_of(settings.name).reads_window_graphs:  # a fusion scores through the runs it fused
        checkpoints += [RunFolder(run).best_checkpoint for run in record.upstream_runs.values()]
    try:
        for checkpoint in checkpoints:
            load_checkpoint_state(checkpoint)
    except CheckpointError as error:
        raise CrossEvaluationError(f"{error}; {folder.path} is not scored on another dataset") from None


def evaluate_on_dataset(run_dir: Path, dataset: str, scenarios: list[str] | None = None, say=print) -> CrossEvaluation:
    """Score the COMPLETED run ``run_dir`` on the test scenarios of catalog dataset ``dataset``."""
    run_dir = Path(run_dir).resolve()
    folder = RunFolder(run_dir)
    try:
        record = folder.read_record()
        if record.status != "COMPLETED":
            raise CrossEvaluationError(f"{run_dir} is {record.status}: only a COMPLETED run is scored on another dataset")
        settings = _settings(run_dir)
        threshold = ChosenThreshold(**folder.threshold_rule())
    except RunFolderError as error:
        raise CrossEvaluationError(f"{error}: the run is not scored on another dataset") from None
    _check_weights(settings, folder, record)  # before any cache is opened or built
    source = open_cache(settings.dataset_config, settings.evaluation.min_class_windows)
    target = resolve_dataset(dataset)
    try:
        cross = build_cache(target, window=source.manifest.window, stride=source.manifest.stride,
                            validation_fraction=source.manifest.validation_fraction, fitted_from=source,
                            progress=lambda message: say(f"  cache: {message}"))
    except ValueError as error:
        raise CrossEvaluationError(f"{run_dir} on {dataset}: {error}") from None
    splits = [f"test/{s}" for s in _scenarios(cross, scenarios, dataset)]
    scores = _scores(settings, run_dir, source, cross, splits)
    labels = {split: np.asarray(cross.split(split).y).astype(int) for split in splits}
    results = report(scores, labels, threshold.value, cross)
    vocabulary = bool(source.manifest.vocabulary)
    for split in results:
        results[split]["unk_share"] = unk_share(cross.split(split)) if vocabulary else float("nan")
    folder = RunFolder(run_dir).cross_folder(dataset)
    folder.mkdir(parents=True, exist_ok=True)
    files = write_report(results, scores, labels, folder, threshold, cross)
    document = RunFolder(folder).read_metrics()
    document["cross_dataset"] = {"run": str(run_dir), "trained_on": settings.dataset_config.name, "scored_on": dataset,
                                 "cache": str(cross.path), "vocabulary": len(source.manifest.vocabulary),
                                 "threshold": "the run's own, chosen on its own validation split"}
    RunFolder(folder).write_metrics(document)
    flat = {f"{CROSS_FOLDER}/{dataset}/{split.removeprefix('test/')}/{key}": value
            for split, metrics in results.items() for key, value in metrics.items() if np.isfinite(value)}
    return CrossEvaluation(run_dir, dataset, folder, {s.removeprefix("test/"): m for s, m in results.items()},
                           _log(run_dir, record, flat, files, dataset))


def _log(run_dir: Path, record: RunRecord, metrics: dict[str, float], files: list[Path], dataset: str) -> str:
    """Metrics and files onto the run's MLflow run; a line saying where (the files stand either way)."""
    root = next((folder for folder in run_dir.parents if (folder / "mlflow.db").is_file()), None)
    if record.mlflow_run_id is None or root is None:
        return f"not logged to MLflow: {run_dir} has no MLflow run (tracking off or offline)"
    try:
        uri = RunPaths(root).mlflow_uri
        tracking_call(tracking.log_metrics, uri, record.mlflow_run_id, metrics)
        tracking_call(tracking.log_artifacts, uri, record.mlflow_run_id, files, f"{CROSS_FOLDER}/{dataset}")
    except Exception as error:  # the results are written; tracking is the extra copy
        return f"not logged to MLflow ({type(error).__name__}: {error}); the files stand"
    return f"logged to MLflow run {record.mlflow_run_id} as {CROSS_FOLDER}/{dataset}/..."
