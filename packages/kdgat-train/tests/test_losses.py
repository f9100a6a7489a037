import torch
import torch.nn.functional as F
from kdgat_train.modules.classifier import GraphClassifierModule
from kdgat_train.modules.focal_loss import focal_loss


def test_focal_with_gamma_zero_is_cross_entropy_and_down_weights_easy_examples():
    logits, target = torch.tensor([[4.0, -4.0], [0.1, 0.0]]), torch.tensor([0, 0])
    torch.testing.assert_close(focal_loss(logits, target, gamma=0.0), F.cross_entropy(logits, target))
    per_example = [focal_loss(logits[i : i + 1], target[i : i + 1], gamma=2.0) / F.cross_entropy(logits[i : i + 1], target[i : i + 1]) for i in range(2)]
    assert per_example[0] < per_example[1]  # the confident, correct example is scaled down far more


def test_weighted_ce_uses_inverse_class_frequency():
    module = GraphClassifierModule(net=torch.nn.Identity(), loss="weighted_ce", class_counts=torch.tensor([90.0, 10.0]))
    torch.testing.assert_close(module.class_weight, torch.tensor([100 / 180, 100 / 20]))
    logits, y = torch.randn(6, 2), torch.tensor([0, 1, 0, 1, 0, 0])
    torch.testing.assert_close(module._loss(logits, y), F.cross_entropy(logits, y, weight=module.class_weight))
    plain = GraphClassifierModule(net=torch.nn.Identity(), loss="ce", class_counts=torch.tensor([90.0, 10.0]))
    torch.testing.assert_close(plain._loss(logits, y), F.cross_entropy(logits, y))
