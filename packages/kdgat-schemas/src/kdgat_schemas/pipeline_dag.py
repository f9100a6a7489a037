"""The stage DAG of a ``{domain}_{dataset}_pipeline`` (DESIGN.md §5), shared by the in-process
pipeline (kdgat-train) and the cluster's dependent jobs (kdgat-cluster).

teacher VGAE -> teacher GAT -> student VGAE, GAT (no KD) -> student VGAE, GAT with KD from the
teachers -> DQN fusion of each variant's VGAE + GAT. Each stage names the earlier stages whose run
folders its config needs (``needs``: config field -> stage key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kdgat_schemas.experiment_name import ExperimentName

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

    @property
    def upstream(self) -> list[str]:
        """Keys of the stages this one depends on, without repeats."""
        return list(dict.fromkeys(self.needs.values()))


def pipeline_stages(name: ExperimentName, vgae_mode: str = "normals_only", gat_mode: str = "all_samples") -> list[PipelineStage]:
    """The stages of pipeline ``name`` in an order where every stage follows the ones it needs."""
    if not name.is_pipeline:
        raise ValueError(f"{name} is not a pipeline name")

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
