"""Every config field reaches the object it configures (the published system had dead parameters)."""

import pytest
import torch
from kdgat_train.config.settings import (
    DatasetSettings,
    DeviceSettings,
    EvaluationSettings,
    GATSize,
    TrainingSettings,
    VGAESize,
)
from kdgat_train.stages.single_stage import build_stage
from pydantic import BaseModel

from .test_config import _compose, settings_from

GAT = "automotive_synthetic_supervised_gat_student_no_all_samples"
VGAE = "automotive_synthetic_unsupervised_vgae_student_no_all_samples"


def leaf_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted names of every leaf field of ``model`` (nested groups walked)."""
    leaves = []
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            leaves += leaf_fields(kind, f"{prefix}{name}.")
        else:
            leaves.append(f"{prefix}{name}")
    return leaves


def _stage(project, tmp_path, preset, overrides):
    settings = settings_from(_compose(project, [f"config_store={preset}", *overrides]))
    stage = build_stage(settings, tmp_path)
    stage.datamodule.setup("fit")
    return settings, stage


def _fingerprint(net) -> str:
    """Architecture and hyperparameters as they landed in the network."""
    shapes = sorted((name, tuple(p.shape)) for name, p in net.named_parameters())
    return repr(net) + repr(shapes) + repr(getattr(net, "pooling", None))


@pytest.mark.parametrize(("preset", "settings_class", "changes"), [
    (GAT, GATSize, {"hidden_dim": 7, "num_layers": 3, "heads": 2, "id_embedding_dim": 5, "dropout": 0.3,
                    "attention_dropout": 0.1, "jk_mode": "max", "pooling": "multi", "fc_layers": 3, "fc_hidden_dim": 9}),
    (VGAE, VGAESize, {"hidden_dim": 40, "num_layers": 3, "latent_dim": 6, "heads": 2, "id_embedding_dim": 3,
                      "decoder_hidden_dim": 11, "dropout": 0.3, "decode_ids": False, "sampled_negatives": 5,
                      "scoring_probes": 7}),
])
def test_every_model_size_field_changes_the_network(project, tmp_path, preset, settings_class, changes):
    assert set(changes) == set(settings_class.model_fields), "a new field needs a value here"
    _, base = _stage(project, tmp_path, preset, [])
    for field, value in changes.items():
        value_text = "null" if value is None else str(value).lower() if isinstance(value, bool) else value
        _, changed = _stage(project, tmp_path, preset, [f"model_size_config.{field}={value_text}"])
        assert _fingerprint(changed.module.net) != _fingerprint(base.module.net), field


COMMON = [
    "training_config.epochs=3", "training_config.batch_size=17", "training_config.learning_rate=0.02",
    "training_config.weight_decay=0.5", "training_config.seed=9", "training_config.patience=4",
    "training_config.gradient_clip=0.7", "training_config.id_dropout=0.25", "training_config.num_workers=0",
    "training_config.optimizer=sgd", "training_config.scheduler=cosine", "training_config.evaluation_batch_size=33",
    "dataset_config.window=50", "dataset_config.stride=25", "dataset_config.validation_fraction=0.3",
    "dataset_config.features=dynamics", "dataset_config.train_stride=10",
    "device.devices=1", "device.num_nodes=1", "device.precision=bf16-mixed", "device.threads=1",
]
FAMILY = {
    GAT: ["training_config.loss=focal", "training_config.focal_gamma=3.0", "training_config.sampling=balanced"],
    VGAE: ["training_config.vgae.id_weight=0.3", "training_config.vgae.neighbourhood_weight=0.4",
           "training_config.vgae.kl_weight=0.5"],
}


def _used_fields(preset) -> set[str]:
    """Leaf names (``vgae.kl_weight`` in a group) of the training, dataset, device and evaluation fields
    stage ``preset`` uses: every leaf, so a field added to a group is not proved until a test proves it."""
    from kdgat_schemas import ExperimentName
    from kdgat_train.config.field_use import unused_fields

    unused = [f.removeprefix("training_config.") for f in unused_fields(ExperimentName.parse(preset))
              if f.startswith("training_config.")]
    used = {leaf for leaf in leaf_fields(TrainingSettings) if not any(leaf == u or leaf.startswith(f"{u}.") for u in unused)}
    return (used | set(DatasetSettings.model_fields)
            | set(DeviceSettings.model_fields) | set(EvaluationSettings.model_fields))


# proved by other tests, per family: test_curriculum_fields_land, test_every_fusion_field_lands (test_fusion_stage);
# the evaluation fields by evaluation/test_stage_evaluation.py::test_the_evaluation_fields_land (every family
# evaluates through the same threshold rule; the fusion test proves them for the DQN)
EVALUATION = set(EvaluationSettings.model_fields)
CURRICULUM = {"curriculum.start_ratio", "curriculum.end_ratio", "curriculum.difficulty_exponent", "curriculum.vgae_run"}


@pytest.mark.parametrize("preset", [GAT, VGAE])
def test_every_training_dataset_and_device_field_lands(project, tmp_path, preset):
    settings, stage = _stage(project, tmp_path, preset, [*COMMON, *FAMILY[preset]])
    trainer, module, data = stage.trainer, stage.module, stage.datamodule
    optimizers = module.configure_optimizers()
    optimizer, scheduler = optimizers["optimizer"], optimizers["lr_scheduler"]["scheduler"]
    early = [c for c in trainer.callbacks if type(c).__name__ == "EarlyStopping"][0]
    reached = {
        "epochs": trainer.max_epochs == 3, "batch_size": data.train_dataloader().dataset.batch_size == 17,
        "learning_rate": optimizer.param_groups[0]["initial_lr"] == 0.02,
        "weight_decay": optimizer.param_groups[0]["weight_decay"] == 0.5,
        "seed": data.train_set.generator.initial_seed() == 9, "patience": early.patience == 4,
        "gradient_clip": trainer.gradient_clip_val == 0.7,
        "id_dropout": data.train_set.transform.transforms[0].p == 0.25,
        "num_workers": data.train_dataloader().num_workers == 0,
        "optimizer": type(optimizer).__name__ == "SGD",
        "scheduler": type(scheduler).__name__ == "CosineAnnealingLR" and scheduler.T_max == 3,
        "evaluation_batch_size": data.evaluation_batch_size == 33,
    }
    if preset == GAT:
        reached |= {"loss": module.loss_name == "focal", "focal_gamma": module.focal_gamma == 3.0,
                    "sampling": type(data.train_set).__name__ == "ClassBalancedBatches"}
    else:
        reached |= {"vgae.id_weight": module.weights["id_weight"] == 0.3,
                    "vgae.neighbourhood_weight": module.weights["neighbourhood_weight"] == 0.4,
                    "vgae.kl_weight": module.weights["kl_weight"] == 0.5}
    manifest = data.prepare().manifest
    reached |= {"name": manifest.dataset == "synthetic", "window": manifest.window == 50, "stride": manifest.stride == 25,
                "validation_fraction": manifest.validation_fraction == 0.3,
                "features": manifest.feature_version == "can-v2" and data.feature_dims == (18, 11),
                "train_stride": manifest.train_stride == 10 and manifest.stride == 25}
    reached |= {"accelerator": type(trainer.accelerator).__name__ == "CPUAccelerator", "devices": trainer.num_devices == 1,
                "num_nodes": trainer.num_nodes == 1, "precision": trainer.precision == "bf16-mixed",
                "threads": torch.get_num_threads() == 1}
    failed = [k for k, ok in reached.items() if not ok]
    assert failed == []
    assert _used_fields(preset) <= set(reached) | EVALUATION, _used_fields(preset) - set(reached)  # every field it uses


def test_every_family_has_its_fields_proved():
    """Curriculum fields by test_curriculum_fields_land, fusion fields by test_every_fusion_field_lands."""
    from .test_fusion_stage import FUSION_FIELDS_PROVED

    curriculum = "automotive_synthetic_supervised_gat_student_no_curriculum"
    assert _used_fields(curriculum) - _used_fields(GAT) == CURRICULUM
    dqn = "automotive_synthetic_fusion_dqn_student_no_all_samples"
    assert _used_fields(dqn) <= FUSION_FIELDS_PROVED, _used_fields(dqn) - FUSION_FIELDS_PROVED


def test_normals_only_trains_on_normal_windows(project, tmp_path):
    _, stage = _stage(project, tmp_path, "automotive_synthetic_unsupervised_vgae_student_no_normals_only", [])
    labels = {int(y) for batch in stage.datamodule.train_set for y in batch.y}
    assert labels == {0}
    _, everything = _stage(project, tmp_path, VGAE, [])
    assert len(everything.datamodule.train_set.indices) > len(stage.datamodule.train_set.indices)


def test_curriculum_fields_land(project, tmp_path):
    from kdgat_train.api import train

    from .conftest import FAST

    [vgae] = train([f"config_store={VGAE}", *FAST, f"runs_root={tmp_path}"], project_root=project)
    settings, stage = _stage(project, tmp_path, "automotive_synthetic_supervised_gat_student_no_curriculum", [
        f"training_config.curriculum.vgae_run={vgae}", "training_config.curriculum.start_ratio=2",
        "training_config.curriculum.end_ratio=6", "training_config.epochs=3",
        "training_config.curriculum.difficulty_exponent=0",
    ])
    batches = stage.datamodule.train_set
    assert (batches.start_ratio, batches.end_ratio, batches.epochs) == (2, 6, 3)
    assert (batches.weights == 1).all()  # exponent 0: every normal equally likely
    assert stage.datamodule.difficulty_vgae.latent_dim == 16  # the named VGAE run, rebuilt
