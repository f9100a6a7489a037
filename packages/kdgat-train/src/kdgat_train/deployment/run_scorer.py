"""A COMPLETED run's network as a `WindowScorer`, with the threshold it chose on validation.

GAT and VGAE runs are rebuilt from their own config.yaml with their best weights loaded strictly
(`kdgat_train.stages.upstream_runs.load_frozen_network`); a DQN fusion run brings its VGAE and GAT
runs, its online Q-network and the VGAE scores of the normal training windows that normalise the
anomaly score, as in training. Baselines (scikit-learn) are not exported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from kdgat_models.window_scorer import FusionWindowScorer, GATWindowScorer, VGAEWindowScorer, WindowScorer
from kdgat_schemas import ExperimentName, RunRecord

from kdgat_train.evaluation.threshold_rule import ChosenThreshold


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

    config_file = run_dir / "config.yaml"
    if not config_file.is_file():
        raise DeploymentError(f"{run_dir}: no config.yaml (not a run folder)")
    config = yaml.safe_load(config_file.read_text())
    name = ExperimentName.parse(config["experiment_name"])
    if name.is_pipeline or name.is_baseline:
        kind = "a pipeline run: deploy one of its stage runs" if name.is_pipeline else "a baseline (scikit-learn): not exported"
        raise DeploymentError(f"{run_dir} is {kind}")
    from kdgat_train.stages.upstream_runs import settings_of_run

    return settings_of_run(config, run_dir)


def _threshold(run_dir: Path) -> ChosenThreshold:
    metrics = run_dir / "metrics.json"
    saved = json.loads(metrics.read_text()) if metrics.is_file() else {}
    if "threshold_rule" not in saved:
        raise DeploymentError(f"{metrics}: no threshold_rule, so no validation threshold to deploy with; retrain the run")
    return ChosenThreshold(**saved["threshold_rule"])


def scorer_from_run(run_dir: Path) -> RunScorer:
    """The `RunScorer` of the COMPLETED GAT, VGAE or DQN fusion run ``run_dir``."""
    from kdgat_train.stages.upstream_runs import load_frozen_network
    from kdgat_train.window_data_module import feature_dims, open_cache

    run_dir = Path(run_dir).resolve()
    if not (run_dir / "run.json").is_file():
        raise DeploymentError(f"{run_dir}: no run.json (not a run folder)")
    record = RunRecord.read(run_dir)
    if record.status != "COMPLETED":
        raise DeploymentError(f"{run_dir} is {record.status}: only a COMPLETED run is deployed")
    settings = _read_settings(run_dir)
    threshold = _threshold(run_dir)
    cache = open_cache(settings.dataset_config, settings.evaluation.min_class_windows)
    window = cache.manifest.window
    family = settings.name.model
    if family == "dqn":
        scorer = _fusion_scorer(run_dir, settings, window)
    else:
        net = load_frozen_network(run_dir, cache.manifest.vocabulary_size, feature_dims(cache))
        scorer = GATWindowScorer(gat=net) if family == "gat" else VGAEWindowScorer(vgae=net, window=window)
    return RunScorer(run_dir, settings, scorer, threshold, cache)


def _fusion_scorer(run_dir: Path, settings, window: int) -> FusionWindowScorer:
    from kdgat_train.checkpoint_state import load_checkpoint_state
    from kdgat_train.fusion.fusion_stage import build_fusion

    data, module = build_fusion(settings)
    best = run_dir / "checkpoints" / "best.ckpt"  # the weights the run evaluated: best, or last without one
    module.load_state_dict(load_checkpoint_state(best if best.is_file() else run_dir / "checkpoints" / "last.ckpt"),
                           strict=True)
    return FusionWindowScorer(vgae=data.vgae, gat=data.gat, q_network=module.net, reference=data.normaliser().reference,
                              window=window)
