"""Binary detection metrics from window scores (DESIGN.md §4), honest under heavy imbalance.

Scores are any monotone "attack-ness" (a probability or a reconstruction error); a window is
predicted attack when its score is strictly above the threshold. Thresholds are chosen on the
validation split (Youden's J for the VGAE) and then reused unchanged on every test scenario.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torchmetrics.functional.classification import (
    binary_accuracy,
    binary_auroc,
    binary_average_precision,
    binary_f1_score,
    binary_precision,
    binary_recall,
    binary_specificity,
)


def roc_points(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, tpr, thresholds)``: predicting ``score > thresholds[i]`` gives ``fpr[i], tpr[i]``.

    The first point is the all-normal predictor (threshold = the largest score).
    """
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels).astype(bool)
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_labels = scores[order], labels[order]
    distinct = np.flatnonzero(np.diff(sorted_scores)) if len(scores) > 1 else np.zeros(0, np.int64)
    ends = np.concatenate([distinct, [len(scores) - 1]]) if len(scores) else np.zeros(0, np.int64)
    tp = np.concatenate([[0], np.cumsum(sorted_labels)[ends]])
    fp = np.concatenate([[0], np.cumsum(~sorted_labels)[ends]])
    positives, negatives = max(labels.sum(), 1), max((~labels).sum(), 1)
    # after taking every window down to ends[i], the threshold is the next (lower) distinct score
    lower = np.concatenate([sorted_scores[ends[:-1] + 1], [-np.inf]]) if len(scores) else np.zeros(0)
    thresholds = np.concatenate([[sorted_scores[0] if len(scores) else np.inf], lower])
    return fp / negatives, tp / positives, thresholds


def _f1_curve(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, f1, thresholds)`` at every point of `roc_points`."""
    fpr, tpr, thresholds = roc_points(scores, labels)
    labels = np.asarray(labels).astype(bool)
    true_positives, false_positives = tpr * labels.sum(), fpr * (~labels).sum()
    return fpr, 2 * true_positives / np.maximum(true_positives + false_positives + labels.sum(), 1e-12), thresholds


def youden_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The threshold maximising TPR - FPR (Youden's J) on these (validation) scores."""
    fpr, tpr, thresholds = roc_points(scores, labels)
    best = int(np.argmax(tpr - fpr))
    return float(thresholds[best]) if np.isfinite(thresholds[best]) else float(np.min(scores)) - 1.0


def best_f1_threshold(scores: np.ndarray, labels: np.ndarray, max_fpr: float | None = None) -> float:
    """The threshold maximising F1 on these (validation) scores; with ``max_fpr``, among the
    thresholds whose FPR on these scores is at most ``max_fpr`` (flagging nothing always is)."""
    fpr, f1, thresholds = _f1_curve(scores, labels)
    if max_fpr is not None:
        f1 = np.where(fpr <= max_fpr, f1, -1.0)
    best = int(np.argmax(f1))
    return float(thresholds[best]) if np.isfinite(thresholds[best]) else float(np.min(scores)) - 1.0


def best_f1_at_fpr(scores: np.ndarray, labels: np.ndarray, max_fpr: float) -> float:
    """The best F1 any threshold reaches with FPR <= ``max_fpr`` on these scores. Read on test labels it is
    a threshold-free figure of how well the scores rank (as AUROC is), not the F1 of a detector: set
    beside the F1 at the validation threshold, it tells a threshold that is off from a model that
    does not rank."""
    fpr, f1, _ = _f1_curve(scores, labels)
    return float(f1[fpr <= max_fpr].max())


def detection_rate_at_fpr(scores: np.ndarray, labels: np.ndarray, max_fpr: float) -> float:
    """Largest TPR reachable with FPR <= ``max_fpr``."""
    fpr, tpr, _ = roc_points(scores, labels)
    return float(tpr[fpr <= max_fpr].max())


def _mcc(predicted: torch.Tensor, y: torch.Tensor) -> float:
    """Matthews correlation from the confusion counts; 0 when the prediction (or the truth) is one
    class, where it is undefined (scikit-learn's convention, which tests/test_metrics.py checks this
    equals; torchmetrics 1.x returns 0.27 for "flag nothing" on 7 of 39 attacks). Computed here
    rather than by scikit-learn: importing sklearn.metrics cost a quick check 0.4-1 s."""
    tp = float(((predicted == 1) & (y == 1)).sum())
    tn = float(((predicted == 0) & (y == 0)).sum())
    fp = float(((predicted == 1) & (y == 0)).sum())
    fn = float(((predicted == 0) & (y == 1)).sum())
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return 0.0 if denominator == 0 else (tp * tn - fp * fn) / denominator


def binary_metrics(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """Accuracy, precision, recall, F1, MCC, balanced accuracy, FPR, AUROC, AUPRC, detection rate at
    1 % and 0.1 % FPR, class counts and the confusion matrix, for ``prediction = score > threshold``;
    and ``f1_at_5pct_fpr`` (`best_f1_at_fpr`), which does not depend on the threshold."""
    s = torch.as_tensor(np.array(scores, np.float64))  # a copy: polars and memory-mapped arrays are read-only
    y = torch.as_tensor(np.asarray(labels).astype(np.int64))
    predicted = (s > threshold).long()
    both_classes = bool(y.min() != y.max())
    # a split without attack (normal) windows has no recall (FPR): NaN, never a made-up 0 or 1
    recall = float(binary_recall(predicted, y)) if bool((y == 1).any()) else float("nan")
    specificity = float(binary_specificity(predicted, y)) if bool((y == 0).any()) else float("nan")
    return {
        "accuracy": float(binary_accuracy(predicted, y)),
        "precision": float(binary_precision(predicted, y)),
        "recall": recall,
        "f1": float(binary_f1_score(predicted, y)),
        "mcc": _mcc(predicted, y),
        "balanced_accuracy": (recall + specificity) / 2,
        "fpr": 1.0 - specificity,
        "auroc": float(binary_auroc(s.float(), y)) if both_classes else float("nan"),
        "auprc": float(binary_average_precision(s.float(), y)) if both_classes else float("nan"),
        "f1_at_5pct_fpr": best_f1_at_fpr(scores, labels, 0.05) if both_classes else float("nan"),
        "detection_rate_at_1pct_fpr": detection_rate_at_fpr(scores, labels, 0.01) if both_classes else float("nan"),
        "detection_rate_at_0.1pct_fpr": detection_rate_at_fpr(scores, labels, 0.001) if both_classes else float("nan"),
        "threshold": float(threshold),
        "attack_windows": float(y.sum()),
        "normal_windows": float((1 - y).sum()),
        # the confusion matrix
        "true_positives": float(((predicted == 1) & (y == 1)).sum()),
        "false_positives": float(((predicted == 1) & (y == 0)).sum()),
        "true_negatives": float(((predicted == 0) & (y == 0)).sum()),
        "false_negatives": float(((predicted == 0) & (y == 1)).sum()),
    }
