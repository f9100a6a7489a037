"""Detection metrics match scikit-learn, are honest for degenerate predictors, and thresholds are Youden's J."""

import numpy as np
import pytest
from kdgat_train.evaluation.metrics import binary_metrics, detection_rate_at_fpr, roc_points, youden_threshold
from sklearn import metrics as sk


@pytest.fixture
def case():
    rng = np.random.default_rng(0)
    labels = (rng.random(500) < 0.08).astype(int)
    scores = rng.normal(labels * 1.5, 1.0)
    return scores, labels


def test_matches_sklearn_on_a_fixed_case(case):
    scores, labels = case
    threshold = 0.7
    predicted = (scores > threshold).astype(int)
    got = binary_metrics(scores, labels, threshold)
    expected = {
        "accuracy": sk.accuracy_score(labels, predicted), "precision": sk.precision_score(labels, predicted),
        "recall": sk.recall_score(labels, predicted), "f1": sk.f1_score(labels, predicted),
        "mcc": sk.matthews_corrcoef(labels, predicted), "balanced_accuracy": sk.balanced_accuracy_score(labels, predicted),
        "auroc": sk.roc_auc_score(labels, scores), "auprc": sk.average_precision_score(labels, scores),
    }
    tn, fp, fn, tp = sk.confusion_matrix(labels, predicted).ravel()
    expected["fpr"] = fp / (fp + tn)
    expected |= {"true_negatives": tn, "false_positives": fp, "false_negatives": fn, "true_positives": tp}
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-5), key


def test_roc_and_detection_rate_match_sklearn(case):
    scores, labels = case
    fpr, tpr, _ = roc_points(scores, labels)
    sk_fpr, sk_tpr, _ = sk.roc_curve(labels, scores, drop_intermediate=False)
    assert np.allclose(fpr, sk_fpr) and np.allclose(tpr, sk_tpr)
    for budget in (0.01, 0.001, 0.1):
        assert detection_rate_at_fpr(scores, labels, budget) == pytest.approx(sk_tpr[sk_fpr <= budget].max())


def test_youden_threshold_maximises_j(case):
    scores, labels = case
    threshold = youden_threshold(scores, labels)
    j = lambda t: ((scores > t) & (labels == 1)).sum() / labels.sum() - ((scores > t) & (labels == 0)).sum() / (labels == 0).sum()  # noqa: E731
    assert j(threshold) == pytest.approx(max(j(t) for t in np.concatenate([scores, [scores.min() - 1]])))


def test_all_attack_predictor_is_reported_honestly(case):
    _, labels = case
    share = labels.mean()
    got = binary_metrics(np.ones(len(labels)), labels, threshold=0.5)
    assert got["precision"] == pytest.approx(share)
    assert got["recall"] == 1.0 and got["fpr"] == 1.0
    assert got["f1"] == pytest.approx(2 * share / (1 + share))
    assert got["accuracy"] == pytest.approx(share)  # accuracy of "all attack" is the attack share, not 92 %


def test_undefined_rates_are_nan_not_zero_or_one():
    import math

    only_attacks = binary_metrics(np.array([0.9, 0.2]), np.array([1, 1]), 0.5)
    assert math.isnan(only_attacks["fpr"]) and only_attacks["recall"] == 0.5 and math.isnan(only_attacks["auroc"])
    only_normal = binary_metrics(np.array([0.9, 0.2]), np.array([0, 0]), 0.5)
    assert math.isnan(only_normal["recall"]) and only_normal["fpr"] == 0.5


def test_a_detector_that_flags_nothing_or_everything_has_no_correlation(case):
    _, labels = case
    for constant in (0.0, 1.0):  # torchmetrics 1.x gave MCC 0.27 for "flag nothing" here
        assert binary_metrics(np.full(len(labels), constant), labels, threshold=0.5)["mcc"] == 0.0


def test_f1_at_5pct_fpr_is_the_best_f1_a_threshold_reaches_within_that_false_alarm_rate():
    import numpy as np
    from kdgat_train.evaluation.metrics import best_f1_at_fpr, binary_metrics

    labels = np.array([0] * 100 + [1] * 10)
    separated = np.r_[np.linspace(0, 0.5, 100), np.linspace(0.6, 1, 10)]
    assert best_f1_at_fpr(separated, labels, 0.05) == 1.0
    # the attacks sit among the top 10 % of normal scores: within 5 % FPR only the 5 highest attacks are reachable
    mixed = np.r_[np.linspace(0, 1, 100), np.linspace(0.905, 0.995, 10)]
    at_5 = best_f1_at_fpr(mixed, labels, 0.05)
    assert 0 < at_5 < best_f1_at_fpr(mixed, labels, 1.0)
    metrics = binary_metrics(mixed, labels, threshold=2.0)  # a threshold above every score: F1 0
    assert metrics["f1"] == 0.0 and metrics["f1_at_5pct_fpr"] == at_5  # the figure ignores the threshold
    assert np.isnan(binary_metrics(mixed[:100], labels[:100], 0.5)["f1_at_5pct_fpr"])  # one class: undefined
