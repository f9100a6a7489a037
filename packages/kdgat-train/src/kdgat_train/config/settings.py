"""Pydantic settings of every config group: validated before torch is imported.

The hydra-zen store builds its nodes from these classes' real signatures. The model-size classes
mirror the constructors of kdgat-models (a test checks that every field is a constructor
argument, so none can be dead); they live here so that parsing a config never imports torch.
"""

from __future__ import annotations

import re
from typing import Literal

from kdgat_schemas import DEFAULT_MIN_CLASS_WINDOWS
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kdgat_train.config.renamed_fields import nest_flat_names
from kdgat_train.evaluation.threshold_rule import ThresholdRule


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VGAELossSettings(_Settings):
    """Weights of the VGAE loss terms next to the feature MSE (training_config.vgae)."""

    id_weight: float = Field(0.1, ge=0, description="CAN-ID (entity) classification")
    neighbourhood_weight: float = Field(1.0, ge=0, description="neighbourhood multi-label BCE")
    kl_weight: float = Field(0.01, ge=0, description="KL divergence of the latent")


class CurriculumSettings(_Settings):
    """The curriculum GAT's sampling (training_config.curriculum)."""

    start_ratio: float = Field(1.0, gt=0, description="normal:attack ratio of the first epoch")
    end_ratio: float = Field(10.0, gt=0, description="normal:attack ratio of the last epoch")
    difficulty_exponent: float = Field(
        4.0, ge=0, description="normals drawn with weight (difficulty rank)^exponent; 0 = uniformly"
    )
    vgae_run: str | None = Field(
        None, description="VGAE run scoring normal windows; default: latest completed same-size VGAE run"
    )


class FusionSettings(_Settings):
    """The fusion DQN and the runs it fuses (training_config.fusion)."""

    vgae_run: str | None = Field(
        None, description="frozen VGAE run; default: latest completed VGAE run of the same size and distillation"
    )
    gat_run: str | None = Field(
        None, description="frozen GAT run; default: latest completed GAT run of the same size and distillation"
    )
    epsilon_start: float = Field(1.0, ge=0, le=1, description="exploration rate at the first step")
    epsilon_end: float = Field(0.05, ge=0, le=1, description="exploration rate it decays towards")
    epsilon_decay: float = Field(0.2, gt=0, description="e-folding time of epsilon as a share of all training steps")
    gamma: float = Field(0.0, ge=0, lt=1, description="discount (one decision per window)")
    target_sync_every: int = Field(20, gt=0, description="updates between target-network copies")
    replay_capacity: int = Field(50_000, gt=0, description="replay buffer size in windows")
    alpha_grid: int = Field(
        21, ge=2, description="alphas evenly spaced in [0, 1], the DQN's actions and the fixed-alpha comparator's grid"
    )


class TrainingSettings(_Settings):
    """Optimisation and loop settings (training_config); the groups ``vgae``, ``curriculum`` and ``fusion``
    hold what only those stages use."""

    epochs: int = Field(20, gt=0, description="maximum epochs")
    batch_size: int = Field(128, gt=0)
    learning_rate: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    seed: int = 42
    patience: int = Field(5, ge=0, description="early-stopping patience in epochs on val/loss; 0 disables it")
    gradient_clip: float = Field(1.0, ge=0, description="gradient-norm clip; 0 disables it")
    loss: Literal["ce", "weighted_ce", "focal"] = Field(
        "weighted_ce", description="GAT loss: plain, class-weighted (inverse frequency; attacks are rare) or focal"
    )
    focal_gamma: float = Field(2.0, ge=0)
    sampling: Literal["shuffled", "balanced"] = Field(
        "shuffled", description="GAT training windows per epoch: the split shuffled, or drawn class-balanced with "
        "replacement (each class half of every epoch; weighted_ce then weighs the classes equally). "
        "Not with the curriculum, which draws its own normal:attack ratio"
    )
    id_dropout: float = Field(0.05, ge=0, le=1, description="share of training nodes shown as UNK")
    num_workers: int = Field(0, ge=0, description="DataLoader worker processes")
    optimizer: Literal["adamw", "adam", "sgd"] = Field("adamw", description="VGAE and GAT optimizer (SGD: momentum 0.9)")
    scheduler: Literal["none", "cosine"] = Field("none", description="learning-rate schedule: constant, or cosine to 0 over epochs")
    evaluation_batch_size: int = Field(256, gt=0, description="windows per batch when scoring for evaluation and the curriculum")
    vgae: VGAELossSettings = Field(VGAELossSettings(), description="VGAE loss weights (VGAE stages)")
    curriculum: CurriculumSettings = Field(CurriculumSettings(), description="curriculum GAT stages")
    fusion: FusionSettings = Field(FusionSettings(), description="fusion DQN stages")

    @model_validator(mode="before")
    @classmethod
    def _nest_flat_names(cls, values):
        """Configs written before the groups were nested (``fusion_gamma``: ``fusion.gamma``) still load."""
        return nest_flat_names(values) if isinstance(values, dict) else values


def check_one_sampling(training: TrainingSettings, *, curriculum: bool, where: str) -> None:
    """Refuse class-balanced sampling on a curriculum GAT (``where`` names how it became one): the
    curriculum draws its own normal:attack ratio every epoch."""
    if curriculum and training.sampling == "balanced":
        raise ValueError(f"training_config.sampling=balanced {where}: the curriculum GAT draws its own normal:attack "
                         "ratio every epoch; leave sampling at shuffled, or train all_samples")


def field_value(settings: BaseModel, dotted: str):
    """The value of ``dotted`` (``training_config.fusion.vgae_run``) in ``settings``."""
    value = settings
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def with_field_value(settings: BaseModel, dotted: str, value) -> BaseModel:
    """A copy of ``settings`` with ``dotted`` set to ``value`` (the groups on the way copied too)."""
    head, _, rest = dotted.partition(".")
    if not rest:
        return settings.model_copy(update={head: value})
    return settings.model_copy(update={head: with_field_value(getattr(settings, head), rest, value)})

class EvaluationSettings(_Settings):
    """How every detector (GAT, VGAE, fusion and its comparators, baselines) is cut and scored (evaluation)."""

    threshold: str = Field(
        "f1", description="threshold rule on validation: f1 | youden | fpr:<rate> (normal-window quantile) | "
                    "f1@fpr:<rate> (best F1 at a validation FPR <= rate) | fixed:<value>"
    )
    min_class_windows: int = Field(
        DEFAULT_MIN_CLASS_WINDOWS, ge=1, description="fewest validation windows of a class a rule may read; below it: fpr:0.01 (f1@fpr: its own rate) on normal windows"
    )

    @field_validator("threshold")
    @classmethod
    def _rule(cls, value: str) -> str:
        return str(ThresholdRule.parse(value))


class DatasetSettings(_Settings):
    """Which catalog dataset and how it becomes graphs (dataset_config)."""

    name: str = Field("synthetic", description="key in configs/datasets.yaml (a key, not a path)")
    window: int = Field(100, ge=2)
    stride: int = Field(100, ge=1)
    validation_fraction: float = Field(0.2, gt=0, lt=1)
    train_stride: int | None = Field(
        None, ge=1, description="stride of the training split's windows (below window: overlapping training windows, "
        "more of them from the same frames); validation and test windows keep stride; default: stride"
    )
    features: str | None = Field(
        None, description="the domain's window-graph feature set; default its first (automotive: anchor = the published "
        "system's node features, dynamics = anchor + per-ID timing and payload dynamics)"
    )

    @field_validator("name")
    @classmethod
    def _catalog_key(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_\-]*", value):
            raise ValueError(f"{value!r} is not a catalog key (letters, digits, '_' and '-'): datasets are named by "
                             "their key in configs/datasets.yaml; add a capture there (docs/data.md) and name its key")
        return value


class DeviceSettings(_Settings):
    """Where to train (device): Lightning accelerator, device count and precision."""

    accelerator: Literal["cpu", "gpu", "auto"] = "cpu"
    devices: int = Field(1, ge=1, description="devices per node; more than one trains with DDP")
    num_nodes: int = Field(1, ge=1)
    precision: Literal["32-true", "16-mixed", "bf16-mixed"] = "32-true"
    threads: int | None = Field(
        None, ge=1, description="torch intra-op threads per process; default: the CPUs this process may use "
        "(CPU affinity, cgroup quota, SLURM_CPUS_PER_TASK) divided by the DDP processes on this node"
    )


class DistillationSettings(_Settings):
    """Knowledge distillation (distillation_config): ``no``, or ``standard`` KD from a teacher run."""

    mode: Literal["no", "standard"] = "no"
    teacher_run: str | None = Field(None, description="teacher run folder; default: the latest completed teacher run")
    teacher_outputs: Literal["stored", "live"] = Field(
        "stored", description="stored: the teacher's outputs on each (un-augmented) window computed once and reused "
        "every epoch; live: the teacher runs on every (augmented) batch")
    temperature: float = Field(4.0, gt=0, description="GAT logit KD temperature T")
    alpha: float = Field(0.7, ge=0, le=1, description="GAT: weight of the KD term (1 - alpha on the task loss)")
    latent_weight: float = Field(1.0, ge=0, description="VGAE KD: latent MSE weight")
    reconstruction_weight: float = Field(1.0, ge=0, description="VGAE KD: reconstruction MSE weight")


class GATSize(_Settings):
    """Constructor arguments of kdgat_models.GATWithJK (model_size_config for the GAT)."""

    hidden_dim: int = Field(24, gt=0)
    num_layers: int = Field(2, gt=0)
    heads: int = Field(4, gt=0)
    id_embedding_dim: int = Field(8, ge=0, description="0: no entity embedding (no fixed vocabulary)")
    dropout: float = Field(0.2, ge=0, lt=1)
    attention_dropout: float = Field(0.0, ge=0, lt=1)
    jk_mode: Literal["cat", "max", "lstm"] = "cat"
    pooling: Literal["mean", "multi"] = "mean"
    fc_layers: int = Field(2, gt=0)
    fc_hidden_dim: int | None = None


class MLPSize(_Settings):
    """Constructor arguments of kdgat_models.WindowMLP (model_size_config for the graph-less MLP)."""

    hidden_dim: int = Field(64, gt=0)
    num_layers: int = Field(2, gt=0)
    id_embedding_dim: int = Field(8, ge=0, description="0: no entity embedding (no fixed vocabulary)")
    dropout: float = Field(0.1, ge=0, lt=1)


class VGAESize(_Settings):
    """Constructor arguments of kdgat_models.GraphAutoencoderNeighborhood (model_size_config for the VGAE)."""

    hidden_dim: int = Field(80, gt=0)
    num_layers: int = Field(2, gt=0)
    latent_dim: int = Field(16, gt=0)
    heads: int = Field(1, gt=0)
    id_embedding_dim: int = Field(4, ge=0, description="0: no entity embedding (no fixed vocabulary)")
    decoder_hidden_dim: int | None = None
    dropout: float = Field(0.1, ge=0, lt=1)
    decode_ids: bool = Field(True, description="CAN-ID and neighbourhood decoders; off without a fixed vocabulary")
    sampled_negatives: int = Field(64, ge=0, description="vocabulary IDs sampled at each training step for the IDs "
                                   "outside its window (the decoders never score the whole vocabulary)")
    scoring_probes: int = Field(64, ge=0, description="vocabulary IDs (a fixed seeded sample; all of a smaller "
                                "vocabulary) standing for the IDs outside a window when scoring")


class DQNSize(_Settings):
    """Constructor arguments of kdgat_models.QNetwork (model_size_config for the DQN)."""

    hidden_dim: int = Field(160, gt=0)
    num_layers: int = Field(2, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)

