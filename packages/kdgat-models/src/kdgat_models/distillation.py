"""Knowledge-distillation losses (Hinton et al., "Distilling the Knowledge in a Neural Network", 2015).

The published system's KD was silently zero: a one-logit head made the softmax over classes a
constant 1, and elsewhere the softmax ran over the batch. Here the softmax is always over the
class dimension of (G, C >= 2) logits and anything else is refused.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def logit_distillation_loss(
    student_logits: Tensor,
    teacher_logits: Tensor,
    labels: Tensor | None = None,
    temperature: float = 4.0,
    alpha: float = 0.7,
) -> Tensor:
    """``alpha * T^2 * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) * CE(s, labels)``.

    The KL term is summed over the classes of each graph and averaged over graphs (batchmean);
    ``T^2`` keeps its gradient scale independent of T. Without ``labels`` only the KL term is
    returned (times alpha).

    Shapes:
        student_logits, teacher_logits: (G, C) with C >= 2. labels: (G,) long.
    """
    if student_logits.dim() != 2 or student_logits.size(-1) < 2:
        raise ValueError(
            f"logit KD needs (graphs, classes >= 2) logits, got shape {tuple(student_logits.shape)}: "
            "a softmax over one logit (or over the batch) makes the KD term identically zero"
        )
    if teacher_logits.shape != student_logits.shape:
        raise ValueError(f"teacher logits {tuple(teacher_logits.shape)} != student logits {tuple(student_logits.shape)}")
    kl = F.kl_div(
        F.log_softmax(student_logits / temperature, dim=-1),
        F.log_softmax(teacher_logits.detach() / temperature, dim=-1),
        reduction="batchmean",
        log_target=True,
    )
    loss = alpha * temperature**2 * kl
    if labels is not None:
        loss = loss + (1 - alpha) * F.cross_entropy(student_logits, labels)
    return loss


class VGAEDistillationLoss(nn.Module):
    """Latent + reconstruction distillation from a teacher VGAE to a student VGAE (FitNets-style hint
    loss, Romero et al. 2015, on the VGAE latent; KD-GAT, Frenken et al. 2025).

    ``latent_weight * MSE(P z_s, z_t) + reconstruction_weight * MSE(x̂_s, x̂_t)`` where P is a learned
    linear projection when the latent sizes differ (identity otherwise). Its parameters must be
    optimised together with the student's.

    Args:
        student_latent_dim, teacher_latent_dim: latent widths.
        latent_weight, reconstruction_weight: the two terms' weights.

    Shapes:
        student_z: (N, Ls). teacher_z: (N, Lt). student/teacher reconstruction: (N, F).
    """

    def __init__(
        self, student_latent_dim: int, teacher_latent_dim: int, latent_weight: float = 1.0, reconstruction_weight: float = 1.0
    ) -> None:
        super().__init__()
        self.projection = (
            nn.Linear(student_latent_dim, teacher_latent_dim) if student_latent_dim != teacher_latent_dim else nn.Identity()
        )
        self.latent_weight = latent_weight
        self.reconstruction_weight = reconstruction_weight

    def forward(
        self, student_z: Tensor, teacher_z: Tensor, student_reconstruction: Tensor, teacher_reconstruction: Tensor
    ) -> Tensor:
        latent = F.mse_loss(self.projection(student_z), teacher_z.detach())
        reconstruction = F.mse_loss(student_reconstruction, teacher_reconstruction.detach())
        return self.latent_weight * latent + self.reconstruction_weight * reconstruction
