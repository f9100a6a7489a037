"""What a pipeline trains, planned from its training data.

A pipeline whose training split holds no attack window (BATADAL's training year; a normal-only
capture) cannot train a stage that learns from labels: the GAT's validation F1 stays 0, and on test
its rows ranked attacks backwards. With ``pipeline.supervised=auto`` (the default), fewer than
``pipeline.min_attack_windows`` attack windows in training leave out those stages (and what needs
them: the DQN fusion, the gbdt baseline) with one line saying so; ``pipeline.supervised=force``
trains them anyway and their table rows are marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kdgat_data.cache import build_cache
from kdgat_data.catalog import resolve_dataset
from kdgat_schemas.pipeline_dag import PipelineStage, pipeline_stages, without_label_learning

from kdgat_train.baselines.baseline_methods import SUPERVISED_BASELINES
from kdgat_train.pipeline.settings import PipelineSettings

_MANIFESTS: dict[str, object] = {}


def current_manifest(dataset):
    """The `DatasetManifest` of the cache ``dataset`` (`DatasetSettings`) gives now, built or reused
    (once per process and dataset settings: the sources are hashed once)."""
    key = dataset.model_dump_json()
    if key not in _MANIFESTS:
        cache = build_cache(resolve_dataset(dataset.name), window=dataset.window, stride=dataset.stride,
                            validation_fraction=dataset.validation_fraction, features=dataset.features,
                            train_stride=dataset.train_stride)
        _MANIFESTS[key] = cache.manifest
    return _MANIFESTS[key]


@dataclass(frozen=True)
class StagePlan:
    """The stages a pipeline trains (DAG order) and the ones it leaves out, with why.

    ``forced``: the keys of stages that learn from labels trained although the training split holds
    fewer than the minimum attack windows (``pipeline.supervised=force``): their rows are marked.
    """

    stages: list[PipelineStage]
    left_out: list[PipelineStage] = field(default_factory=list)
    left_out_baselines: list[str] = field(default_factory=list)
    reason: str = ""
    forced: frozenset[str] = frozenset()

    @property
    def left_out_keys(self) -> list[str]:
        """The keys of what is left out: stages (``gat_teacher_no``) and baselines (``baseline_gbdt``)."""
        return [stage.key for stage in self.left_out] + [f"baseline_{m}" for m in self.left_out_baselines]

    def message(self) -> str | None:
        """One line saying what was left out and why (or what was forced), or None."""
        if self.left_out_keys:
            return (f"pipeline: left out {', '.join(self.left_out_keys)}: {self.reason}; they learn from labels (or need "
                    "a stage that does). pipeline.supervised=force trains them anyway")
        if self.forced:
            return f"pipeline: training {', '.join(sorted(self.forced))} although {self.reason} (pipeline.supervised=force)"
        return None


def plan_stages(settings: PipelineSettings) -> StagePlan:
    """The `StagePlan` of ``settings`` from its training split's attack windows (the dataset's cache
    manifest, built if needed)."""
    options = settings.pipeline
    stages = pipeline_stages(settings.name, options.vgae_mode, options.gat_mode)
    attack_windows = current_manifest(settings.dataset_config).splits["train"].attack_windows
    if attack_windows >= options.min_attack_windows:
        return StagePlan(stages)
    reason = f"the training split has {attack_windows} attack window{'s' * (attack_windows != 1)}"
    if attack_windows:
        reason += f" (fewer than pipeline.min_attack_windows={options.min_attack_windows})"
    kept, left_out = without_label_learning(stages)
    labelled = [method for method in settings.baseline_methods() if method in SUPERVISED_BASELINES]
    if options.supervised == "force":
        return StagePlan(stages, reason=reason, forced=frozenset([*(s.key for s in left_out),
                                                                  *(f"baseline_{m}" for m in labelled)]))
    return StagePlan(kept, left_out, labelled, reason)


def left_out_job(settings) -> str | None:
    """Why the cluster job of ``settings`` (a pipeline with ``pipeline.only=KEY``) would be left out by
    its pipeline's plan, or None (kdgat-cluster plans no job for a stage that cannot learn)."""
    if not isinstance(settings, PipelineSettings) or not settings.pipeline.only:
        return None
    plan = plan_stages(settings)
    return f"{plan.reason}; it learns from labels (or needs a stage that does)" if settings.pipeline.only in plan.left_out_keys \
        else None
