"""`GraphAutoencoderNeighborhood`: the variational graph autoencoder of the KD-GAT anomaly detector.

A GAT encoder maps each node (CAN-ID embedding ++ continuous features) to a Gaussian latent
(mu, logvar); three decoders reconstruct from the sampled z the node's continuous features
(sigmoid), its CAN ID and its neighbourhood (which IDs it exchanges transitions with).
Reconstruction errors per graph are the anomaly scores. Kipf & Welling, "Variational Graph
Auto-Encoders", 2016; KD-GAT (Frenken et al.).

The ID and neighbourhood decoders keep one output row per vocabulary entry, but no vocabulary-wide
logit is computed (a vocabulary of 2049 IDs made them 9-18 M logits per batch of 256 windows): a
node is scored against the distinct IDs of its own window plus a sample of the vocabulary that
stands for the IDs outside the window, weighted V / k so that the neighbourhood error estimates
the vocabulary-wide mean BCE, and the ID error the vocabulary-wide softmax (sampled softmax with
its log-weight correction), without bias. In training the sample is ``sampled_negatives`` IDs
drawn at each step (shared by the batch's nodes); in scoring it is a fixed seeded sample of
``scoring_probes`` IDs, or the whole vocabulary when it is no larger (the vocabulary-wide errors
exactly).
"""

from __future__ import annotations

import math
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

    The ID and neighbourhood decoders are given as queries and keys: the logit that node i has
    (ID decoder) or neighbours (neighbourhood decoder) the ID of node j is ``query_i . key_j[:H] +
    key_j[H]``, where ``key_j`` is the decoder's output row (weight ++ bias) for node j's ID.

    Shapes (N nodes, L latent, H decoder hidden, F continuous features):
        mu, logvar, z: (N, L). x_reconstruction: (N, F) in [0, 1].
        id_query, neighbourhood_query: (N, H). id_key, neighbourhood_key: (N, H + 1); all four
        None without ID decoders.
        negative_ids: (k,) the vocabulary IDs standing for those outside each window, one sample shared
        by every node: drawn at this step (training) or the fixed probes (scoring); None without them;
        id_negative_logits, neighbourhood_negative_logits: (N, k) the decoders' logits for them.
    """

    mu: Tensor
    logvar: Tensor
    z: Tensor
    x_reconstruction: Tensor
    id_query: Tensor | None
    id_key: Tensor | None
    neighbourhood_query: Tensor | None
    neighbourhood_key: Tensor | None
    num_ids: int = 0  # V, the vocabulary size (the errors are vocabulary means)
    negative_ids: Tensor | None = None
    id_negative_logits: Tensor | None = None
    neighbourhood_negative_logits: Tensor | None = None


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
        sampled_negatives: k, vocabulary IDs sampled at each training step to stand for the IDs outside
            its window (0: the window's IDs only, a biased loss).
        scoring_probes: P, vocabulary IDs (a fixed seeded sample, all when V <= P) that stand for the
            IDs outside a window when scoring (0: the window's IDs only).

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
        sampled_negatives: int = 64,
        scoring_probes: int = 64,
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
        self.sampled_negatives = sampled_negatives if decode_ids else 0
        # scoring: a fixed, seeded sample of the vocabulary stands for the IDs outside a window (all of
        # them when the vocabulary is that small: the vocabulary-wide error exactly)
        probes = torch.randperm(num_ids, generator=torch.Generator().manual_seed(0))[:scoring_probes].sort().values
        self.register_buffer("probe_ids", probes if decode_ids else probes[:0], persistent=False)

    def extra_repr(self) -> str:
        return f"sampled_negatives={self.sampled_negatives}, scoring_probes={self.probe_ids.numel()}"

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
        id_query, id_key = _query_and_key(self.id_decoder, z, node_id)
        neighbourhood_query, neighbourhood_key = _query_and_key(self.neighbourhood_decoder, z, node_id)
        id_negative = neighbourhood_negative = None
        sample = None
        if id_query is not None and self.training and self.sampled_negatives > 0:
            # drawn afresh at every step and shared by the batch's nodes (one matmul; a per-node
            # draw made the gradient a scatter of N x k weight rows, most of a training step)
            sample = torch.randint(0, self.num_ids, (self.sampled_negatives,), device=node_id.device)
        elif id_query is not None and not self.training and self.probe_ids.numel() > 0:
            sample = self.probe_ids  # scoring: the fixed probe IDs
        if sample is not None:
            id_negative = id_query @ self.id_decoder[-1].weight[sample].T + self.id_decoder[-1].bias[sample]
            neighbourhood_negative = (neighbourhood_query @ self.neighbourhood_decoder[-1].weight[sample].T
                                      + self.neighbourhood_decoder[-1].bias[sample])  # (N, k)
        return VGAEOutput(
            mu=mu, logvar=logvar, z=z, x_reconstruction=torch.sigmoid(self.feature_decoder(z)),
            id_query=id_query, id_key=id_key, neighbourhood_query=neighbourhood_query, neighbourhood_key=neighbourhood_key,
            num_ids=self.num_ids, negative_ids=sample, id_negative_logits=id_negative,
            neighbourhood_negative_logits=neighbourhood_negative,
        )

    def forward_batch(self, batch) -> VGAEOutput:
        """``forward`` on a PyG ``Batch`` (or ``Data``) with ``x``, ``node_id``, ``edge_index``, ``edge_attr``."""
        return self(batch.x, batch.node_id, batch.edge_index, batch.edge_attr)


def _query_and_key(decoder: nn.Sequential | None, z: Tensor, node_id: Tensor) -> tuple[Tensor | None, Tensor | None]:
    """The decoder's hidden layer (N, H) and the output row of each node's own ID (N, H + 1)."""
    if decoder is None:
        return None, None
    query = decoder[:-1](z)  # (N, H)
    output = decoder[-1]
    key = torch.cat([output.weight[node_id], output.bias[node_id].unsqueeze(-1)], dim=-1)  # (N, H + 1)
    return query, key


_PAD_LOGIT = -1e9  # a padded candidate (finite: an all-padded row keeps finite gradients)


class WindowLayout:
    """Where each node of a sorted batch sits in the dense (G, n) layout of its window.

    Built from tensors only (no PyG ``to_dense_batch``). The dense width ``n`` is the most nodes of
    any window in the batch, or a fixed bound when given (an exported model uses the window length
    W, which no window exceeds, so its graph has no data-dependent size). Nodes are placed and read
    back through one flat row index ``batch * n + position`` (``index_copy`` / ``index_select``,
    several times cheaper on CPU than advanced indexing with index tuples or a boolean mask).

    Args:
        batch: (N,) graph index of each node, sorted. num_graphs: G, or ``None`` for ``batch.max() + 1``.
        width: the dense width n, or ``None`` for the largest window of the batch.
    """

    def __init__(self, *, batch: Tensor, num_graphs: int | None = None, width: int | None = None) -> None:
        graphs = int(batch.max()) + 1 if num_graphs is None and batch.numel() else (num_graphs or 0)
        counts = torch.zeros(graphs, dtype=torch.long, device=batch.device).index_add_(0, batch, torch.ones_like(batch))
        first = torch.cumsum(counts, 0) - counts  # (G,) index of each window's first node
        self.batch, self.num_graphs = batch, graphs
        self.position = torch.arange(batch.numel(), device=batch.device) - first.index_select(0, batch)  # (N,)
        self.width = width if width is not None else (int(counts.max()) if graphs else 0)
        self.row = batch * self.width + self.position  # (N,) the node's row in the flattened (G * n) layout

    @property
    def mask(self) -> Tensor:
        """(G, n) true at the slots that hold a node (not built per batch: the errors weigh the padding out)."""
        return self.dense(torch.ones_like(self.batch, dtype=torch.bool))

    def dense(self, values: Tensor, padding: Tensor | None = None) -> Tensor:
        """(N, ...) per-node values -> (G, n, ...); padded slots hold zeros, or ``padding`` (broadcast to
        one row's shape) when given."""
        rows = self.num_graphs * self.width
        if padding is None:
            out = values.new_zeros((rows, *values.shape[1:]))
        else:
            out = padding.to(values.dtype).expand(rows, *values.shape[1:])
        return out.index_copy(0, self.row, values).view(self.num_graphs, self.width, *values.shape[1:])

    def nodes(self, dense: Tensor) -> Tensor:
        """(G, n, ...) -> (N, ...): each node's entry, the inverse of `dense`."""
        return dense.reshape(self.num_graphs * self.width, *dense.shape[2:]).index_select(0, self.row)


def _window_logits(query: Tensor, key: Tensor, layout: WindowLayout) -> Tensor:
    """Logits ``[g, i, j]``: node i of window g against the ID of node j of the same window.

    One batched matmul: the query gains a constant 1 that meets the key's bias, and a padded key
    is all zeros with bias ``_PAD_LOGIT``, so padded columns come out at ``_PAD_LOGIT``.

    Shapes:
        query: (N, H). key: (N, H + 1). Returns (G, n, n) with padded columns at ``_PAD_LOGIT``.
    """
    q = layout.dense(torch.cat([query, torch.ones_like(query[:, :1])], -1))  # (G, n, H + 1)
    padding = torch.zeros(key.shape[-1], dtype=key.dtype, device=key.device)
    padding[-1] = _PAD_LOGIT
    k = layout.dense(key, padding)  # (G, n, H + 1)
    return q @ k.transpose(1, 2)  # (G, n, n)


class WindowIds:
    """Which vocabulary IDs each window of a batch holds: one (G, V) table of node counts.

    Several nodes of a window can carry the same ID (every unseen ID maps to UNK). ``count`` says how many
    share each node's ID, and the first of them (``first_position``) stands for all where an ID must be
    counted once.

    Args:
        node_id: (N,) vocabulary index of each node. layout: the batch's `WindowLayout`. num_ids: V.
    """

    def __init__(self, *, node_id: Tensor, layout: WindowLayout, num_ids: int) -> None:
        key = layout.batch * num_ids + node_id  # (N,) the node's cell of the flat (G, V) table
        cells, device = layout.num_graphs * num_ids, node_id.device
        # int32 tables: long or float ones made this 15x slower on CPU
        table = torch.zeros(cells, dtype=torch.int32, device=device).index_add_(
            0, key, torch.ones(node_id.numel(), dtype=torch.int32, device=device))
        self.table = table.view(layout.num_graphs, num_ids)  # (G, V) nodes of each window with each ID
        self.count = table.index_select(0, key).float()  # (N,) nodes of the window with the node's ID
        first = torch.full((cells,), torch.iinfo(torch.int32).max, dtype=torch.int32, device=device).scatter_reduce(
            0, key, layout.position.int(), "amin")  # (G * V,) where each window's first node with each ID sits
        self.first_position = first.index_select(0, key).long()  # (N,)
        self.layout = layout

    def outside(self, ids: Tensor) -> Tensor:
        """(N, k) true where ``ids[m]`` does not occur in the node's window (``ids`` are one sample shared by
        every node, so the test runs per window and is then read per node)."""
        return (self.table.index_select(1, ids) == 0).index_select(0, self.layout.batch)


def window_neighbours(edge_index: Tensor, ids: WindowIds, layout: WindowLayout) -> Tensor:
    """(G, n, n) of 0 / 1: ``[g, i, j] = 1`` where node i of window g has an edge, either way, to a node with
    the ID of node j, and j is the first node of its window with that ID (`WindowIds`), so each neighbouring
    ID is marked once. A self-loop does not count: a node is not its own neighbour.
    """
    n = layout.width
    src, dst = edge_index[0], edge_index[1]
    cells = torch.cat([layout.row.index_select(0, src) * n + ids.first_position.index_select(0, dst),
                       layout.row.index_select(0, dst) * n + ids.first_position.index_select(0, src)])  # (2E,)
    spare = layout.num_graphs * n * n  # self-loops mark one spare cell past the table, dropped
    cells = cells.masked_fill((src == dst).repeat(2), spare)
    marks = torch.zeros(spare + 1, device=edge_index.device).index_fill(0, cells, 1.0)
    return marks[:-1].view(layout.num_graphs, n, n)


_EXP_FLOOR = -80.0  # exp() of float32 below about -87 leaves the normal range: a path 10-30x slower on CPU


def _logsumexp(logits: Tensor, dim: int = -1) -> Tensor:
    """``torch.logsumexp`` with each term shifted by the maximum floored at ``_EXP_FLOOR``.

    The padded columns (``_PAD_LOGIT``) made every exp of the dense layout underflow, which on CPU takes a
    path 10-30x slower than a normal exp (most of a training step). A floored term adds at most
    exp(-80) = 2e-35 against the largest term's 1, far below float32's resolution.
    """
    if logits.shape[dim] == 0:  # an empty batch
        return torch.logsumexp(logits, dim)
    top = logits.detach().amax(dim, keepdim=True)
    return (logits - top).clamp(min=_EXP_FLOOR).exp().sum(dim).log() + top.squeeze(dim)


def _softplus(logits: Tensor) -> Tensor:
    """``softplus(x) = relu(x) - log(sigmoid(|x|))``, within 1e-6 of ``F.softplus``.

    ATen's CPU softplus goes through an unvectorised ``log1p`` (3-4x slower than this). Written so that it
    never meets ``log(0)``: exporters decompose ``F.binary_cross_entropy_with_logits`` and ``logsigmoid``
    into ``log(sigmoid(x))``, which is ``-inf`` (a NaN loss) at the padded logits; here it is exactly 0 there.
    """
    return torch.relu(logits) - torch.log(torch.sigmoid(logits.abs()))


def node_errors(output: VGAEOutput, x: Tensor, node_id: Tensor, edge_index: Tensor, batch: Tensor,
                num_graphs: int | None = None, dense_width: int | None = None,
                anomaly_only: bool = False) -> dict[str, Tensor]:
    """Per-node reconstruction errors, each (N,): features (MSE), CAN ID (CE over the window's IDs),
    neighbourhood (BCE over the window's distinct IDs, summed, / V), KL. With negatives in
    ``output`` (sampled in training, the probes in scoring) the CAN-ID softmax and the BCE also count
    those outside the window, weighted V / k: unbiased estimates of the vocabulary-wide errors.

    Without ID decoders (``decode_ids=False``) the CAN-ID and neighbourhood errors are zeros, so
    every consumer (loss, anomaly score, the 15-value fusion state) keeps its shape.
    ``anomaly_only``: only the two errors `anomaly_score` reads (``features``, ``neighbourhood``);
    the CAN-ID softmax and the KL, half the cost of scoring, are skipped.

    Shapes:
        x: (N, F). node_id, batch: (N,), batch sorted (as in a PyG ``Batch``). edge_index: (2, E).
        num_graphs: G (default ``batch.max() + 1``; pass it where G must not be read from the data).
        dense_width: a fixed bound on the nodes of a window (see `WindowLayout`), or ``None``.
    """
    errors = {"features": F.mse_loss(output.x_reconstruction, x, reduction="none").mean(-1)}
    if not anomaly_only:
        errors["kl"] = -0.5 * (1 + output.logvar - output.mu.pow(2) - output.logvar.exp()).sum(-1)
    if output.id_query is None:
        zeros = torch.zeros_like(errors["features"])
        return {**errors, "neighbourhood": zeros} if anomaly_only else {**errors, "can_id": zeros, "neighbourhood": zeros}
    layout = WindowLayout(batch=batch, num_graphs=num_graphs, width=dense_width)
    ids = WindowIds(node_id=node_id, layout=layout, num_ids=output.num_ids)
    outside = ids.outside(output.negative_ids) if output.negative_ids is not None else None  # (N, k)
    neighbourhood = _neighbourhood_error(output, window_neighbours(edge_index, ids, layout), ids, layout, outside)  # (N,)
    if anomaly_only:
        return {**errors, "neighbourhood": neighbourhood}
    window_lse = layout.nodes(_logsumexp(_window_logits(output.id_query, output.id_key, layout)))  # (N,)
    # -log p(own ID), softmax over the window's IDs: the c nodes of a window that share node i's ID (several
    # unseen IDs map to UNK) share its key, so their terms are c equal logits, log(c) + the own logit
    own_logit = (output.id_query * output.id_key[:, :-1]).sum(-1) + output.id_key[:, -1]  # (N,)
    can_id = window_lse - own_logit - ids.count.log()
    if outside is not None:
        # sampled softmax: each sampled logit outside the window stands for V / k IDs (log-weight correction)
        weight = output.num_ids / output.negative_ids.numel()
        sampled = (output.id_negative_logits + math.log(weight)).masked_fill(~outside, _PAD_LOGIT)
        can_id = can_id + torch.logaddexp(window_lse, _logsumexp(sampled)) - window_lse
    return {**errors, "can_id": can_id, "neighbourhood": neighbourhood}


def _neighbourhood_error(output: VGAEOutput, neighbours: Tensor, ids: WindowIds, layout: WindowLayout,
                         outside: Tensor | None) -> Tensor:
    """(N,) the neighbourhood BCE over the window's distinct IDs, plus the negatives outside the window
    (``outside``, (N, k)) weighted V / k; divided by V.

    The BCE of an ID is ``softplus(l) - l t``. Nodes that share an ID share its logit, so each column's
    softplus weighs 1 / the count of its ID (each ID once), and ``l t`` is read at the marked first columns
    (``neighbours``, `window_neighbours`).
    """
    logits = _window_logits(output.neighbourhood_query, output.neighbourhood_key, layout)  # (G, n, n)
    column_weight = layout.dense(1.0 / ids.count).unsqueeze(1)  # (G, 1, n), 0 in the padding
    # padded columns: logit _PAD_LOGIT, softplus exactly 0, weight 0, no mark
    bce_sum = layout.nodes((_softplus(logits) * column_weight).sum(-1) - (logits * neighbours).sum(-1))  # (N,)
    num_ids = float(output.num_ids)
    if outside is not None:
        # IDs drawn uniformly from the vocabulary (training: at this step; scoring: the fixed probes);
        # those outside the window (target 0) weigh V / k, so their sum estimates the outside IDs' BCE
        # without bias (exactly, when the probes are the whole vocabulary)
        weight = num_ids / output.negative_ids.numel()
        # BCE against target 0 is softplus(logit)
        bce_sum = bce_sum + weight * (_softplus(output.neighbourhood_negative_logits) * outside).sum(-1)
    return bce_sum / num_ids


def vgae_loss(
    output: VGAEOutput,
    x: Tensor,
    node_id: Tensor,
    edge_index: Tensor,
    batch: Tensor,
    id_weight: float = 0.1,
    neighbourhood_weight: float = 1.0,
    kl_weight: float = 0.01,
) -> Tensor:
    """MSE(features) + id_weight * CE(CAN ID) + neighbourhood_weight * BCE + kl_weight * KL, node means."""
    errors = node_errors(output, x, node_id, edge_index, batch)
    return (
        errors["features"].mean()
        + id_weight * errors["can_id"].mean()
        + neighbourhood_weight * errors["neighbourhood"].mean()
        + kl_weight * errors["kl"].mean()
    )


def batch_graph_errors(output: VGAEOutput, batch, anomaly_only: bool = False) -> dict[str, Tensor]:
    """`graph_anomaly_scores` of a PyG ``Batch``: each node error averaged per graph, each (G,)
    (``anomaly_only``: only the errors `anomaly_score` reads, see `node_errors`)."""
    return graph_anomaly_scores(output, batch.x, batch.node_id, batch.edge_index, batch.batch, batch.num_graphs,
                                anomaly_only=anomaly_only)


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
    output: VGAEOutput, x: Tensor, node_id: Tensor, edge_index: Tensor, batch: Tensor, num_graphs: int,
    dense_width: int | None = None, anomaly_only: bool = False,
) -> dict[str, Tensor]:
    """Per-graph mean of each node error: ``features``, ``can_id``, ``neighbourhood``, ``kl``, each (G,)
    (``dense_width``, ``anomaly_only``: see `node_errors`)."""
    errors = node_errors(output, x, node_id, edge_index, batch, num_graphs, dense_width, anomaly_only)
    return {name: scatter(error, batch, dim=0, dim_size=num_graphs, reduce="mean") for name, error in errors.items()}
