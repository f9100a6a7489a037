"""The fusion comparators' threshold falls back on normal training windows like every other threshold."""

import pytest
import torch
from kdgat_models.fusion import MLPFusion
from kdgat_train.config.settings import EvaluationSettings
from kdgat_train.fusion.comparators import best_fixed_alpha, mlp_scores, train_mlp_fusion
from kdgat_train.fusion.inputs import FusionInputs
from sklearn.metrics import roc_auc_score
from torch.nn.utils import parameters_to_vector


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


def test_the_mlp_comparator_learns_through_lightning_and_ranks_separable_states():
    generator = torch.Generator().manual_seed(3)
    y = (torch.rand(600, generator=generator) < 0.25).long()
    state = torch.randn(600, 15, generator=generator) + 2.0 * y[:, None] * (torch.arange(15) == 7)  # one column tells
    inputs = FusionInputs(state, torch.rand(600, generator=generator), torch.rand(600, generator=generator), y)
    torch.manual_seed(0)
    initial = parameters_to_vector(MLPFusion(state_dim=15).parameters())  # what train_mlp_fusion starts from
    mlp = train_mlp_fusion(inputs, epochs=5, learning_rate=1e-2, batch_size=64, seed=0, class_weights=torch.tensor([1.0, 3.0]))
    assert not torch.equal(parameters_to_vector(mlp.parameters()), initial)  # the Trainer fitted it
    assert roc_auc_score(y.numpy(), mlp_scores(mlp, inputs)) > 0.9
