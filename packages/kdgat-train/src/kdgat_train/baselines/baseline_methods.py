"""The baseline methods, the domains each applies to, and which learn from labels (torch- and
scikit-learn-free: config parsing and the pipeline's plan read them)."""

APPLICABLE = {"gbdt": None, "timing": ("automotive",), "pca": None, "iforest": None}
DEFAULT_BASELINES = {"automotive": ("gbdt", "timing", "iforest"), "internet": ("gbdt", "iforest"),
                     "watertreatment": ("gbdt", "pca", "iforest")}
GENERIC_BASELINES = ("gbdt", "iforest")  # of a registered domain: both read only its window statistics
SUPERVISED_BASELINES = ("gbdt",)  # fitted on labels; the others on normal training windows only
