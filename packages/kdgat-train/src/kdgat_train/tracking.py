"""MLflow on SQLite (DESIGN.md §6): database and experiment created under a lock, then one run per job.

Concurrent jobs on a fresh tree would race to create ``mlflow.db`` and its tables (the published
system's failure 9); an exclusive file lock around creation makes them take turns, and the database
itself is built whole beside and renamed in (`tracking_database`). Every call retries, bounded and
logged, while another process holds SQLite's write lock.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from types import SimpleNamespace

from kdgat_schemas import ExperimentName, RunPaths

from kdgat_train.tracking_database import ensure_database, with_retry


@functools.cache
def mlflow_api() -> SimpleNamespace:
    """MLflow's client and entity classes, imported on the first call (and kept): this module is imported by the
    trainer, which leaves MLflow to the tracking helper (`kdgat_train.tracking_service`)."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    return SimpleNamespace(MlflowClient=MlflowClient, Metric=Metric, Param=Param, RunTag=RunTag)


@contextmanager
def _locked(root: Path):
    """The tracking lock of a run tree, with its database complete (built or repaired) inside it."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".mlflow.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            ensure_database(RunPaths(root).root / "mlflow.db")
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# MLflow 3 opens an experiment on its GenAI (traces) page unless the experiment says it holds model training
EXPERIMENT_KIND_TAG, EXPERIMENT_KIND = "mlflow.experimentKind", "custom_model_development"


def _experiment_id(client, paths: RunPaths, experiment_name: str) -> str:
    experiment = with_retry(lambda: client.get_experiment_by_name(experiment_name), "look up an experiment")
    if experiment is not None:
        if experiment.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:  # made before the kind was set
            with_retry(lambda: client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND),
                       "mark the experiment as model training")
        return experiment.experiment_id
    location = paths.artifacts_dir.resolve().as_uri()
    return with_retry(lambda: client.create_experiment(experiment_name, artifact_location=location,
                                                       tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND}),
                      "create an experiment")


def ensure_experiments(paths: RunPaths, experiment_names: list[str]) -> None:
    """Create the database and these experiments if missing (before parallel jobs start)."""
    with _locked(paths.root):
        client = mlflow_api().MlflowClient(paths.mlflow_uri)
        for experiment_name in experiment_names:
            _experiment_id(client, paths, experiment_name)


def prepare_experiment(paths: RunPaths, experiment_name: str) -> None:
    """`ensure_experiments` ahead of the run: the tracking helper calls it while the trainer still imports
    torch, so the database check (MLflow's schema head, about 1 s) and the experiment are done by the time
    the run starts. A failure is left to the run's own `start_mlflow_run`, which does the same work and
    reports it."""
    with suppress(Exception):  # reported by start_mlflow_run, which repeats this
        ensure_experiments(paths, [experiment_name])


# where a run lives or how it started, not what it computes: left out of the seed group
NOT_IN_GROUP = ("training_config.seed", "run_dir", "resume", "runs_root", "tracking")


def seed_group(params: dict) -> str:
    """An id shared by runs whose configs differ only in the seed (MLflow's group-by then shows the
    spread over seeds): a hash of the flat config without the seed and the run's location."""
    kept = sorted((key, str(value)) for key, value in params.items() if key not in NOT_IN_GROUP)
    return hashlib.sha256(repr(kept).encode()).hexdigest()[:12]


def run_tags(name: ExperimentName, params: dict, seed: int | None) -> dict[str, str]:
    """The tags of a run at creation: every name token, ``variant``, ``seed`` and ``seed_group``."""
    tags = {"domain": name.domain, "dataset": name.dataset, "learning": name.learning, "model": name.model,
            "size": name.size, "distillation": name.distillation, "mode": name.mode, "config_store": name.format()}
    tags |= {"variant": name.variant, "seed_group": seed_group(params), "seed": None if seed is None else str(seed)}
    return {key: value for key, value in tags.items() if value is not None}  # a pipeline has no stage tokens


def start_mlflow_run(paths: RunPaths, name: ExperimentName, run_name: str, params: dict,
                     seed: int | None = None) -> tuple[str, str]:
    """Create (if needed) the database and experiment, start a run; returns ``(tracking_uri, run_id)``.
    Tags: every name token, ``variant``, ``seed`` and ``seed_group`` (`seed_group`)."""
    uri = paths.mlflow_uri
    with _locked(paths.root):
        client = mlflow_api().MlflowClient(uri)
        experiment_id = _experiment_id(client, paths, name.experiment)
        tags = run_tags(name, params, seed)
        run = with_retry(lambda: client.create_run(experiment_id, run_name=run_name, tags=tags), "create a run")
    with_retry(lambda: client.log_batch(run.info.run_id, params=_params(params)), "log the parameters")
    return uri, run.info.run_id


def _params(flat: dict):

    return [mlflow_api().Param(key, "None" if value is None else str(value)[:6000]) for key, value in sorted(flat.items())]


def finish_mlflow_run(uri: str, run_id: str, status: str, artifacts: list[Path] = ()) -> None:
    """Log artifacts and mark the run FINISHED, FAILED or KILLED."""
    client = mlflow_api().MlflowClient(uri)
    for path in artifacts:
        if Path(path).exists():
            client.log_artifact(run_id, str(path))
    with_retry(lambda: client.set_terminated(run_id, status=status), "mark the run finished")


def log_artifacts(uri: str, run_id: str, paths: list[Path], artifact_path: str | None = None) -> None:
    """Attach files to an existing run (finished or not), under ``artifact_path`` when given."""
    client = mlflow_api().MlflowClient(uri)
    for path in paths:
        with_retry(lambda path=path: client.log_artifact(run_id, str(path), artifact_path), "log an artifact")


def log_metrics(uri: str, run_id: str, metrics: dict[str, float], step: int = 0, timestamp_ms: int | None = None) -> None:
    """Log metrics at ``step``: the final (non-epoch) ones such as the per-scenario test results (after
    the last training step, so MLflow shows them as the latest value of a metric logged per epoch too),
    or one epoch's. ``timestamp_ms``: when they were measured (default: now)."""
    stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    entries = [mlflow_api().Metric(key, float(value), stamp, step) for key, value in sorted(metrics.items())]
    client = mlflow_api().MlflowClient(uri)
    for start in range(0, len(entries), 500):
        batch = entries[start : start + 500]
        with_retry(lambda batch=batch: client.log_batch(run_id, metrics=batch), "log metrics")


def set_tags(uri: str, run_id: str, tags: dict[str, str]) -> None:
    """Set MLflow tags of a run (how its results were obtained, such as the threshold rule)."""
    if tags:
        entries = [mlflow_api().RunTag(key, str(value)[:5000]) for key, value in sorted(tags.items())]
        with_retry(lambda: mlflow_api().MlflowClient(uri).log_batch(run_id, tags=entries), "set tags")


def reopen_mlflow_run(uri: str, run_id: str) -> None:
    """Mark an existing run RUNNING again (a requeued or resumed job continues the same MLflow run)."""
    with_retry(lambda: mlflow_api().MlflowClient(uri).update_run(run_id, status="RUNNING"), "reopen the run")
