"""The stage DAG of a pipeline (DESIGN.md §5) and the settings of each stage.

teacher VGAE -> teacher GAT -> student VGAE, GAT (no KD) -> student VGAE, GAT with KD from the
teachers -> DQN fusion of each variant's VGAE + GAT. Each stage names the earlier stages it needs;
their run folders are written into its config explicitly (never looked up by "latest run"), so a
stage's config changes whenever an upstream stage was retrained, and reuse stays exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kdgat_schemas import ExperimentName

from kdgat_train.config.run_settings import RunSettings
from kdgat_train.pipeline.settings import PipelineSettings

VARIANTS = (("teacher", "no"), ("student", "no"), ("student", "standard"))
VARIANT_LABELS = {("teacher", "no"): "teacher", ("student", "no"): "student", ("student", "standard"): "student+KD"}


@dataclass(frozen=True)
class PipelineStage:
    """One stage of the DAG. ``needs`` maps a config field to the key of the stage whose run fills it."""

    key: str
    name: ExperimentName
    needs: dict[str, str] = field(default_factory=dict)

    @property
    def variant_label(self) -> str:
        return VARIANT_LABELS[(self.name.size, self.name.distillation)]


def pipeline_stages(name: ExperimentName, vgae_mode: str, gat_mode: str) -> list[PipelineStage]:
    """The stages of pipeline ``name`` in an order where every stage follows the ones it needs."""
    def stage_name(learning: str, model: str, size: str, distillation: str, mode: str) -> ExperimentName:
        return ExperimentName(domain=name.domain, dataset=name.dataset, learning=learning, model=model, size=size,
                              distillation=distillation, mode=mode)

    stages = []
    for size, distillation in VARIANTS:
        variant = f"{size}_{distillation}"
        kd = distillation == "standard"
        vgae_needs = {"distillation_config.teacher_run": "vgae_teacher_no"} if kd else {}
        gat_needs = {"distillation_config.teacher_run": "gat_teacher_no"} if kd else {}
        if gat_mode == "curriculum":  # difficulty from the same-size VGAE without KD
            gat_needs["training_config.curriculum_vgae_run"] = f"vgae_{size}_no"
        stages.append(PipelineStage(f"vgae_{variant}", stage_name("unsupervised", "vgae", size, distillation, vgae_mode), vgae_needs))
        stages.append(PipelineStage(f"gat_{variant}", stage_name("supervised", "gat", size, distillation, gat_mode), gat_needs))
    for size, distillation in VARIANTS:
        variant = f"{size}_{distillation}"
        stages.append(PipelineStage(
            f"dqn_{variant}", stage_name("fusion", "dqn", size, distillation, "all_samples"),
            {"training_config.fusion_vgae_run": f"vgae_{variant}", "training_config.fusion_gat_run": f"gat_{variant}"},
        ))
    return stages


def stage_settings(pipeline: PipelineSettings, stage: PipelineStage, run_dirs: dict[str, str]) -> RunSettings:
    """The full `RunSettings` of ``stage``: the pipeline's shared settings, the stage's model size,
    and the run folders of the stages it needs (every other run reference cleared)."""
    training = {"curriculum_vgae_run": None, "fusion_vgae_run": None, "fusion_gat_run": None}
    distillation = {"mode": stage.name.distillation, "teacher_run": None}
    for field_name, key in stage.needs.items():
        group, leaf = field_name.split(".")
        (training if group == "training_config" else distillation)[leaf] = run_dirs[key]
    return RunSettings(
        experiment_name=stage.name.format(),
        training_config=pipeline.training_config.model_copy(update=training),
        dataset_config=pipeline.dataset_config,
        device=pipeline.device,
        distillation_config=pipeline.distillation_config.model_copy(update=distillation),
        model_size_config=pipeline.model_sizes[f"{stage.name.model}_{stage.name.size}"],
        runs_root=pipeline.runs_root,
    )
