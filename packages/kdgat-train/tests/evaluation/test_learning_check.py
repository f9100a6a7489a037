"""A validation AUROC within noise of chance is flagged; one that ranks, or an undefined one, is not."""

import math

from kdgat_train.evaluation.learning_check import chance_auroc_noise, learned_nothing


def _val(auroc, attack=65, normal=416):
    return {"val/auroc": auroc, "val/attack_windows": attack, "val/normal_windows": normal}


def test_chance_and_learning_are_told_apart():
    assert math.isclose(chance_auroc_noise(65, 416), math.sqrt(482 / (12 * 65 * 416)))
    assert "within noise of chance" in learned_nothing(_val(0.47))
    assert "within noise of chance" in learned_nothing(_val(0.55))
    assert learned_nothing(_val(0.62)) is None and learned_nothing(_val(0.30)) is None  # below chance ranks (inverted)
    assert learned_nothing(_val(0.55, attack=5, normal=20)) is not None  # few windows: wider noise
    assert learned_nothing(_val(float("nan"))) is None and learned_nothing(_val(0.5, attack=0)) is None
