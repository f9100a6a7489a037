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
from pydantic import BaseModel

from kdgat_train.config.settings import field_value, with_field_value
from kdgat_train.families import FAMILIES, GRAPH_FIELDS, family_of

# Stage kinds: a family's token (vgae, gat, dqn), a family's mode that has its own fields
# ("curriculum") and "kd_<token>" for a student distilled from a teacher. Each family declares the
# fields it uses (`kdgat_train.families.ModelFamily`); the table below is derived from them.


def field_users() -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """``({field: stage kinds that use it}, {stage kind: label})`` of the registered families; a field
    in no family's list is used by every stage."""
    users: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    graph_readers = [family.token for family in FAMILIES.values() if family.reads_window_graphs]
    for field in GRAPH_FIELDS:
        users[field] = list(graph_readers)
    for family in FAMILIES.values():
        labels[family.token] = family.label
        for field in family.own_fields:
            users.setdefault(field, []).append(family.token)
        for mode, fields in family.mode_fields.items():
            labels[mode] = f"{mode} {family.label}"
            for field in fields:
                users.setdefault(field, []).append(mode)
    for family in FAMILIES.values():
        labels[f"kd_{family.token}"] = f"KD {family.label} student"
        for field in family.distillation_fields:
            users.setdefault(field, []).append(f"kd_{family.token}")
    return {field: tuple(kinds) for field, kinds in users.items()}, labels


class UnusedFieldError(ValueError):
    """A field set away from its default on a stage that does not use it."""


def stage_kinds(name: ExperimentName) -> set[str]:
    """The kinds of stage ``name`` is (``{"gat", "curriculum", "kd_gat"}`` for a distilled curriculum GAT)."""
    family = family_of(name)
    kinds = {family.token}
    if name.mode in family.mode_fields:
        kinds.add(name.mode)
    if name.distillation == "standard" and family.distills:
        kinds.add(f"kd_{family.token}")
    return kinds


def unused_fields(name: ExperimentName) -> list[str]:
    """Dotted fields of `field_users` that stage ``name`` does not use."""
    kinds = stage_kinds(name)
    return [field for field, users in field_users()[0].items() if not kinds & set(users)]


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
    users_of, labels = field_users()
    wrong = [(field, users, value) for users in unused_fields(name)
             for field, value in _changed_leaves(users, _value(groups, users), _value(defaults, users))]
    if wrong:
        lines = [f"  {field}={value!r}: only {' and '.join(labels[k] for k in users_of[users])} stages use it"
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
