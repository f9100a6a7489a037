"""What the fusion stage sees of each window: the 15-value state, the normalised VGAE anomaly score
and the GAT's attack probability, computed once per split from the frozen VGAE and GAT.

The VGAE anomaly score (feature + neighbourhood reconstruction error, as in the VGAE's own
evaluation) is mapped to [0, 1] by its rank among the normal windows of the TRAINING split (an
empirical CDF): no validation or test window influences it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from kdgat_data.batching import WindowBatches
from kdgat_models.fusion import STATE_FEATURES
from kdgat_models.score_functions import empirical_cdf
from kdgat_models.self_loops import SelfLoops
from kdgat_models.window_scorer import fusion_parts
from torch import Tensor

ANOMALY_COLUMN = STATE_FEATURES.index("vgae_anomaly_score")
CDF_CHUNK = 1024  # windows normalised at once: bounds the (windows x references) comparison


@dataclass
class FusionInputs:
    """Per-window fusion inputs of one split.

    Shapes:
        state: (G, 15). anomaly: (G,) in [0, 1]. p_attack: (G,). y: (G,) long.
    """

    state: Tensor
    anomaly: Tensor
    p_attack: Tensor
    y: Tensor

    def __len__(self) -> int:
        return len(self.y)

    def tensors(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return self.state, self.anomaly, self.p_attack, self.y


class AnomalyNormaliser:
    """Empirical CDF of reference (normal training) raw anomaly scores: raw -> share of references <= raw.

    Args:
        reference: (R,) raw anomaly scores of normal training windows.
    """

    def __init__(self, reference: Tensor) -> None:
        if len(reference) == 0:
            raise ValueError("the training split has no normal windows to normalise the VGAE score on")
        self.reference = torch.sort(reference.float().cpu()).values

    def __call__(self, raw: Tensor) -> Tensor:
        chunks = raw.float().cpu().split(CDF_CHUNK)  # (chunk, R) comparisons at a time
        return torch.cat([empirical_cdf(self.reference, chunk) for chunk in chunks]) if chunks else torch.zeros(0)


@torch.no_grad()
def raw_fusion_outputs(vgae, gat, arrays, window: int, batch_size: int = 256, device: torch.device | str = "cpu"):
    """``(state with the raw anomaly score in its anomaly column, raw anomaly (G,), p_attack (G,), y (G,))``, by
    `kdgat_models.window_scorer.fusion_parts`, which the deployed `FusionWindowScorer` runs too.
    ``window``: the most nodes a window has."""
    vgae.eval()
    gat.eval()
    states, raws, probabilities = [], [], []
    for batch in WindowBatches(arrays, batch_size, transform=SelfLoops()):
        batch = batch.to(device)
        state, raw, p_attack, _ = fusion_parts(vgae, gat, batch.x, batch.node_id, batch.edge_index, batch.edge_attr,
                                               batch.batch, batch.num_graphs, window)
        states.append(state.cpu())
        raws.append(raw.cpu())
        probabilities.append(p_attack.cpu())
    y = torch.tensor(np.array(arrays.y), dtype=torch.long)
    if not states:
        return torch.zeros(0, len(STATE_FEATURES)), torch.zeros(0), torch.zeros(0), y
    return torch.cat(states), torch.cat(raws), torch.cat(probabilities), y


def fusion_inputs(vgae, gat, arrays, normaliser: AnomalyNormaliser, window: int, batch_size: int = 256,
                  device: torch.device | str = "cpu") -> FusionInputs:
    """The `FusionInputs` of one split, with the VGAE score normalised by ``normaliser``."""
    state, raw, p_attack, y = raw_fusion_outputs(vgae, gat, arrays, window, batch_size, device)
    anomaly = normaliser(raw)
    state[:, ANOMALY_COLUMN] = anomaly
    return FusionInputs(state, anomaly, p_attack, y)
