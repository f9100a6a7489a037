"""The settings of each stage of a pipeline (the DAG itself is `kdgat_schemas.pipeline_stages`).

The run folders of the stages a stage needs are written into its config explicitly (never looked
up by "latest run"), so a stage's config changes whenever an upstream stage was retrained, and
reuse stays exact.
"""

from __future__ import annotations

from kdgat_schemas import UPSTREAM_RULES
from kdgat_schemas.pipeline_dag import PipelineStage, pipeline_stages

from kdgat_train.baselines.baseline_settings import BaselineSettings
from kdgat_train.config.field_use import reset_unused
from kdgat_train.config.run_settings import RunSettings
from kdgat_train.config.settings import (
    DeviceSettings,
    DistillationSettings,
    TrainingSettings,
    with_field_value,
)
from kdgat_train.pipeline.settings import PipelineSettings

__all__ = ["PipelineStage", "pipeline_stages", "stage_settings"]


def stage_settings(pipeline: PipelineSettings, stage: PipelineStage, run_dirs: dict[str, str]) -> RunSettings:
    """The full `RunSettings` of ``stage``: the pipeline's shared settings, the stage's model size,
    and the run folders of the stages it needs (every other run reference cleared)."""
    groups = {"training_config": pipeline.training_config,
              "distillation_config": pipeline.distillation_config.model_copy(update={"mode": stage.name.distillation})}
    references = {rule.field: None for rule in UPSTREAM_RULES}  # every run reference cleared ...
    for field_name, value in {**references, **{f: run_dirs[key] for f, key in stage.needs.items()}}.items():
        group, _, rest = field_name.partition(".")  # ... then the stage's needs filled in
        groups[group] = with_field_value(groups[group], rest, value)
    groups = reset_unused(  # each stage gets only the fields it uses, so its reuse depends on nothing else
        stage.name,
        groups,
        {"training_config": TrainingSettings(), "distillation_config": DistillationSettings(mode=stage.name.distillation)},
    )
    return RunSettings(
        experiment_name=stage.name.format(),
        training_config=groups["training_config"],
        dataset_config=pipeline.dataset_config,
        device=pipeline.device,
        distillation_config=groups["distillation_config"],
        evaluation=pipeline.evaluation,
        model_size_config=pipeline.model_sizes[f"{stage.name.model}_{stage.name.size}"],
        runs_root=pipeline.runs_root,
        tracking=pipeline.tracking,
    )


def baseline_settings(pipeline: PipelineSettings, method: str):
    """The `BaselineSettings` of baseline ``method`` in this pipeline: its dataset, seed, threshold rule
    and runs root (every other group at its default, so its reuse depends on nothing it does not use)."""
    name = pipeline.name
    return BaselineSettings(
        experiment_name=f"{name.domain}_{name.dataset}_baseline_{method}",
        training_config=TrainingSettings(seed=pipeline.training_config.seed), dataset_config=pipeline.dataset_config,
        device=DeviceSettings(), distillation_config=DistillationSettings(), evaluation=pipeline.evaluation,
        runs_root=pipeline.runs_root,
        tracking=pipeline.tracking,
    )
