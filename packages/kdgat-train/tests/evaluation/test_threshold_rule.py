"""The one threshold rule: parsing, each rule on validation, and the fallback on one-class or tiny validation."""

import numpy as np
import pytest
from kdgat_train.config.settings import EvaluationSettings
from kdgat_train.evaluation.threshold_rule import ThresholdRule, choose_threshold, fpr_threshold


def _validation(normals: int, attacks: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    scores = np.concatenate([rng.normal(0, 1, normals), rng.normal(3, 1, attacks)])
    return scores, np.array([0] * normals + [1] * attacks)


def test_rules_parse_and_bad_rules_name_the_forms():
    assert ThresholdRule.parse("fpr:0.05") == ThresholdRule("fpr", 0.05)
    assert str(ThresholdRule.parse("fixed:0.5")) == "fixed:0.5" and ThresholdRule.parse("youden").kind == "youden"
    assert ThresholdRule.parse("f1@fpr:0.05") == ThresholdRule("f1@fpr", 0.05)
    assert EvaluationSettings(threshold="f1@fpr:0.050").threshold == "f1@fpr:0.05"
    for bad in ("f2", "fpr", "fpr:1.5", "fixed:x", "youden:3", "f1@fpr", "f1@fpr:1"):
        with pytest.raises(ValueError, match="evaluation.threshold"):
            ThresholdRule.parse(bad)
    with pytest.raises(ValueError, match="f1, youden, fpr:<rate>, f1@fpr:<rate>, fixed:<value>"):
        EvaluationSettings(threshold="median")


def test_fpr_threshold_gives_at_most_that_false_positive_rate():
    normals = np.random.default_rng(1).normal(size=1000)
    for rate in (0.0, 0.01, 0.05, 0.3):
        threshold = fpr_threshold(normals, rate)
        assert (normals > threshold).mean() <= rate
        assert (normals > threshold).mean() >= rate - 0.002  # and not far below it


def test_f1_and_youden_differ_and_use_validation():
    scores, labels = _validation(500, 60)
    f1 = choose_threshold(scores, labels, "f1")
    youden = choose_threshold(scores, labels, "youden")
    assert f1.fallback is None and f1.rule == "f1" and youden.rule == "youden"
    assert youden.value < f1.value  # Youden trades precision for recall under imbalance
    assert choose_threshold(scores, labels, "fixed:0.25").value == 0.25


def test_fallback_engages_on_one_class_or_tiny_validation_and_says_so():
    scores, labels = _validation(400, 0)  # a validation split without attacks (BATADAL)
    chosen = choose_threshold(scores, labels, "f1", min_class_windows=30)
    assert chosen.rule == "fpr:0.01" and chosen.configured == "f1"
    assert "0 attack windows" in chosen.fallback and chosen.tags()["threshold_fallback"] == chosen.fallback
    assert (scores > chosen.value).mean() <= 0.01
    # 13 normal windows (ROAD's validation tail): the training normals are added
    scores, labels = _validation(13, 300)
    training = np.random.default_rng(5).normal(0, 1, 2000)
    calls = []
    chosen = choose_threshold(scores, labels, "youden", min_class_windows=30,
                              training_normal_scores=lambda: calls.append(1) or training)
    assert calls == [1] and chosen.normal_windows == 2013 and "training windows added" in chosen.fallback
    assert (training > chosen.value).mean() <= 0.011
    # enough of both classes: no fallback, the training scores are never computed
    scores, labels = _validation(100, 100)
    choose_threshold(scores, labels, "f1", training_normal_scores=lambda: pytest.fail("training scores were read"))


def test_a_flag_everything_threshold_is_not_chosen_from_a_mostly_attack_validation_split():
    """With 13 normals, best F1 on validation flags every window; the fallback keeps FPR near 1 %."""
    rng = np.random.default_rng(2)
    scores = np.concatenate([rng.normal(0, 1, 13), rng.normal(0.5, 1, 600)])
    labels = np.array([0] * 13 + [1] * 600)
    naive = choose_threshold(scores, labels, "f1", min_class_windows=1)
    assert (scores[labels == 0] > naive.value).mean() > 0.9  # what the old rule did
    fallback = choose_threshold(scores, labels, "f1", training_normal_scores=lambda: rng.normal(0, 1, 3000))
    assert (rng.normal(0, 1, 5000) > fallback.value).mean() < 0.03


def test_f1_within_an_fpr_budget_puts_the_threshold_in_the_gap_and_keeps_the_budget():
    rng = np.random.default_rng(3)
    # separated classes: the plain normal quantile flags 5 % of the normals, the budgeted F1 none
    scores = np.concatenate([rng.uniform(0, 1, 600), rng.uniform(2, 3, 80)])
    labels = np.array([0] * 600 + [1] * 80)
    quantile = choose_threshold(scores, labels, "fpr:0.05")
    budgeted = choose_threshold(scores, labels, "f1@fpr:0.05")
    assert budgeted.rule == "f1@fpr:0.05" and budgeted.fallback is None
    assert (scores[labels == 0] > quantile.value).mean() == pytest.approx(0.05, abs=0.002)
    assert (scores[labels == 0] > budgeted.value).mean() == 0 and (scores[labels == 1] > budgeted.value).all()
    # overlapping classes: plain best F1 spends more than the budget, the budgeted rule does not
    scores, labels = _validation(500, 300, seed=4)
    free = choose_threshold(scores, labels, "f1")
    budgeted = choose_threshold(scores, labels, "f1@fpr:0.02")
    assert (scores[labels == 0] > free.value).mean() > 0.02
    assert (scores[labels == 0] > budgeted.value).mean() <= 0.02
    best_in_budget = max(_f1(scores, labels, t) for t in scores if (scores[labels == 0] > t).mean() <= 0.02)
    assert _f1(scores, labels, budgeted.value) == pytest.approx(best_in_budget)


def test_f1_within_an_fpr_budget_falls_back_on_its_own_rate():
    scores, labels = _validation(400, 5)  # too few attacks: the normal quantile at the same rate
    chosen = choose_threshold(scores, labels, "f1@fpr:0.05", min_class_windows=30)
    assert chosen.rule == "fpr:0.05" and chosen.configured == "f1@fpr:0.05" and "5 attack windows" in chosen.fallback
    assert chosen.value == fpr_threshold(scores[labels == 0], 0.05)


def _f1(scores, labels, threshold):
    predicted = scores > threshold
    tp = (predicted & (labels == 1)).sum()
    return 2 * tp / max(predicted.sum() + (labels == 1).sum(), 1)
