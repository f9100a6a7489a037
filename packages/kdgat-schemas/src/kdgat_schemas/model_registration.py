"""`register_model`: make a model family registered from outside (a new student architecture) a
model of the name grammar, as `register_domain` does for a domain.

The built-in models (vgae, gat, dqn) are written into `LEARNING_MODELS`, `MODES` and
`UPSTREAM_RULES`; a family added later calls this once (kdgat-train's ``register_family`` does) and
its presets, names, run paths and upstream needs follow. A model may be distilled from a teacher of
another model (a graph-less student from the GAT teacher): that is one more teacher rule.
"""

from __future__ import annotations

import re

from kdgat_schemas.experiment_name import (
    BASELINES,
    LEARNING_MODELS,
    MODES,
    ExperimentNameError,
)
from kdgat_schemas.upstream_rules import LEARNING_OF_MODEL, UPSTREAM_RULES, UpstreamRule

_MODEL_TOKEN = re.compile(r"^[a-z][a-z0-9]*$")


def register_model(model: str, *, learning: str, modes: tuple[str, ...], teacher_model: str | None = None,
                   teacher_modes: tuple[str, ...] = ()) -> None:
    """Add ``model`` to the grammar under ``learning`` with its ``modes``; with ``teacher_model``, a
    ``student_standard`` stage of ``model`` distils from the teacher stage of ``teacher_model`` (its
    modes in ``teacher_modes``, preferred first; default: the student's own mode).

    Registering a model again with the same learning and modes does nothing.

    Raises:
        ExperimentNameError: a token that is not lower-case letters and digits, an unknown learning or
            teacher model, or a model known with other learning or modes.
    """
    if not _MODEL_TOKEN.match(model) or not all(_MODEL_TOKEN.match(m.replace("_", "a")) for m in modes) or not modes:
        raise ExperimentNameError(f"model {model!r} with modes {modes!r}: expected lower-case letters and digits "
                                  "(modes may hold '_'), and at least one mode")
    if learning not in LEARNING_MODELS:
        raise ExperimentNameError(f"model {model!r}: learning {learning!r} is not one of {', '.join(LEARNING_MODELS)}")
    if model in MODES or model in BASELINES:
        if LEARNING_OF_MODEL.get(model) != learning or MODES.get(model) != tuple(modes):
            raise ExperimentNameError(f"model {model!r} is already in the grammar with other learning or modes")
        return
    if teacher_model is not None and teacher_model not in MODES:
        raise ExperimentNameError(f"model {model!r}: teacher model {teacher_model!r} is not in the grammar")
    LEARNING_MODELS[learning] = (*LEARNING_MODELS[learning], model)
    MODES[model] = tuple(modes)
    LEARNING_OF_MODEL[model] = learning
    if teacher_model is not None:
        UPSTREAM_RULES.append(UpstreamRule(
            field="distillation_config.teacher_run", role="teacher",
            when={"distillation": ("standard",), "model": (model,)},
            becomes={"size": "teacher", "distillation": "no", "model": teacher_model}, modes=tuple(teacher_modes)))
