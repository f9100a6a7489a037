"""`ModelFamily`: everything the engine asks of a model family, instead of testing its name.

A family (GAT, VGAE, DQN fusion) is one object. Its class attributes are plain data that config
parsing, preset registration and the field-use check read without torch (they run on a CLI's
start-up path); its methods build the network, the LightningModule and data, state the trainer
arguments, evaluate a fitted stage, build the `WindowScorer` that scores its windows and rebuild a
deployable one. The heavy modules they use are imported inside the methods, which is what keeps
torch off ``kdgat-train --help`` and ``--cfg job`` (the modules allowed such imports are listed in
tests/test_lazy_imports.py).

The name-grammar token of a family (``name.model``) is compared in exactly one place, the registry
(`kdgat_train.families.registry.family_of`); every other module asks the family object.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from kdgat_schemas import MODES, RunFolder
from kdgat_schemas.upstream_rules import LEARNING_OF_MODEL
from pydantic import BaseModel

# fields only the families that read window graphs use (a fusion reads precomputed inputs)
GRAPH_FIELDS = (
    "training_config.weight_decay",  # the DQN's Adam has none
    "training_config.gradient_clip",  # the DQN clips nothing (manual optimisation)
    "training_config.id_dropout",  # the DQN reads precomputed fusion inputs, not graphs
    "training_config.num_workers",
    "training_config.optimizer",
    "training_config.scheduler",
)


@dataclass(frozen=True)
class FrozenRun:
    """A COMPLETED run a stage reads (a KD teacher, the curriculum's VGAE, a fused network) or deploys,
    resolved once by the engine: its folder and its network rebuilt from its own config, frozen (None
    for a family that reads no window graphs)."""

    run_dir: Path
    net: Any


class ModelFamily:
    """One model family. Subclasses set the class attributes and override what differs.

    Class attributes (torch-free):
        token: the family's token in the experiment-name grammar (``{learning}_{model}``).
        label: how tables and messages name it ("GAT").
        size_settings: the pydantic settings of its ``model_size_config`` (its network's constructor arguments).
        without_vocabulary: size values for domains whose entities have no fixed vocabulary ({}: none needed).
        reads_window_graphs: trains on window graphs (uses `GRAPH_FIELDS`).
        own_fields: settings fields only this family uses (a dotted key may name a whole group).
        mode_fields: ``{mode: fields}`` used only in that mode (the curriculum GAT's settings).
        distillation_fields: the fields a KD student of this family uses (empty: no KD pairing).
        comparators: ``(metric prefix, label)`` of the comparator rows its evaluation logs.
        single_device: trains on one device (manual optimisation; no DDP, no gradient clipping).
        export_near_tie_share: share of validation windows an export may flip near the threshold.
        kd_window_outputs, kd_node_outputs: the teacher outputs its KD loss reads, one row per window
            (``logits``) or per node (``z``); they are computed once per window and stored
            (`kdgat_train.teacher_outputs`) unless ``distillation_config.teacher_outputs=live``.

    A family the name grammar does not know yet (one registered from outside) also declares:
        declared_learning: its learning token (``supervised``); declared_modes: its modes.
        teacher_family: the token of the family its KD student learns from (None: its own family).
        default_sizes: ``{"teacher": {...}, "student": {...}}`` size values, used where
            ``model_sizes.toml`` has no table for it.
    """

    token: ClassVar[str]
    label: ClassVar[str]
    size_settings: ClassVar[type[BaseModel]]
    without_vocabulary: ClassVar[dict[str, Any]] = {}
    reads_window_graphs: ClassVar[bool] = True
    own_fields: ClassVar[tuple[str, ...]] = ()
    mode_fields: ClassVar[dict[str, tuple[str, ...]]] = {}
    distillation_fields: ClassVar[tuple[str, ...]] = ()
    comparators: ClassVar[tuple[tuple[str, str], ...]] = ()
    single_device: ClassVar[bool] = False
    export_near_tie_share: ClassVar[float] = 0.0
    kd_window_outputs: ClassVar[tuple[str, ...]] = ()
    kd_node_outputs: ClassVar[tuple[str, ...]] = ()
    declared_learning: ClassVar[str | None] = None
    declared_modes: ClassVar[tuple[str, ...]] = ("all_samples",)
    teacher_family: ClassVar[str | None] = None
    default_sizes: ClassVar[dict[str, dict[str, Any]]] = {}

    @property
    def learning(self) -> str:
        """The learning token of the name grammar (``supervised`` for the GAT)."""
        return LEARNING_OF_MODEL[self.token]

    @property
    def modes(self) -> tuple[str, ...]:
        """The training modes the name grammar allows this family."""
        return MODES[self.token]

    @property
    def distills(self) -> bool:
        """Whether a KD student of this family learns from a teacher (its own family's, or `teacher_family`'s)."""
        return bool(self.distillation_fields)

    def __repr__(self) -> str:
        return f"<model family {self.token}>"

    # ---- building a stage ----------------------------------------------------------------------

    def build_network(self, settings, num_ids: int, feature_dims: tuple[int, int]):
        """The family's network with the run's size settings (self-loops come from the data).

        Args:
            settings: the run's `RunSettings`. num_ids: the dataset's vocabulary size (with UNK).
            feature_dims: (node, edge) feature widths of the dataset's graphs.
        """
        raise NotImplementedError

    def build_module(self, settings, net, datamodule, teacher, teacher_outputs=None):
        """The LightningModule that trains ``net`` (with a frozen ``teacher`` network for a KD student, and
        ``teacher_outputs``, ``{split: TeacherOutputs}``, its outputs stored once per window)."""
        raise NotImplementedError

    def build_stage(self, settings, cache, upstream: dict[str, FrozenRun]):
        """``(datamodule, module)`` of ``settings`` on ``cache`` (its `GraphCache`); ``upstream``: the runs it
        reads, resolved and loaded once by the engine (`kdgat_train.stages.upstream_runs.frozen_upstream`),
        ``{config field: FrozenRun}``: a KD teacher, the curriculum's VGAE."""
        from kdgat_train.window_data_module import WindowGraphDataModule, feature_dims

        num_ids, dims = cache.manifest.vocabulary_size, feature_dims(cache)
        curriculum_vgae = upstream.get("training_config.curriculum.vgae_run")
        teacher = upstream.get("distillation_config.teacher_run")
        log = logging.getLogger(__name__)
        if curriculum_vgae is not None:
            log.info("curriculum difficulty from VGAE run %s", curriculum_vgae.run_dir)
        if teacher is not None:
            log.info("knowledge distillation from teacher run %s", teacher.run_dir)
        teacher_outputs = None
        if teacher is not None and settings.distillation_config.teacher_outputs == "stored":
            teacher_outputs = self.stored_teacher_outputs(settings, teacher, cache)
        datamodule = WindowGraphDataModule(
            dataset=settings.dataset_config, training=settings.training_config, cache=cache,
            normals_only=settings.name.mode == "normals_only",
            difficulty_vgae=None if curriculum_vgae is None else curriculum_vgae.net, epochs=settings.training_config.epochs,
        )
        net = self.build_network(settings, num_ids, dims)
        return datamodule, self.build_module(settings, net, datamodule, None if teacher is None else teacher.net,
                                             teacher_outputs)

    def stored_teacher_outputs(self, settings, teacher: FrozenRun, cache) -> dict:
        """``{split: TeacherOutputs}`` of the frozen ``teacher`` on the training and validation windows,
        read from the store beside the cache or computed there once (`kdgat_train.teacher_outputs`)."""
        from kdgat_train.teacher_outputs import stored_teacher_outputs

        return {split: stored_teacher_outputs(teacher.net, RunFolder(teacher.run_dir).best_checkpoint, cache, split,
                                              window_outputs=self.kd_window_outputs, node_outputs=self.kd_node_outputs,
                                              batch_size=settings.training_config.evaluation_batch_size)
                for split in ("train", "val")}

    def trainer_arguments(self, settings) -> dict[str, Any]:
        """Arguments of `lightning.Trainer` that depend on the family (the rest are the engine's)."""
        device, clip = settings.device, settings.training_config.gradient_clip
        if self.single_device:
            return {"devices": 1, "num_nodes": 1, "gradient_clip_val": None}
        return {"devices": device.devices, "num_nodes": device.num_nodes, "gradient_clip_val": clip or None}

    # ---- evaluating and scoring ----------------------------------------------------------------

    def evaluate(self, settings, module, datamodule, run_dir: Path):
        """The fitted stage's `Evaluation` (results, threshold tags, files written)."""
        from kdgat_train.evaluation.stage_evaluation import evaluate_stage

        return evaluate_stage(module, datamodule.prepare(), self, run_dir, settings.evaluation,
                              batch_size=datamodule.evaluation_batch_size)

    def scorer(self, net, *, window: int):
        """The `kdgat_models.window_scorer.WindowScorer` of the family's network ``net`` for windows of at most
        ``window`` nodes: the one way a window is scored, in evaluation, the curriculum, cross-dataset
        evaluation, export and `kdgat-detect` (a family that reads no window graphs has none)."""
        raise NotImplementedError(f"{self.label} scores no window graph on its own")

    def window_scorer(self, settings, cache, *, own: FrozenRun, upstream: dict[str, FrozenRun]):
        """The deployable `kdgat_models.window_scorer.WindowScorer` of the COMPLETED run ``own`` (its folder
        and, for a family that reads window graphs, its frozen network), with the runs it read."""
        return self.scorer(own.net, window=cache.manifest.window)

    def cross_scores(self, settings, source, cross, splits: list[str], *, own: FrozenRun,
                     upstream: dict[str, FrozenRun]) -> dict:
        """``{split: (windows,) scores}`` of the COMPLETED run ``own`` (fitted on ``source``, a `GraphCache`)
        on the splits of another dataset's cache ``cross``: its frozen network, scored as in evaluation."""
        from kdgat_train.evaluation.stage_evaluation import window_scores

        scorer = self.scorer(own.net, window=cross.manifest.window)
        return {split: window_scores(scorer, cross.split(split)) for split in splits}
