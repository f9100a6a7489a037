"""Model families: one object per family (`ModelFamily`), found through `family_of`."""

from kdgat_train.families.model_family import GRAPH_FIELDS, FrozenRun, ModelFamily
from kdgat_train.families.registry import FAMILIES, family_of, register_family

__all__ = ["FAMILIES", "GRAPH_FIELDS", "FrozenRun", "ModelFamily", "family_of", "register_family"]
