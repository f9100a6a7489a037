import pytest
import torch
from kdgat_models.fusion import DQNFusionAgent, EpsilonSchedule, QNetwork, fused_score, predict


def _agent(**kwargs) -> DQNFusionAgent:
    torch.manual_seed(0)
    return DQNFusionAgent(q_network=QNetwork(hidden_dim=16, num_layers=2), generator=torch.Generator().manual_seed(0), **kwargs)


def test_epsilon_decays_on_every_act_call_as_scheduled():
    schedule = EpsilonSchedule(start=1.0, end=0.1, decay_steps=10)
    agent = _agent(epsilon=schedule)
    seen = []
    for _ in range(30):
        seen.append(agent.current_epsilon)
        agent.act(torch.randn(4, 15))
    assert seen[0] == 1.0
    assert seen == sorted(seen, reverse=True) and seen[-1] < 0.2
    assert seen[10] == pytest.approx(schedule(10))
    assert agent.steps == 30


def test_greedy_when_epsilon_is_zero():
    agent = _agent(epsilon=EpsilonSchedule(start=0.0, end=0.0))
    state = torch.randn(64, 15)
    greedy = agent.online(state).argmax(-1)
    assert torch.equal(agent.act(state), greedy)


def test_fully_random_when_epsilon_is_one():
    agent = _agent(epsilon=EpsilonSchedule(start=1.0, end=1.0))
    actions = agent.act(torch.randn(2000, 15))
    assert len(actions.unique()) == 21


def test_target_network_syncs_every_n_updates():
    agent = _agent(batch_size=8, target_sync_every=3)
    agent.remember(torch.randn(64, 15), torch.randint(0, 21, (64,)), torch.randn(64), torch.randn(64, 15), torch.zeros(64))

    def same() -> bool:
        return all(torch.equal(a, b) for a, b in zip(agent.online.state_dict().values(), agent.target.state_dict().values(), strict=True))

    assert same()
    agent.update()
    agent.update()
    assert not same()  # two updates: online moved, target not yet
    agent.update()
    assert same()  # third update: synced


def test_learns_the_rewarded_action():
    agent = _agent(batch_size=64, learning_rate=1e-2, epsilon=EpsilonSchedule(start=1.0, end=1.0))
    states = torch.randn(512, 15)
    actions = agent.act(states)
    rewards = (actions == 17).float()
    agent.remember(states, actions, rewards, states, torch.ones(512))
    for _ in range(300):
        agent.update()
    assert (agent.act(torch.randn(100, 15), explore=False) == 17).float().mean() > 0.9


def test_prediction_follows_the_fused_score_not_the_action_index():
    anomaly = torch.tensor([0.9, 0.1, 0.6])
    p_attack = torch.tensor([0.1, 0.9, 0.6])
    alpha = torch.tensor([1.0, 1.0, 0.0])  # alpha > 0.5 everywhere but the last
    score = fused_score(alpha, anomaly, p_attack)
    torch.testing.assert_close(score, torch.tensor([0.1, 0.9, 0.6]))
    assert predict(score, 0.5).tolist() == [0, 1, 1]
    assert predict(score, 0.95).tolist() == [0, 0, 0]  # changing the threshold changes the prediction
    agent = _agent()
    fused, prediction = agent.fuse(torch.randn(3, 15), anomaly, p_attack, threshold=0.5)
    assert torch.equal(prediction, (fused > 0.5).long())
    _, flipped = agent.fuse(torch.randn(3, 15), torch.ones(3), torch.ones(3), threshold=0.5)
    assert flipped.tolist() == [1, 1, 1]  # any alpha: fused = 1


def test_q_network_uses_its_configured_width():
    network = QNetwork(hidden_dim=37, num_layers=3)
    widths = [m.out_features for m in network.net if isinstance(m, torch.nn.Linear)]
    assert widths == [37, 37, 37, 21]
    assert network(torch.randn(5, 15)).shape == (5, 21)
