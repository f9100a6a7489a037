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
    window_weight: Tensor | None = None,
) -> Tensor:
    """``alpha * T^2 * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) * CE(s, labels)``.

    The KL term is summed over the classes of each graph and averaged over graphs (batchmean);
    ``T^2`` keeps its gradient scale independent of T. Without ``labels`` only the KL term is
    returned (times alpha).

    ``window_weight`` weighs each graph's KL term (a weighted mean, as ``F.cross_entropy`` averages
    with class weights). A student whose task loss is class-weighted must pass the same weights here
    (``class_weight[labels]``): an unweighted KL term, which dominates the loss at alpha 0.7, trains
    the student as if on the plain, unweighted loss, and on rare attacks that lost most of what the
    class weights were for (kdgat's default main job: GAT student+KD validation AUROC 0.81, against
    0.99 without KD and 0.99 with the KL weighted).

    Shapes:
        student_logits, teacher_logits: (G, C) with C >= 2. labels: (G,) long. window_weight: (G,).
    """
    if student_logits.dim() != 2 or student_logits.size(-1) < 2:
        raise ValueError(
            f"logit KD needs (graphs, classes >= 2) logits, got shape {tuple(student_logits.shape)}: "
            "a softmax over one logit (or over the batch) makes the KD term identically zero"
        )
    if teacher_logits.shape != student_logits.shape:
        raise ValueError(f"teacher logits {tuple(teacher_logits.shape)} != student logits {tuple(student_logits.shape)}")
    per_graph = F.kl_div(
        F.log_softmax(student_logits / temperature, dim=-1),
        F.log_softmax(teacher_logits.detach() / temperature, dim=-1),
        reduction="none",
        log_target=True,
    ).sum(-1)
    if window_weight is None:
        kl = per_graph.mean()
    else:
        if window_weight.shape != per_graph.shape:
            raise ValueError(f"window_weight {tuple(window_weight.shape)} != one weight per graph {tuple(per_graph.shape)}")
        kl = (per_graph * window_weight).sum() / window_weight.sum()
    loss = alpha * temperature**2 * kl
    if labels is not None:
        task = F.cross_entropy(student_logits, labels, reduction="none")
        task = task.mean() if window_weight is None else (task * window_weight).sum() / window_weight.sum()
        loss = loss + (1 - alpha) * task
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
