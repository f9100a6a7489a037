"""The registry of model families: the one place a name-grammar model token becomes a family.

Registering a family is one line (``register_family(MyFamily())``); presets, size classes, the
field-use table, table labels, stage building, evaluation and deployment all derive from it. A
family whose token the name grammar does not know yet joins it here (`kdgat_schemas.register_model`).
"""

from __future__ import annotations

from kdgat_schemas import MODES, ExperimentName, register_model

from kdgat_train.families.dqn_fusion_family import DQNFusionFamily
from kdgat_train.families.gat_family import GATFamily
from kdgat_train.families.mlp_family import MLPFamily
from kdgat_train.families.model_family import ModelFamily
from kdgat_train.families.vgae_family import VGAEFamily

FAMILIES: dict[str, ModelFamily] = {}


def register_family(family: ModelFamily) -> ModelFamily:
    """Add ``family`` under its token (a second family with the same token is an error)."""
    if family.token in FAMILIES and type(FAMILIES[family.token]) is not type(family):
        raise ValueError(f"model family {family.token!r} is already registered ({FAMILIES[family.token]!r})")
    if family.token not in MODES:  # a family from outside: its token joins the name grammar
        if family.declared_learning is None:
            raise ValueError(f"model family {family.token!r} is not in the name grammar: declare its "
                             "declared_learning (and declared_modes)")
        teacher = FAMILIES.get(family.teacher_family) if family.teacher_family else None
        register_model(family.token, learning=family.declared_learning, modes=family.declared_modes,
                       teacher_model=family.teacher_family, teacher_modes=teacher.modes if teacher else ())
    FAMILIES[family.token] = family
    return family


def family_of(name: ExperimentName | str) -> ModelFamily:
    """The family of stage ``name`` (an `ExperimentName`, or a model token such as ``"gat"``)."""
    token = name if isinstance(name, str) else name.model
    try:
        return FAMILIES[token]
    except KeyError:
        raise KeyError(f"no model family {token!r}; registered: {', '.join(FAMILIES)}") from None


for _family in (VGAEFamily(), GATFamily(), MLPFamily(), DQNFusionFamily()):  # in the order presets and tables list them
    register_family(_family)
