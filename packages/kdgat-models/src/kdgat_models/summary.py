"""Parameters and FLOPs per window of every preset (``kdgat-models summary``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from kdgat_models.example_graphs import example_batch
from kdgat_models.fusion.state import STATE_DIM
from kdgat_models.presets import build_model


@dataclass(frozen=True)
class ModelSummary:
    family: str
    size: str
    parameters: int
    flops_per_window: int


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def run_model(family: str, model: nn.Module, batch) -> torch.Tensor:
    """One inference pass of ``model`` on ``batch`` (window graphs, or states for the DQN)."""
    if family == "gat":
        return model.forward_batch(batch).logits
    if family == "vgae":
        return model.forward_batch(batch).z
    return model(batch)


def summarize(presets: dict, num_ids: int, window_nodes: int = 30) -> list[ModelSummary]:
    """Each preset's parameter count and matmul FLOPs for one window of ``window_nodes`` nodes."""
    rows = []
    graph = example_batch(1, num_ids=num_ids, min_nodes=window_nodes, max_nodes=window_nodes)
    for family, sizes in presets.items():
        for size in sizes:
            model = build_model(family, size, presets, num_ids=num_ids).eval()
            batch = torch.zeros(1, STATE_DIM) if family == "dqn" else graph
            with torch.no_grad(), FlopCounterMode(display=False) as counter:
                run_model(family, model, batch)
            rows.append(ModelSummary(family, size, count_parameters(model), counter.get_total_flops()))
    return rows
