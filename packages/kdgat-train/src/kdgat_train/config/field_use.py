"""Which stages use which settings: a stage refuses an override of a field it does not use.

Most fields are used by every stage (epochs, batch size, learning rate, seed, patience, the
dataset and device groups). The fields below are used only by the stage kinds named; any other
stage would silently ignore them, so setting one away from its default there is an error that
names the field and the stage. The pipeline hands each stage only the fields it uses.
"""

from __future__ import annotations

from typing import Any

from kdgat_schemas import ExperimentName

# stage kinds: the model family (vgae, gat, dqn), "curriculum" for a curriculum GAT and
# "kd_vgae" / "kd_gat" for a student distilled from a teacher
GRAPH_STAGES = ("vgae", "gat")
FIELD_USERS: dict[str, tuple[str, ...]] = {
    "training_config.weight_decay": GRAPH_STAGES,  # the DQN's Adam has none
    "training_config.gradient_clip": GRAPH_STAGES,  # the DQN clips nothing (manual optimisation)
    "training_config.id_dropout": GRAPH_STAGES,  # the DQN reads precomputed fusion inputs, not graphs
    "training_config.num_workers": GRAPH_STAGES,
    "training_config.optimizer": GRAPH_STAGES,
    "training_config.scheduler": GRAPH_STAGES,
    "training_config.loss": ("gat",),
    "training_config.focal_gamma": ("gat",),
    "training_config.vgae_id_weight": ("vgae",),
    "training_config.vgae_neighbourhood_weight": ("vgae",),
    "training_config.vgae_kl_weight": ("vgae",),
    "training_config.curriculum_start_ratio": ("curriculum",),
    "training_config.curriculum_end_ratio": ("curriculum",),
    "training_config.curriculum_difficulty_exponent": ("curriculum",),
    "training_config.curriculum_vgae_run": ("curriculum",),
    **{f"training_config.fusion_{leaf}": ("dqn",) for leaf in (
        "vgae_run", "gat_run", "epsilon_start", "epsilon_end", "epsilon_decay", "gamma", "target_sync_every",
        "replay_capacity", "alpha_grid")},
    "distillation_config.teacher_run": ("kd_vgae", "kd_gat"),
    "distillation_config.temperature": ("kd_gat",),
    "distillation_config.alpha": ("kd_gat",),
    "distillation_config.latent_weight": ("kd_vgae",),
    "distillation_config.reconstruction_weight": ("kd_vgae",),
}
KIND_LABELS = {"vgae": "VGAE", "gat": "GAT", "dqn": "fusion DQN", "curriculum": "curriculum GAT",
               "kd_vgae": "KD VGAE student", "kd_gat": "KD GAT student"}


class UnusedFieldError(ValueError):
    """A field set away from its default on a stage that does not use it."""


def stage_kinds(name: ExperimentName) -> set[str]:
    """The kinds of stage ``name`` is (``{"gat", "curriculum", "kd_gat"}`` for a distilled curriculum GAT)."""
    kinds = {name.model}
    if name.mode == "curriculum":
        kinds.add("curriculum")
    if name.distillation == "standard" and name.model in GRAPH_STAGES:
        kinds.add(f"kd_{name.model}")
    return kinds


def unused_fields(name: ExperimentName) -> list[str]:
    """Dotted fields of `FIELD_USERS` that stage ``name`` does not use."""
    kinds = stage_kinds(name)
    return [field for field, users in FIELD_USERS.items() if not kinds & set(users)]


def _value(groups: dict[str, Any], dotted: str):
    group, leaf = dotted.split(".")
    return getattr(groups[group], leaf)


def check_fields_used(name: ExperimentName, groups: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Raise `UnusedFieldError` naming every field set away from its default that stage ``name`` ignores.

    Args:
        groups: ``{"training_config": TrainingSettings, "distillation_config": ...}`` of the stage.
        defaults: the same groups at their defaults.
    """
    wrong = [(field, _value(groups, field)) for field in unused_fields(name)
             if _value(groups, field) != _value(defaults, field)]
    if wrong:
        users = {field: " and ".join(KIND_LABELS[k] for k in FIELD_USERS[field]) for field, _ in wrong}
        lines = [f"  {field}={value!r}: only {users[field]} stages use it" for field, value in wrong]
        raise UnusedFieldError(f"{name} does not use these fields; remove the overrides (or pick a stage that uses them):\n"
                         + "\n".join(lines))


def reset_unused(name: ExperimentName, groups: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``groups`` with every field stage ``name`` does not use put back to its default (the pipeline
    gives each stage only what it uses, so its config and its reuse depend on nothing else)."""
    updates: dict[str, dict[str, Any]] = {}
    for field in unused_fields(name):
        group, leaf = field.split(".")
        updates.setdefault(group, {})[leaf] = _value(defaults, field)
    return {group: settings.model_copy(update=updates.get(group, {})) for group, settings in groups.items()}
