"""The stage DAG of a ``{domain}_{dataset}_pipeline`` (DESIGN.md §5), shared by the in-process
pipeline (kdgat-train) and the cluster's dependent jobs (kdgat-cluster).

teacher VGAE -> teacher GAT -> student VGAE, GAT (no KD) -> student VGAE, GAT with KD from the
teachers -> the graph-less MLP student without and with KD from the GAT teacher -> DQN fusion of
each variant's VGAE + GAT. Each stage names the earlier stages whose run
folders its config needs (``needs``: config field -> stage key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kdgat_schemas.experiment_name import MODES, ExperimentName
from kdgat_schemas.upstream_rules import upstream_needs

VARIANTS = (("teacher", "no"), ("student", "no"), ("student", "standard"))
# a model whose KD teacher is another model's (the graph-less MLP learns from the GAT teacher): students only
STUDENT_VARIANTS = VARIANTS[1:]
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


def check_pipeline_modes(vgae_mode: str, gat_mode: str) -> None:
    """Refuse modes the name grammar does not give the pipeline's VGAE and GAT stages (one message naming both)."""
    if vgae_mode not in MODES["vgae"] or gat_mode not in MODES["gat"]:
        raise ValueError(f"VGAE mode {vgae_mode!r} / GAT mode {gat_mode!r}: expected one of {MODES['vgae']} / {MODES['gat']}")


def pipeline_stages(name: ExperimentName, vgae_mode: str = "normals_only", gat_mode: str = "all_samples") -> list[PipelineStage]:
    """The stages of pipeline ``name`` in an order where every stage follows the ones it needs.

    What a stage needs comes from `kdgat_schemas.upstream_rules`: each need is filled by the first
    of its candidate stages that this pipeline trains.
    """
    if not name.is_pipeline:
        raise ValueError(f"{name} is not a pipeline name")

    def stage_name(learning: str, model: str, size: str, distillation: str, mode: str) -> ExperimentName:
        return ExperimentName(domain=name.domain, dataset=name.dataset, learning=learning, model=model, size=size,
                              distillation=distillation, mode=mode)

    names: dict[str, ExperimentName] = {}
    for size, distillation in VARIANTS:
        variant = f"{size}_{distillation}"
        names[f"vgae_{variant}"] = stage_name("unsupervised", "vgae", size, distillation, vgae_mode)
        names[f"gat_{variant}"] = stage_name("supervised", "gat", size, distillation, gat_mode)
    for size, distillation in STUDENT_VARIANTS:
        names[f"mlp_{size}_{distillation}"] = stage_name("supervised", "mlp", size, distillation, "all_samples")
    for size, distillation in VARIANTS:
        names[f"dqn_{size}_{distillation}"] = stage_name("fusion", "dqn", size, distillation, "all_samples")
    key_of = {stage.format(): key for key, stage in names.items()}
    stages = []
    for key, stage in names.items():
        needs = {}
        for need in upstream_needs(stage):
            filled = next((key_of[c.format()] for c in need.candidates if c.format() in key_of), None)
            if filled is None:
                raise ValueError(f"pipeline {name}: stage {stage} needs a {need.role} "
                                 f"({' or '.join(map(str, need.candidates))}) that the pipeline does not train")
            needs[need.field] = filled
        stages.append(PipelineStage(key, stage, needs))
    return stages


def learns_from_labels(name: ExperimentName) -> bool:
    """Whether stage ``name`` learns from window labels: a supervised classifier, or a fusion whose
    reward is the label. An unsupervised stage reads none (a VGAE trained on normal windows only
    uses the labels to pick them, and a training split without attacks is all normal windows)."""
    return name.learning != "unsupervised"


def without_label_learning(stages: list[PipelineStage]) -> tuple[list[PipelineStage], list[PipelineStage]]:
    """``(kept, left out)``: the stages that learn from labels, and every stage that needs one of
    them, are left out (a training split without attack windows gives them nothing to learn)."""
    left_out: set[str] = set()
    for stage in stages:  # in DAG order: a stage's needs come before it
        if learns_from_labels(stage.name) or any(needed in left_out for needed in stage.upstream):
            left_out.add(stage.key)
    return ([stage for stage in stages if stage.key not in left_out], [stage for stage in stages if stage.key in left_out])
