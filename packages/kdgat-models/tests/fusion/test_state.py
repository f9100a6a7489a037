import torch
from kdgat_models.fusion import STATE_DIM, MLPFusion, attack_probability, fusion_state


def _state(logits):
    torch.manual_seed(0)
    batch = torch.tensor([0, 0, 1, 1, 1])
    scores = {name: torch.rand(2) for name in ("features", "can_id", "neighbourhood", "kl")}
    return fusion_state(scores, torch.rand(2), torch.randn(5, 4), torch.randn(5, 4), batch, 2, logits, torch.randn(2, 6))


def test_state_has_fifteen_values():
    assert STATE_DIM == 15
    assert _state(torch.randn(2, 2)).shape == (2, 15)


def test_gat_probabilities_are_softmaxed_exactly_once():
    logits = torch.tensor([[2.0, -1.0], [0.0, 3.0]])
    state = _state(logits)
    once = torch.softmax(logits, -1)
    twice = torch.softmax(once, -1)
    torch.testing.assert_close(state[:, 7], once[:, 1])
    torch.testing.assert_close(state[:, 8], once[:, 0])
    assert not torch.allclose(state[:, 7], twice[:, 1])
    torch.testing.assert_close(attack_probability(logits), once[:, 1])
    torch.testing.assert_close(state[:, 11], logits[:, 1] - logits[:, 0])


def test_mlp_fusion_comparator():
    assert MLPFusion(hidden_dim=8)(torch.randn(3, 15)).shape == (3, 2)
