"""Which stages use which settings: a stage refuses an override of a field it does not use.

Most fields are used by every stage (epochs, batch size, learning rate, seed, patience, the
dataset and device groups). The fields below are used only by the stage kinds named; any other
stage would silently ignore them, so setting one away from its default there is an error that
names the field and the stage. A key may name a whole group (``training_config.fusion``): every
field in it, including ones added later. The pipeline hands each stage only the fields it uses.
"""

from __future__ import annotations

from typing import Any

from kdgat_schemas import ExperimentName
from kdgat_train.config.settings import field_value, with_field_value
from pydantic import BaseModel

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
    "training_config.sampling": ("gat",),
    "training_config.vgae": ("vgae",),  # a whole group: every field in it, present and future
    "training_config.curriculum": ("curriculum",),
    "training_config.fusion": ("dqn",),
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
    group, _, rest = dotted.partition(".")
    return field_value(groups[group], rest)


def _changed_leaves(dotted: str, value, default) -> list[tuple[str, Any]]:
    """``(field, value)`` of every leaf under ``dotted`` that differs from its default."""
    if isinstance(value, BaseModel):
        return [leaf for name in type(value).model_fields
                for leaf in _changed_leaves(f"{dotted}.{name}", getattr(value, name), getattr(default, name))]
    return [] if value == default else [(dotted, value)]


def check_fields_used(name: ExperimentName, groups: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Raise `UnusedFieldError` naming every field set away from its default that stage ``name`` ignores.

    Args:
        groups: ``{"training_config": TrainingSettings, "distillation_config": ...}`` of the stage.
        defaults: the same groups at their defaults.
    """
    wrong = [(field, users, value) for users in unused_fields(name)
             for field, value in _changed_leaves(users, _value(groups, users), _value(defaults, users))]
    if wrong:
        lines = [f"  {field}={value!r}: only {' and '.join(KIND_LABELS[k] for k in FIELD_USERS[users])} stages use it"
                 for field, users, value in wrong]
        raise UnusedFieldError(f"{name} does not use these fields; remove the overrides (or pick a stage that uses them):\n"
                               + "\n".join(lines))


def reset_unused(name: ExperimentName, groups: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``groups`` with every field stage ``name`` does not use put back to its default (the pipeline
    gives each stage only what it uses, so its config and its reuse depend on nothing else)."""
    groups = dict(groups)
    for field in unused_fields(name):
        group, _, rest = field.partition(".")
        groups[group] = with_field_value(groups[group], rest, _value(defaults, field))
    return groups
