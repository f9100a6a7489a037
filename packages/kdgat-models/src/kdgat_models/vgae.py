"""`GraphAutoencoderNeighborhood`: the variational graph autoencoder of the KD-GAT anomaly detector.

A GAT encoder maps each node (CAN-ID embedding ++ continuous features) to a Gaussian latent
(mu, logvar); three decoders reconstruct from the sampled z the node's continuous features
(sigmoid), its CAN ID (classification over the vocabulary) and its neighbourhood (multi-label over
the vocabulary: which IDs it exchanges transitions with). Reconstruction errors per graph are the
anomaly scores. Kipf & Welling, "Variational Graph Auto-Encoders", 2016; KD-GAT (Frenken et al.).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import scatter

from kdgat_models.gat_conv import EdgeGATConv
from kdgat_models.self_loops import ensure_self_loops


@dataclass
class VGAEOutput:
    """Every part the losses and the fusion state need.

    Shapes (N nodes, L latent, V vocabulary, F continuous features):
        mu, logvar, z: (N, L). x_reconstruction: (N, F) in [0, 1].
        id_logits: (N, V). neighbourhood_logits: (N, V); both None without ID decoders.
    """

    mu: Tensor
    logvar: Tensor
    z: Tensor
    x_reconstruction: Tensor
    id_logits: Tensor | None
    neighbourhood_logits: Tensor | None


class GraphAutoencoderNeighborhood(nn.Module):
    """VGAE with feature, CAN-ID and neighbourhood decoders (Kipf & Welling 2016; KD-GAT, Frenken et al. 2025).

    Args:
        num_ids: vocabulary size including UNK (rows of the embedding, classes of the ID decoder).
        in_channels: continuous node features (10 for CAN windows).
        edge_dim: edge features used by the encoder's attention, or ``None``.
        id_embedding_dim: width of the ID embedding; 0 = no embedding (no fixed entity vocabulary).
        hidden_dim: output width of the first GAT encoder layer; each further layer halves it
            (teacher 1024 -> 512, student 80 -> 40). Split over ``heads``, concatenated.
        num_layers: GAT encoder layers.
        latent_dim: width of mu, logvar and z.
        heads: attention heads per encoder layer; every layer width must divide by it.
        decoder_hidden_dim: hidden width of the three decoders (default: 2 x latent_dim).
        dropout: dropout after each encoder layer.
        decode_ids: build the CAN-ID and neighbourhood decoders (they predict vocabulary entries;
            switch them off for domains without a fixed entity vocabulary).
        add_self_loops: add missing self-loops in ``forward``; ``False`` expects looped data (see `self_loops`).

    Shapes:
        x: (N, in_channels). node_id: (N,) long. edge_index: (2, E). edge_attr: (E, edge_dim).
    """

    def __init__(
        self,
        num_ids: int,
        in_channels: int = 10,
        edge_dim: int | None = 11,
        id_embedding_dim: int = 4,
        hidden_dim: int = 80,
        num_layers: int = 2,
        latent_dim: int = 16,
        heads: int = 1,
        decoder_hidden_dim: int | None = None,
        dropout: float = 0.1,
        decode_ids: bool = True,
        add_self_loops: bool = True,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError("num_layers must be at least 1")
        encoder_dims = [hidden_dim // 2**i for i in range(num_layers)]
        if any(d < heads or d % heads for d in encoder_dims):
            raise ValueError(f"encoder widths {encoder_dims} (hidden_dim halved per layer) must divide by heads={heads}")
        # 0 = no entity embedding: domains whose entities (e.g. hosts) have no fixed vocabulary
        self.id_embedding = nn.Embedding(num_ids, id_embedding_dim) if id_embedding_dim > 0 else None
        widths = [in_channels + id_embedding_dim, *encoder_dims]
        self.encoder = nn.ModuleList(
            EdgeGATConv(widths[i], widths[i + 1] // heads, heads=heads, edge_dim=edge_dim)
            for i in range(len(encoder_dims))
        )
        self.dropout = nn.Dropout(dropout)
        self.mu = nn.Linear(widths[-1], latent_dim)
        self.logvar = nn.Linear(widths[-1], latent_dim)
        hidden = decoder_hidden_dim or 2 * latent_dim

        def decoder(out: int) -> nn.Sequential:
            return nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, out))

        self.feature_decoder = decoder(in_channels)
        # the ID and neighbourhood decoders predict vocabulary entries: off without a fixed vocabulary
        self.id_decoder = decoder(num_ids) if decode_ids else None
        self.neighbourhood_decoder = decoder(num_ids) if decode_ids else None
        self.uses_edge_attr = edge_dim is not None
        self.latent_dim = latent_dim
        self.num_ids = num_ids
        self.add_self_loops = add_self_loops

    def encode(self, x: Tensor, node_id: Tensor, edge_index: Tensor, edge_attr: Tensor | None) -> tuple[Tensor, Tensor]:
        h = torch.cat([self.id_embedding(node_id), x], dim=-1) if self.id_embedding is not None else x  # (N, emb + F)
        edge_attr = edge_attr if self.uses_edge_attr else None
        if self.add_self_loops:
            edge_index, edge_attr = ensure_self_loops(edge_index, edge_attr, h.size(0))
        for conv in self.encoder:
            h = self.dropout(torch.relu(conv(h, edge_index, edge_attr)))  # (N, encoder_dims[i])
        return self.mu(h), self.logvar(h).clamp(-10.0, 10.0)  # (N, L) each

    def forward(self, x: Tensor, node_id: Tensor, edge_index: Tensor, edge_attr: Tensor | None) -> VGAEOutput:
        mu, logvar = self.encode(x, node_id, edge_index, edge_attr)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu  # (N, L)
        return VGAEOutput(
            mu=mu, logvar=logvar, z=z,
            x_reconstruction=torch.sigmoid(self.feature_decoder(z)),
            id_logits=self.id_decoder(z) if self.id_decoder is not None else None,
            neighbourhood_logits=self.neighbourhood_decoder(z) if self.neighbourhood_decoder is not None else None,
        )

    def forward_batch(self, batch) -> VGAEOutput:
        """``forward`` on a PyG ``Batch`` (or ``Data``) with ``x``, ``node_id``, ``edge_index``, ``edge_attr``."""
        return self(batch.x, batch.node_id, batch.edge_index, batch.edge_attr)


def neighbourhood_targets(edge_index: Tensor, node_id: Tensor, num_ids: int) -> Tensor:
    """Multi-hot (N, V): ``[n, v] = 1`` if node n has an edge, either way, to a node with ID v.

    Self-loops do not count: a node is not its own neighbour.
    """
    src, dst = edge_index
    keep = src != dst
    src, dst = src[keep], dst[keep]
    targets = torch.zeros(node_id.size(0), num_ids, device=node_id.device)
    targets[src, node_id[dst]] = 1.0
    targets[dst, node_id[src]] = 1.0
    return targets


def node_errors(output: VGAEOutput, x: Tensor, node_id: Tensor, edge_index: Tensor) -> dict[str, Tensor]:
    """Per-node reconstruction errors, each (N,): features (MSE), CAN ID (CE), neighbourhood (BCE), KL.

    Without ID decoders (``decode_ids=False``) the CAN-ID and neighbourhood errors are zeros, so
    every consumer (loss, anomaly score, the 15-value fusion state) keeps its shape.
    """
    errors = {
        "features": F.mse_loss(output.x_reconstruction, x, reduction="none").mean(-1),
        "kl": -0.5 * (1 + output.logvar - output.mu.pow(2) - output.logvar.exp()).sum(-1),
    }
    if output.id_logits is None:
        zeros = torch.zeros_like(errors["features"])
        return {**errors, "can_id": zeros, "neighbourhood": zeros}
    targets = neighbourhood_targets(edge_index, node_id, output.id_logits.size(-1))
    return {
        **errors,
        "can_id": F.cross_entropy(output.id_logits, node_id, reduction="none"),
        "neighbourhood": F.binary_cross_entropy_with_logits(output.neighbourhood_logits, targets, reduction="none").mean(-1),
    }


def vgae_loss(
    output: VGAEOutput,
    x: Tensor,
    node_id: Tensor,
    edge_index: Tensor,
    id_weight: float = 0.1,
    neighbourhood_weight: float = 1.0,
    kl_weight: float = 0.01,
) -> Tensor:
    """MSE(features) + id_weight * CE(CAN ID) + neighbourhood_weight * BCE + kl_weight * KL, node means."""
    errors = node_errors(output, x, node_id, edge_index)
    return (
        errors["features"].mean()
        + id_weight * errors["can_id"].mean()
        + neighbourhood_weight * errors["neighbourhood"].mean()
        + kl_weight * errors["kl"].mean()
    )


def batch_graph_errors(output: VGAEOutput, batch) -> dict[str, Tensor]:
    """`graph_anomaly_scores` of a PyG ``Batch``: each node error averaged per graph, each (G,)."""
    return graph_anomaly_scores(output, batch.x, batch.node_id, batch.edge_index, batch.batch, batch.num_graphs)


def anomaly_score(graph_errors: dict[str, Tensor]) -> Tensor:
    """The VGAE's anomaly score of each graph: feature + neighbourhood reconstruction error.

    The one definition used by validation AUROC, evaluation thresholds, the curriculum's
    difficulty and the fusion state. Without ID decoders the neighbourhood error is zero and the
    score is the feature error alone.

    Shapes:
        graph_errors: per-graph errors from `graph_anomaly_scores`, each (G,). Returns (G,).
    """
    return graph_errors["features"] + graph_errors["neighbourhood"]


def graph_anomaly_scores(
    output: VGAEOutput, x: Tensor, node_id: Tensor, edge_index: Tensor, batch: Tensor, num_graphs: int
) -> dict[str, Tensor]:
    """Per-graph mean of each node error: ``features``, ``can_id``, ``neighbourhood``, ``kl``, each (G,)."""
    return {
        name: scatter(error, batch, dim=0, dim_size=num_graphs, reduce="mean")
        for name, error in node_errors(output, x, node_id, edge_index).items()
    }
