"""What a stage needs: the one rule, shared by the run finder (kdgat-train), the pipeline DAG and the
sweep planner (kdgat-cluster).

A KD student needs its teacher; a curriculum GAT needs a same-size VGAE (no KD) to score normal
windows; a fusion DQN needs the VGAE and the GAT of its own size and distillation variant. Each need
names the config field that holds the run folder and the stage names that can fill it, in order
of preference. Change `UPSTREAM_RULES` and all three consumers follow.
"""

from __future__ import annotations

from dataclasses import dataclass

from kdgat_schemas.experiment_name import LEARNING_MODELS, ExperimentName

LEARNING_OF_MODEL = {model: learning for learning, models in LEARNING_MODELS.items() for model in models}


@dataclass(frozen=True, kw_only=True)
class UpstreamRule:
    """One kind of need.

    Args:
        field: the config field (``group.leaf``) that names the needed run folder.
        role: what the needed run is, in messages ("teacher", "curriculum VGAE", ...).
        when: for each name token, the values a stage must have for the rule to apply
            (``{"distillation": ("standard",)}``).
        becomes: tokens that turn the stage's name into the needed stage's name (the rest is kept).
        modes: the needed stage's mode, in order of preference; empty: the stage's own mode.
    """

    field: str
    role: str
    when: dict[str, tuple[str, ...]]
    becomes: dict[str, str]
    modes: tuple[str, ...] = ()

    def applies_to(self, name: ExperimentName) -> bool:
        return not name.is_pipeline and all(getattr(name, token) in values for token, values in self.when.items())

    def candidates(self, name: ExperimentName) -> list[ExperimentName]:
        update = dict(self.becomes)
        if "model" in update:
            update["learning"] = LEARNING_OF_MODEL[update["model"]]
        return [name.model_copy(update={**update, "mode": mode}) for mode in (self.modes or (name.mode,))]


UPSTREAM_RULES: list[UpstreamRule] = [  # `model_registration.register_model` appends a new model's teacher rule
    # the DQN itself is not distilled: a student+KD fusion fuses the KD-trained VGAE and GAT students
    UpstreamRule(field="distillation_config.teacher_run", role="teacher",
                 when={"distillation": ("standard",), "model": ("vgae", "gat")},
                 becomes={"size": "teacher", "distillation": "no"}),
    # the graph-less MLP student learns from the GAT teacher (the control for "does the graph help")
    UpstreamRule(field="distillation_config.teacher_run", role="teacher",
                 when={"distillation": ("standard",), "model": ("mlp",)},
                 becomes={"size": "teacher", "distillation": "no", "model": "gat"}, modes=("all_samples", "curriculum")),
    UpstreamRule(field="training_config.curriculum.vgae_run", role="curriculum VGAE", when={"mode": ("curriculum",)},
                 becomes={"model": "vgae", "distillation": "no"}, modes=("normals_only", "all_samples")),
    UpstreamRule(field="training_config.fusion.vgae_run", role="fused VGAE", when={"model": ("dqn",)},
                 becomes={"model": "vgae"}, modes=("normals_only", "all_samples")),
    UpstreamRule(field="training_config.fusion.gat_run", role="fused GAT", when={"model": ("dqn",)},
                 becomes={"model": "gat"}, modes=("all_samples", "curriculum")),
]


@dataclass(frozen=True)
class UpstreamNeed:
    """One need of one stage: the config ``field`` and the stage names that fill it, preferred first."""

    field: str
    role: str
    candidates: list[ExperimentName]


def upstream_needs(name: ExperimentName) -> list[UpstreamNeed]:
    """Every need of stage ``name`` (none for a pipeline name or a stage that needs nothing)."""
    return [UpstreamNeed(rule.field, rule.role, rule.candidates(name)) for rule in UPSTREAM_RULES if rule.applies_to(name)]


def upstream(name: ExperimentName) -> list[ExperimentName]:
    """Every stage name that can fill a need of ``name``, without repeats, in rule order."""
    found = {candidate.format(): candidate for need in upstream_needs(name) for candidate in need.candidates}
    return list(found.values())
