import pytest
import torch
import torch.nn.functional as F
from kdgat_models.distillation import VGAEDistillationLoss, logit_distillation_loss


def test_kd_term_positive_when_models_differ_and_zero_when_identical():
    torch.manual_seed(0)
    student, teacher = torch.randn(8, 2), torch.randn(8, 2)
    assert logit_distillation_loss(student, teacher, alpha=1.0) > 0
    assert logit_distillation_loss(teacher.clone(), teacher, alpha=1.0).abs() < 1e-7


def test_matches_the_formula_per_graph_over_classes():
    torch.manual_seed(1)
    student, teacher, labels = torch.randn(5, 2), torch.randn(5, 2), torch.randint(0, 2, (5,))
    t = 4.0
    p_teacher = torch.softmax(teacher / t, dim=1)
    kl_per_graph = (p_teacher * (p_teacher.log() - torch.log_softmax(student / t, dim=1))).sum(dim=1)
    expected = 0.7 * t * t * kl_per_graph.mean() + 0.3 * F.cross_entropy(student, labels)
    torch.testing.assert_close(logit_distillation_loss(student, teacher, labels, t, 0.7), expected)


def test_teacher_changes_the_students_gradient():
    torch.manual_seed(2)
    labels = torch.randint(0, 2, (6,))
    student = torch.randn(6, 2, requires_grad=True)
    logit_distillation_loss(student, torch.randn(6, 2), labels).backward()
    with_teacher = student.grad.clone()
    student.grad = None
    logit_distillation_loss(student, torch.randn(6, 2) * 3, labels).backward()
    assert not torch.allclose(with_teacher, student.grad)
    student.grad = None
    (0.3 * F.cross_entropy(student, labels)).backward()
    assert not torch.allclose(with_teacher, student.grad)  # the KD term contributes


def test_window_weights_weigh_each_graphs_kl_and_task_term_as_class_weighted_cross_entropy_does():
    torch.manual_seed(4)
    student, teacher, labels = torch.randn(9, 2), torch.randn(9, 2), torch.tensor([0, 0, 0, 0, 0, 0, 0, 1, 1])
    class_weight = torch.tensor([0.6, 2.5])
    weight = class_weight[labels]
    t = 2.0
    p_teacher = torch.softmax(teacher / t, dim=1)
    kl_per_graph = (p_teacher * (p_teacher.log() - torch.log_softmax(student / t, dim=1))).sum(dim=1)
    expected = (0.7 * t * t * (kl_per_graph * weight).sum() / weight.sum()
                + 0.3 * F.cross_entropy(student, labels, weight=class_weight))
    torch.testing.assert_close(logit_distillation_loss(student, teacher, labels, t, 0.7, window_weight=weight), expected)
    uniform = logit_distillation_loss(student, teacher, labels, t, 0.7, window_weight=torch.full((9,), 3.0))
    torch.testing.assert_close(uniform, logit_distillation_loss(student, teacher, labels, t, 0.7))
    with pytest.raises(ValueError, match="one weight per graph"):
        logit_distillation_loss(student, teacher, window_weight=torch.ones(4))


def test_refuses_one_logit_heads():
    with pytest.raises(ValueError, match="identically zero"):
        logit_distillation_loss(torch.randn(4, 1), torch.randn(4, 1))
    with pytest.raises(ValueError):
        logit_distillation_loss(torch.randn(4), torch.randn(4))


def test_not_a_softmax_over_the_batch():
    # Shuffling the graphs of both teacher and student must not change the loss.
    torch.manual_seed(3)
    student, teacher = torch.randn(7, 2), torch.randn(7, 2)
    order = torch.randperm(7)
    torch.testing.assert_close(
        logit_distillation_loss(student, teacher, alpha=1.0), logit_distillation_loss(student[order], teacher[order], alpha=1.0)
    )
    one = logit_distillation_loss(student[:1], teacher[:1], alpha=1.0)
    assert one > 0  # a single graph still has a KD term (a batch softmax would give 0)


def test_vgae_kd_with_projection_trains_the_projection():
    loss_fn = VGAEDistillationLoss(student_latent_dim=4, teacher_latent_dim=6)
    student_z = torch.randn(10, 4, requires_grad=True)
    loss = loss_fn(student_z, torch.randn(10, 6), torch.rand(10, 10), torch.rand(10, 10))
    assert loss > 0
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in loss_fn.projection.parameters())
    assert student_z.grad.abs().sum() > 0


def test_vgae_kd_without_projection_is_plain_mse():
    loss_fn = VGAEDistillationLoss(5, 5, latent_weight=1.0, reconstruction_weight=0.0)
    assert isinstance(loss_fn.projection, torch.nn.Identity)
    z = torch.randn(3, 5)
    assert loss_fn(z, z.clone(), torch.zeros(3, 2), torch.ones(3, 2)) == 0
