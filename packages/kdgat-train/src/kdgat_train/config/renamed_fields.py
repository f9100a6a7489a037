"""Overrides that use a field's old name get the new one in the error (before Hydra composes).

The stage-only training fields were flat (``training_config.fusion_gamma``) and are nested groups now
(``training_config.fusion.gamma``). Saved configs of old runs still load (`TrainingSettings` nests
the flat names); a command line with an old name is refused with the name to type instead, rather
than Hydra's "Key 'fusion_gamma' not in 'Builds_TrainingSettings'".
"""

from __future__ import annotations

import re

NESTED_GROUPS = ("vgae", "curriculum", "fusion")
_OLD_NAME = re.compile(r"^[+~]*training_config\.(" + "|".join(NESTED_GROUPS) + r")_([a-z_]+)=")


class RenamedFieldError(ValueError):
    """An override names a training field by its name from before the groups were nested."""


def check_renamed_overrides(arguments: list[str]) -> None:
    """Raise `RenamedFieldError` naming each ``training_config.<group>_<field>=`` and its new name."""
    renamed = [(match[0].rstrip("="), f"training_config.{match[1]}.{match[2]}")
               for argument in arguments if (match := _OLD_NAME.match(argument))]
    if renamed:
        raise RenamedFieldError("; ".join(f"{old} is now {new}" for old, new in renamed))


def current_field_name(dotted: str) -> str:
    """``training_config.fusion.vgae_run`` for ``training_config.fusion_vgae_run`` (as old runs' run.json
    recorded their upstream fields); any other name as it is."""
    match = _OLD_NAME.match(f"{dotted}=")
    return f"training_config.{match[1]}.{match[2]}" if match else dotted


def nest_flat_names(training: dict) -> dict:
    """A ``training_config`` mapping with its old flat names nested (``fusion_gamma``: ``fusion.gamma``)."""
    training = dict(training)
    for group in NESTED_GROUPS:
        flat = {key.removeprefix(f"{group}_"): training.pop(key) for key in list(training) if key.startswith(f"{group}_")}
        if flat:
            nested = training.get(group) or {}
            training[group] = {**flat, **(nested.model_dump() if hasattr(nested, "model_dump") else nested)}
    return training
