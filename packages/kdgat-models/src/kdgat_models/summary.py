"""Parameters and FLOPs per window of every preset (``kdgat-models summary``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from kdgat_models.example_graphs import example_batch
from kdgat_models.fusion.state import STATE_DIM
from kdgat_models.presets import build_model
from kdgat_models.vgae import GraphAutoencoderNeighborhood


@dataclass(frozen=True)
class ModelSummary:
    family: str
    size: str
    parameters: int
    flops_per_window: int


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def run_model(model: nn.Module, batch) -> torch.Tensor:
    """One inference pass of ``model`` on ``batch`` (window graphs, or states for the DQN): a window
    classifier's logits (GAT, graph-less MLP), the VGAE's latent, the Q-network's action values."""
    network = getattr(model, "_orig_mod", model)  # what torch.compile wrapped
    if isinstance(network, GraphAutoencoderNeighborhood):
        return model.forward_batch(batch).z
    if hasattr(network, "forward_batch"):  # the window classifiers (GAT, graph-less MLP)
        return model.forward_batch(batch).logits
    return model(batch)


def summarize(presets: dict, num_ids: int, window_nodes: int = 30) -> list[ModelSummary]:
    """Each preset's parameter count and matmul FLOPs for one window of ``window_nodes`` nodes."""
    rows = []
    graph = example_batch(1, num_ids=num_ids, min_nodes=window_nodes, max_nodes=window_nodes)
    for family, sizes in presets.items():
        for size in sizes:
            model = build_model(family, size, presets, num_ids=num_ids).eval()
            batch = graph if hasattr(model, "forward_batch") else torch.zeros(1, STATE_DIM)  # the DQN reads states
            with torch.no_grad(), FlopCounterMode(display=False) as counter:
                run_model(model, batch)
            rows.append(ModelSummary(family, size, count_parameters(model), counter.get_total_flops()))
    return rows
