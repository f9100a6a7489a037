"""Scoring the windows of a split: batches of window graphs (self-loops added, as in training) through a
`kdgat_models.window_scorer.WindowScorer`, the one scoring path of evaluation, the curriculum and
cross-dataset evaluation (export and `kdgat-detect` run the same scorer)."""

from __future__ import annotations

import numpy as np
import torch
from kdgat_data.batching import WindowBatches
from kdgat_models.self_loops import SelfLoops


def window_scores(scorer, arrays, batch_size: int = 256, indices=None) -> np.ndarray:
    """One attack score per window of ``arrays`` (or of its ``indices``) by ``scorer``, a
    `kdgat_models.window_scorer.WindowScorer` (`ModelFamily.scorer`: what export and `kdgat-detect` run
    too), without gradients. Shapes: -> (windows,)."""
    device = next(scorer.parameters()).device
    scores = []
    with torch.no_grad():
        for batch in WindowBatches(arrays, batch_size, indices=indices, transform=SelfLoops()):
            batch = batch.to(device)
            score, _ = scorer(batch.x, batch.node_id, batch.edge_index, batch.edge_attr, batch.batch, batch.ptr)
            scores.append(score.cpu())
    return torch.cat(scores).numpy() if scores else np.zeros(0)
