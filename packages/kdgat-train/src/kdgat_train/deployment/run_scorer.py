"""A COMPLETED run's network as a `WindowScorer`, with the threshold it chose on validation.

The run's family builds its scorer (`ModelFamily.window_scorer`): GAT and VGAE runs are rebuilt from
their own config.yaml with their best weights loaded strictly; a DQN fusion run brings its VGAE and
GAT runs, its online Q-network and the VGAE scores of the normal training windows that normalise the
anomaly score, as in training. Baselines (scikit-learn) are not exported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kdgat_models.window_scorer import WindowScorer
from kdgat_schemas import ExperimentName, RunFolder, RunFolderError

from kdgat_train.evaluation.threshold_rule import ChosenThreshold
from kdgat_train.families import family_of
from kdgat_train.stages.upstream_runs import frozen_run, frozen_upstream, settings_of_run
from kdgat_train.window_data_module import open_cache


class DeploymentError(RuntimeError):
    """A run that cannot be deployed (named, with the reason)."""


@dataclass(frozen=True)
class RunScorer:
    """What deploying a run needs: its scorer, its threshold, its settings and its dataset's cache."""

    run_dir: Path
    settings: object  # RunSettings
    scorer: WindowScorer
    threshold: ChosenThreshold
    cache: object  # GraphCache


def _read_settings(run_dir: Path):
    try:
        config = RunFolder(run_dir).read_config()
    except RunFolderError as error:
        raise DeploymentError(str(error)) from None
    name = ExperimentName.parse(config["experiment_name"])
    if name.is_pipeline or name.is_baseline:
        kind = "a pipeline run: deploy one of its stage runs" if name.is_pipeline else "a baseline (scikit-learn): not exported"
        raise DeploymentError(f"{run_dir} is {kind}")
    return settings_of_run(config, run_dir)


def _threshold(run_dir: Path) -> ChosenThreshold:
    try:
        return ChosenThreshold(**RunFolder(run_dir).threshold_rule())
    except RunFolderError as error:
        raise DeploymentError(f"{error}: no validation threshold to deploy with") from None


def scorer_from_run(run_dir: Path) -> RunScorer:
    """The `RunScorer` of the COMPLETED GAT, VGAE or DQN fusion run ``run_dir``."""
    run_dir = Path(run_dir).resolve()
    try:
        record = RunFolder(run_dir).read_record()
    except RunFolderError as error:
        raise DeploymentError(str(error)) from None
    if record.status != "COMPLETED":
        raise DeploymentError(f"{run_dir} is {record.status}: only a COMPLETED run is deployed")
    settings = _read_settings(run_dir)
    threshold = _threshold(run_dir)
    cache = open_cache(settings.dataset_config, settings.evaluation.min_class_windows)
    family = family_of(settings.name)
    own = frozen_run(run_dir, cache, network=family.reads_window_graphs)
    scorer = family.window_scorer(settings, cache, own=own, upstream=frozen_upstream(settings, cache))
    return RunScorer(run_dir, settings, scorer, threshold, cache)

