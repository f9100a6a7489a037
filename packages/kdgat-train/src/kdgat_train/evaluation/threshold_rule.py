"""One threshold rule for every detector family, chosen on validation only (DESIGN.md §4).

``evaluation.threshold`` is one of:
    f1              the score threshold with the best F1 on validation
    youden          the threshold maximising TPR - FPR (Youden's J) on validation
    fpr:<rate>      the quantile of normal validation windows that gives that false-positive rate
    f1@fpr:<rate>   the best validation F1 among the thresholds whose validation FPR is at most
                    <rate>: a detector that separates the classes gets the threshold in the gap
                    (fpr:<rate> would flag <rate> of the normals whatever the separation), one
                    that does not is held to the false-alarm budget
    fixed:<value>   a fixed score (no data is read)

When validation holds fewer than ``evaluation.min_class_windows`` windows of either class, a rule
that needs both classes (f1, youden, f1@fpr) cannot be trusted (13 normal windows decided ROAD's VGAE
threshold; a one-class BATADAL validation split had none at all). It then falls back to
``fpr:0.01`` (``fpr:<rate>`` for f1@fpr) on normal windows: those of validation, plus the training
normals when validation has too few. The rule actually applied and the reason are recorded with the
threshold.

Nothing here takes test data: a threshold is a function of validation (and training) scores only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

RULES = ("f1", "youden", "fpr:<rate>", "f1@fpr:<rate>", "fixed:<value>")
FALLBACK_RATE = 0.01


@dataclass(frozen=True)
class ThresholdRule:
    """A parsed ``evaluation.threshold`` (``kind`` f1 | youden | fpr | f1@fpr | fixed, ``value`` for the last three)."""

    kind: str
    value: float | None = None

    @classmethod
    def parse(cls, text: str) -> ThresholdRule:
        """``"fpr:0.01"`` -> ``ThresholdRule("fpr", 0.01)``; a bad rule raises ValueError naming the forms."""
        kind, _, argument = str(text).strip().partition(":")
        if kind in ("f1", "youden") and not argument:
            return cls(kind)
        if kind in ("fpr", "f1@fpr", "fixed") and argument:
            try:
                value = float(argument)
            except ValueError:
                value = math.nan
            if kind != "fixed" and not 0 <= value < 1:
                raise ValueError(f"evaluation.threshold={text!r}: the rate of {kind}:<rate> must be in [0, 1)")
            if math.isfinite(value):
                return cls(kind, value)
        raise ValueError(f"evaluation.threshold={text!r}: expected one of {', '.join(RULES)}")

    @property
    def needs_both_classes(self) -> bool:
        return self.kind in ("f1", "youden", "f1@fpr")

    def __str__(self) -> str:
        return self.kind if self.value is None else f"{self.kind}:{self.value:g}"


@dataclass(frozen=True)
class ChosenThreshold:
    """The threshold of a detector and how it was found.

    Args:
        value: predict attack when ``score > value``.
        rule: the rule applied (``"f1"``, or ``"fpr:0.01"`` after a fallback).
        configured: the rule the config asked for.
        fallback: why the configured rule was not applied (``None`` when it was).
        normal_windows: how many normal windows the rule read (validation plus any training normals).
    """

    value: float
    rule: str
    configured: str
    fallback: str | None = None
    normal_windows: int = 0

    def as_dict(self) -> dict:
        return {"value": self.value, "rule": self.rule, "configured": self.configured, "fallback": self.fallback,
                "normal_windows": self.normal_windows}

    def tags(self, prefix: str = "") -> dict[str, str]:
        """MLflow / run.json tags: ``threshold_rule``, ``threshold_configured``, ``threshold_fallback``."""
        tags = {f"{prefix}threshold_rule": self.rule, f"{prefix}threshold_configured": self.configured}
        if self.fallback:
            tags[f"{prefix}threshold_fallback"] = self.fallback
        return tags


def fpr_threshold(normal_scores: np.ndarray, rate: float) -> float:
    """The smallest threshold at which at most ``rate`` of these normal windows score above it."""
    ordered = np.sort(np.asarray(normal_scores, np.float64))[::-1]
    if not len(ordered):
        raise ValueError("fpr:<rate> needs normal windows, and there are none")
    allowed = int(math.floor(rate * len(ordered)))  # windows that may lie strictly above the threshold
    return float(ordered[allowed]) if allowed < len(ordered) else float(ordered[-1]) - 1.0


def choose_threshold(val_scores: np.ndarray, val_labels: np.ndarray, rule: ThresholdRule | str, *,
                     min_class_windows: int = 30,
                     training_normal_scores: Callable[[], np.ndarray] | None = None) -> ChosenThreshold:
    """Apply ``rule`` to validation scores, falling back as the module docstring says.

    Args:
        val_scores: (V,) validation window scores (higher = more attack-like).
        val_labels: (V,) their 0/1 labels.
        rule: a `ThresholdRule` or its text.
        min_class_windows: fewest windows of each class a rule may read.
        training_normal_scores: called only when validation has too few normal windows for the
            fallback; returns the scores of normal training windows.
    """
    from kdgat_train.evaluation.metrics import (  # torch: off config parsing
        best_f1_threshold,
        youden_threshold,
    )

    rule = rule if isinstance(rule, ThresholdRule) else ThresholdRule.parse(rule)
    scores, labels = np.asarray(val_scores, np.float64), np.asarray(val_labels).astype(bool)
    normals, attacks = int((~labels).sum()), int(labels.sum())
    if rule.kind == "fixed":
        return ChosenThreshold(float(rule.value), str(rule), str(rule))
    if rule.needs_both_classes and min(normals, attacks) >= min_class_windows:
        value = (youden_threshold(scores, labels) if rule.kind == "youden" else
                 best_f1_threshold(scores, labels, max_fpr=rule.value))  # value: None for f1, the rate for f1@fpr
        return ChosenThreshold(value, str(rule), str(rule), normal_windows=normals)
    if rule.kind == "fpr" and normals >= min_class_windows:
        return ChosenThreshold(fpr_threshold(scores[~labels], rule.value), str(rule), str(rule), normal_windows=normals)
    reason = f"validation has {normals} normal and {attacks} attack windows (minimum {min_class_windows} of " + (
        "each class)" if rule.needs_both_classes else "normal windows)")
    rate = rule.value if rule.kind in ("fpr", "f1@fpr") else FALLBACK_RATE
    normal_scores = scores[~labels]
    if normals < min_class_windows and training_normal_scores is not None:
        normal_scores = np.concatenate([normal_scores, np.asarray(training_normal_scores(), np.float64)])
        reason += "; normal training windows added"
    if not len(normal_scores):
        raise ValueError(f"threshold rule {rule}: {reason}, and no normal windows to fall back on")
    fallback_rule = str(ThresholdRule("fpr", rate))
    return ChosenThreshold(fpr_threshold(normal_scores, rate), fallback_rule, str(rule), fallback=reason,
                           normal_windows=len(normal_scores))


__all__ = ["ChosenThreshold", "ThresholdRule", "choose_threshold", "fpr_threshold"]
