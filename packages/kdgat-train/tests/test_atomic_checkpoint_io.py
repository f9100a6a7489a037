"""Checkpoints are written whole or not at all, and a run resumes past a damaged ``last.ckpt``."""

from pathlib import Path

import pytest
import torch
from kdgat_schemas import RunFolder, RunRecord
from kdgat_train import atomic_checkpoint_io
from kdgat_train.api import train
from kdgat_train.atomic_checkpoint_io import AtomicCheckpointIO
from kdgat_train.checkpoint_state import load_checkpoint_state
from kdgat_train.disk_space import NoSpaceError

from .conftest import FAST

VGAE = "automotive_synthetic_unsupervised_vgae_student_no_all_samples"


def test_a_write_that_fails_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    path = tmp_path / "checkpoints" / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.ones(3)}}, path)
    real_save = torch.save

    def disk_fills_half_way(checkpoint, handle):
        real_save(checkpoint, handle)
        handle.truncate(handle.tell() // 2)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_checkpoint_io.torch, "save", disk_fills_half_way)
    with pytest.raises(NoSpaceError, match=f"no space left on the device of {path.parent} .* resume={tmp_path}$"):
        AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.zeros(3)}}, path)
    assert torch.equal(load_checkpoint_state(path)["w"], torch.ones(3))  # the old checkpoint, whole
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]  # no staging file left behind


def test_a_run_resumes_from_its_best_checkpoint_when_last_is_damaged(project, tmp_path, monkeypatch, capsys):
    saved = []
    real = AtomicCheckpointIO.save_checkpoint
    monkeypatch.setattr(AtomicCheckpointIO, "save_checkpoint",
                        lambda self, checkpoint, path, storage_options=None: saved.append(path) or real(
                            self, checkpoint, path, storage_options))
    common = [f"config_store={VGAE}", *FAST, "training_config.patience=0", f"runs_root={tmp_path}"]
    [run_dir] = train(common, project_root=project)
    folder = RunFolder(run_dir)
    assert {Path(p).name for p in saved} == {"best.ckpt", "last.ckpt"}  # the trainer's writer
    data = folder.last_checkpoint.read_bytes()
    folder.last_checkpoint.write_bytes(data[: len(data) // 2])  # what a full disk left before
    [again] = train([*common, "training_config.epochs=2", f"resume={run_dir}"], project_root=project)
    record = RunRecord.read(again)
    assert again == run_dir and record.status == "COMPLETED" and record.timings["epochs"] == 2
    assert "resuming from" in (run_dir / "train.log").read_text()

    for checkpoint in (folder.last_checkpoint, folder.best_checkpoint):
        checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    with pytest.raises(SystemExit) as stop:
        train([*common, "training_config.epochs=3", f"resume={run_dir}"], project_root=project)
    assert f"delete {folder.last_checkpoint} to start the run over" in str(stop.value)
