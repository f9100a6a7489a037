"""Class-balanced sampling is alive: each epoch shows both classes equally, drawn anew, and the
data module and the loss weights follow ``training_config.sampling``."""

import numpy as np
import pytest
from kdgat_train.class_balanced_batches import ClassBalancedBatches
from kdgat_train.config.settings import DatasetSettings, TrainingSettings
from kdgat_train.window_data_module import WindowGraphDataModule

from .test_config import _compose
from .test_curriculum import _store


def _epoch_windows(batches) -> np.ndarray:
    return np.concatenate([b.x[:, 0].numpy().astype(int) for b in batches])


def test_every_epoch_is_class_balanced_and_drawn_anew():
    arrays = _store(980, 20)  # 2 % attacks
    batches = ClassBalancedBatches(arrays=arrays, batch_size=64, seed=5)
    first, second = _epoch_windows(batches), _epoch_windows(batches)
    for windows in (first, second):
        assert len(windows) == 1000  # as many windows as the split holds
        assert 0.45 < (windows >= 980).mean() < 0.55  # half attacks, against 2 % in the split
    assert not np.array_equal(first, second)
    assert np.bincount(first[first >= 980]).max() > 1  # the 20 attack windows recur within an epoch
    assert batches.last["attack_share"] == pytest.approx((second >= 980).mean())
    again = ClassBalancedBatches(arrays=arrays, batch_size=64, seed=5)
    assert np.array_equal(_epoch_windows(again), first)  # seeded


def test_a_missing_class_is_refused_by_name():
    with pytest.raises(ValueError, match="the training split of x has 0 normal and 30 attack windows"):
        ClassBalancedBatches(arrays=_store(0, 30), batch_size=8, source="the training split of x")


def test_data_module_draws_balanced_epochs_and_the_loss_stops_reweighting(project):
    dataset = DatasetSettings(name="synthetic", window=50, stride=50)
    shuffled = WindowGraphDataModule(dataset=dataset, training=TrainingSettings(batch_size=64))
    balanced = WindowGraphDataModule(dataset=dataset, training=TrainingSettings(batch_size=64, sampling="balanced"))
    for module in (shuffled, balanced):
        module.setup()
    split_share = float(np.asarray(shuffled.prepare().split("train").y).mean())
    epoch_share = float(np.concatenate([b.y.numpy() for b in balanced.train_set]).mean())
    assert abs(split_share - 0.5) > 0.1, "the tiny synthetic split should be imbalanced for this test to mean anything"
    assert abs(epoch_share - 0.5) < 0.1
    counts = shuffled.class_counts()
    assert counts[0] != counts[1]
    assert balanced.class_counts().tolist() == [counts.sum() / 2] * 2  # weighted_ce: equal weights


def test_curriculum_and_balanced_sampling_are_refused_together(project):
    from kdgat_train.task import settings_from

    with pytest.raises(SystemExit, match="on automotive_synthetic_supervised_gat_student_no_curriculum: the curriculum GAT draws its own normal:attack ratio"):
        settings_from(_compose(project, ["config_store=automotive_synthetic_supervised_gat_student_no_curriculum",
                                         "training_config.sampling=balanced"]))
    with pytest.raises(SystemExit, match="training_config.sampling='balanced': only GAT and graph-less MLP stages use it"):
        settings_from(_compose(project, ["config_store=automotive_synthetic_unsupervised_vgae_student_no_normals_only",
                                         "training_config.sampling=balanced"]))
    with pytest.raises(SystemExit, match="pipeline.gat_mode=curriculum"):
        settings_from(_compose(project, ["config_store=automotive_synthetic_pipeline", "pipeline.gat_mode=curriculum",
                                         "training_config.sampling=balanced"]))
