"""The fusion comparators' threshold falls back on normal training windows like every other threshold."""

import pytest
import torch
from kdgat_train.config.settings import EvaluationSettings
from kdgat_train.fusion.comparators import best_fixed_alpha
from kdgat_train.fusion.inputs import FusionInputs


def _inputs(anomaly, p_attack, y) -> FusionInputs:
    anomaly, p_attack = torch.as_tensor(anomaly, dtype=torch.float32), torch.as_tensor(p_attack, dtype=torch.float32)
    return FusionInputs(state=torch.zeros(len(anomaly), 15), anomaly=anomaly, p_attack=p_attack, y=torch.tensor(y))


def test_a_validation_split_without_normal_windows_uses_the_training_normals():
    """A DoS flood fills every validation window: no normal window to cut on, so the normal training
    windows set each alpha's threshold (before, the stage stopped with 'no normal windows')."""
    generator = torch.Generator().manual_seed(0)
    val = _inputs(torch.rand(40, generator=generator) * 0.5 + 0.5, torch.rand(40, generator=generator), [1] * 40)
    train = _inputs(torch.rand(60, generator=generator) * 0.4, torch.rand(60, generator=generator), [0] * 60)
    rule = EvaluationSettings(threshold="fpr:0.05")
    with pytest.raises(ValueError, match="no normal windows to fall back on"):
        best_fixed_alpha(val, rule, grid=5)
    alpha = best_fixed_alpha(val, rule, grid=5, train=train)
    assert alpha < 0.5  # the anomaly score separates the flood from the training normals; the random p_attack does not
