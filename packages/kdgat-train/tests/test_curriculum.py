"""The curriculum is alive: re-sampled every epoch, ramping 1:1 -> 10:1, hardest normals first."""

import numpy as np
import pytest
from kdgat_data.graph_arrays import GraphArrays
from kdgat_schemas import RunRecord
from kdgat_train.api import train
from kdgat_train.curriculum import CurriculumBatches

from .conftest import FAST


def _store(n_normal: int, n_attack: int) -> GraphArrays:
    """Windows with one node each whose first feature is the window index."""
    g = n_normal + n_attack
    x = np.zeros((g, 10), np.float32)
    x[:, 0] = np.arange(g)  # window identity, readable from a batch
    return GraphArrays(
        x=x, node_id=np.ones(g, np.int32), node_y=np.zeros(g, np.uint8),
        edge_index=np.zeros((2, 0), np.int32), edge_attr=np.zeros((0, 11), np.float32),
        node_ptr=np.arange(g + 1), edge_ptr=np.zeros(g + 1, np.int64),
        y=np.array([0] * n_normal + [1] * n_attack, np.uint8), attack_type=np.zeros(g, np.int16),
        source=np.zeros(g, np.int32), window_start=np.arange(g), window_stop=np.arange(g) + 1,
        start_time=np.zeros(g), end_time=np.zeros(g),
    )


def test_ratio_ramps_and_sample_changes_every_epoch():
    arrays = _store(1000, 20)
    difficulty = np.random.default_rng(0).random(1000)
    batches = CurriculumBatches(arrays=arrays, batch_size=64, difficulty=difficulty, epochs=4, start_ratio=1, end_ratio=10, seed=3)
    samples, ratios = [], []
    for _ in range(4):
        windows = np.concatenate([b.x[:, 0].numpy().astype(int) for b in batches])
        samples.append(set(windows.tolist()))
        ratios.append(batches.last["normal_to_attack"])
    assert ratios == [1.0, 4.0, 7.0, 10.0]
    assert [len(s) for s in samples] == [40, 100, 160, 220]  # attacks + ratio x attacks normals
    assert samples[0] != samples[1]
    same_size = CurriculumBatches(arrays=arrays, batch_size=64, difficulty=difficulty, epochs=1, start_ratio=5, end_ratio=5, seed=3)
    first, second = (set(np.concatenate([b.x[:, 0].numpy().astype(int) for b in same_size]).tolist()) for _ in range(2))
    assert first != second  # re-sampled even when the ratio does not change


def test_hardest_normals_come_first():
    arrays = _store(1000, 20)
    difficulty = np.linspace(0, 1, 1000)
    batches = CurriculumBatches(arrays=arrays, batch_size=64, difficulty=difficulty, epochs=10, seed=1)
    list(batches)
    assert batches.last["normal_difficulty"] > 0.7  # 20 of 1000 normals, drawn with weight rank^4 (mean 0.8)
    assert batches.last["normal_difficulty"] > difficulty.mean() + 0.2


def test_curriculum_run_end_to_end(project, tmp_path):
    common = [*FAST, f"runs_root={tmp_path}"]
    with pytest.raises(SystemExit, match="config_store=automotive_synthetic_unsupervised_vgae_student_no_normals_only"):
        train(["config_store=automotive_synthetic_supervised_gat_student_no_curriculum", *common], project_root=project)
    [vgae] = train(["config_store=automotive_synthetic_unsupervised_vgae_student_no_normals_only", *common], project_root=project)
    [run_dir] = train(["config_store=automotive_synthetic_supervised_gat_student_no_curriculum", *common,
                       "training_config.epochs=2", "training_config.patience=0", "training_config.curriculum.end_ratio=3"],
                      project_root=project)
    record = RunRecord.read(run_dir)
    assert record.status == "COMPLETED"
    assert record.metrics["curriculum/normal_to_attack"] == 3.0 and record.metrics["curriculum/normal_difficulty"] > 0
    assert f"curriculum difficulty from VGAE run {vgae}" in (run_dir / "train.log").read_text()
