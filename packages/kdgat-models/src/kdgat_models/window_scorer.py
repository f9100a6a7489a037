"""`WindowScorer`: a trained GAT, VGAE or DQN fusion as one deployable function of a batch of windows.

Every scorer has the same flat signature, so one export path (ONNX, TorchScript) and one streaming
detector serve all three families:

    (x, node_id, edge_index, edge_attr, batch, node_ptr) -> (score (G,), node_score (N,))

``score`` is the window's attack score as evaluation thresholds it (GAT: P(attack); VGAE: the
anomaly score of `kdgat_models.vgae.anomaly_score`; fusion: the fused score of the greedy DQN
action), ``node_score`` says which nodes drove it (GAT: the attention its messages get from its
neighbours in the last layer, summed over its out-edges and averaged over heads; VGAE and fusion: the node's feature + neighbourhood reconstruction
error). Graphs must carry their self-loops already (`kdgat_models.self_loops.ensure_self_loops`),
as in training. ``G`` is read from ``node_ptr``'s shape, never from the data, and the VGAE lays its
windows out at a fixed width (the window length), so exported graphs have no data-dependent sizes.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from kdgat_models.fusion.state import STATE_FEATURES, fused_score, fusion_state
from kdgat_models.gat import GATWithJK
from kdgat_models.score_functions import attack_probability, empirical_cdf
from kdgat_models.segment_ops import segment_mean, segment_sum
from kdgat_models.vgae import GraphAutoencoderNeighborhood, anomaly_score, node_errors
from kdgat_models.window_mlp import WindowMLP

INPUT_NAMES = ("x", "node_id", "edge_index", "edge_attr", "batch", "node_ptr")
OUTPUT_NAMES = ("score", "node_score")


class WindowScorer(nn.Module):
    """Base of the three scorers: eval mode, frozen, and the shared signature (see the module docstring).

    Shapes:
        x: (N, F) float. node_id: (N,) long. edge_index: (2, E) long, self-loops included.
        edge_attr: (E, F_e) float. batch: (N,) long, sorted. node_ptr: (G + 1,) long.
        Returns score (G,) and node_score (N,), float.
    """

    family: str = ""

    def freeze(self) -> WindowScorer:
        self.eval()
        for parameter in self.parameters():
            parameter.requires_grad_(False)
        return self


def _vgae_parts(vgae: GraphAutoencoderNeighborhood, x: Tensor, node_id: Tensor, edge_index: Tensor,
                edge_attr: Tensor, batch: Tensor, num_graphs: int, window: int, anomaly_only: bool = False):
    """VGAE output, per-node errors, per-graph errors and the raw anomaly score of each graph
    (``anomaly_only``: only the errors the score reads, see `kdgat_models.vgae.node_errors`)."""
    output = vgae(x, node_id, edge_index, edge_attr)
    errors = node_errors(output, x, node_id, edge_index, batch, num_graphs, window, anomaly_only)  # each (N,)
    graph_errors = {name: segment_mean(error, batch, num_graphs) for name, error in errors.items()}
    return output, errors, graph_errors, anomaly_score(graph_errors)


class GATWindowScorer(WindowScorer):
    """P(attack) of a `GATWithJK`, and per node the last layer's attention on its messages.

    Args:
        gat: the trained classifier (built with ``add_self_loops=False``: the data carries them).
    """

    family = "gat"

    def __init__(self, *, gat: GATWithJK) -> None:
        super().__init__()
        self.gat = gat
        self.freeze()

    def forward(self, x: Tensor, node_id: Tensor, edge_index: Tensor, edge_attr: Tensor, batch: Tensor,
                node_ptr: Tensor) -> tuple[Tensor, Tensor]:
        num_graphs = node_ptr.shape[0] - 1
        out = self.gat(x, node_id, edge_index, edge_attr, batch, num_graphs, return_attention=True)
        score = attack_probability(out.logits.float())  # (G,)
        attention_index, alpha = out.attention[-1]  # (2, E), (E, heads)
        # each destination's attention sums to 1 over its in-edges; what a node's messages get is the signal
        return score, segment_sum(alpha.mean(-1), attention_index[0], x.shape[0])  # (N,) over out-edges


class VGAEWindowScorer(WindowScorer):
    """The anomaly score of a `GraphAutoencoderNeighborhood`, and each node's share of it.

    Args:
        vgae: the trained autoencoder (``add_self_loops=False``).
        window: W, the most nodes a window can have (the width of its dense layout).
    """

    family = "vgae"

    def __init__(self, *, vgae: GraphAutoencoderNeighborhood, window: int) -> None:
        super().__init__()
        self.vgae, self.window = vgae, window
        self.freeze()

    def forward(self, x: Tensor, node_id: Tensor, edge_index: Tensor, edge_attr: Tensor, batch: Tensor,
                node_ptr: Tensor) -> tuple[Tensor, Tensor]:
        num_graphs = node_ptr.shape[0] - 1
        _, errors, _, score = _vgae_parts(self.vgae, x, node_id, edge_index, edge_attr, batch, num_graphs, self.window,
                                          anomaly_only=True)
        return score.float(), (errors["features"] + errors["neighbourhood"]).float()


def fusion_parts(vgae: GraphAutoencoderNeighborhood, gat: GATWithJK, x: Tensor, node_id: Tensor, edge_index: Tensor,
                 edge_attr: Tensor, batch: Tensor, num_graphs: int, window: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """What the DQN fusion sees of each window, from its frozen VGAE and GAT: the fusion's training inputs
    and `FusionWindowScorer` both compute it here.

    Shapes:
        as `WindowScorer`. Returns the 15-value state (G, 15) with the RAW anomaly score in its anomaly
        column, the raw anomaly score (G,), P(attack) (G,) and each node's reconstruction error (N,).
    """
    output, errors, graph_errors, raw = _vgae_parts(vgae, x, node_id, edge_index, edge_attr, batch, num_graphs, window)
    classified = gat(x, node_id, edge_index, edge_attr, batch, num_graphs)
    state = fusion_state(graph_errors, raw, output.mu, output.logvar, batch, num_graphs,
                         classified.logits.float(), classified.embedding.float()).float()  # (G, 15)
    return (state, raw.float(), attack_probability(classified.logits.float()),
            (errors["features"] + errors["neighbourhood"]).float())


class FusionWindowScorer(WindowScorer):
    """The fused score of a DQN over a frozen VGAE and GAT, with the greedy (no exploration) action.

    The VGAE score enters as its empirical CDF among the normal training windows' scores (the
    reference), as in training: ``share of references <= raw``.

    Args:
        vgae, gat: the fused runs' networks. q_network: the DQN's online network (15 -> A actions).
        reference: (R,) raw VGAE anomaly scores of the normal training windows.
        window: W, the most nodes a window can have.
    """

    family = "dqn"

    def __init__(self, *, vgae: GraphAutoencoderNeighborhood, gat: GATWithJK, q_network: nn.Module, reference: Tensor,
                 window: int) -> None:
        super().__init__()
        if reference.numel() == 0:
            raise ValueError("the fusion scorer needs the normal training windows' VGAE scores (none given)")
        self.vgae, self.gat, self.q_network, self.window = vgae, gat, q_network, window
        self.register_buffer("reference", torch.sort(reference.float()).values)
        self.anomaly_column = STATE_FEATURES.index("vgae_anomaly_score")
        self.freeze()

    def forward(self, x: Tensor, node_id: Tensor, edge_index: Tensor, edge_attr: Tensor, batch: Tensor,
                node_ptr: Tensor) -> tuple[Tensor, Tensor]:
        state, raw, p_attack, node_score = fusion_parts(self.vgae, self.gat, x, node_id, edge_index, edge_attr, batch,
                                                        node_ptr.shape[0] - 1, self.window)
        anomaly = empirical_cdf(self.reference, raw)  # (G,) in [0, 1], as in training
        state = torch.cat([state[:, : self.anomaly_column], anomaly.unsqueeze(1), state[:, self.anomaly_column + 1 :]], 1)
        q_values = self.q_network(state)  # (G, A)
        alpha = q_values.argmax(-1).float() / (q_values.shape[-1] - 1)  # greedy; the alphas are linspace(0, 1, A)
        return fused_score(alpha, anomaly, p_attack), node_score


class MLPWindowScorer(WindowScorer):
    """P(attack) of a `WindowMLP`; it reads no edge and attributes nothing to single nodes, so each node's
    score is its window's.

    Args:
        mlp: the trained graph-less classifier.
    """

    family = "mlp"

    def __init__(self, *, mlp: WindowMLP) -> None:
        super().__init__()
        self.mlp = mlp
        self.freeze()

    def forward(self, x: Tensor, node_id: Tensor, edge_index: Tensor, edge_attr: Tensor, batch: Tensor,
                node_ptr: Tensor) -> tuple[Tensor, Tensor]:
        score = attack_probability(self.mlp(x, node_id, batch, node_ptr.shape[0] - 1).logits.float())  # (G,)
        return score, score[batch]  # (N,)
