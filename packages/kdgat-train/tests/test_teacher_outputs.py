"""Teacher outputs stored once per window: equal to the live teacher, keyed by its checkpoint, read back."""

import shutil

import numpy as np
import pytest
import torch
from kdgat_data.batching import WindowBatches
from kdgat_data.cache import GraphCache
from kdgat_models.self_loops import SelfLoops
from kdgat_train import teacher_outputs as store
from kdgat_train.stages.upstream_runs import load_frozen_network


def _cache(project) -> GraphCache:
    return next(GraphCache.open(p.parent) for p in (project / "data" / "cache").glob("synthetic/*/manifest.json"))


def _teacher(run_dir, cache):
    from kdgat_train.window_data_module import feature_dims

    return load_frozen_network(run_dir, cache.manifest.vocabulary_size, feature_dims(cache))


def _shuffled_batch(arrays):
    batches = WindowBatches(arrays, 48, shuffle=True, generator=torch.Generator().manual_seed(5), transform=SelfLoops())
    return next(iter(batches))


@pytest.mark.parametrize(("teacher_index", "window_outputs", "node_outputs"),
                         [(2, ("logits",), ()), (3, (), ("z", "x_reconstruction"))])
def test_stored_outputs_equal_the_live_teachers_on_a_shuffled_batch(project, kd_runs, teacher_index, window_outputs,
                                                                    node_outputs):
    cache = _cache(project)
    run_dir = kd_runs[teacher_index]
    teacher = _teacher(run_dir, cache)
    stored = store.stored_teacher_outputs(teacher, run_dir / "checkpoints" / "best.ckpt", cache, "train",
                                          window_outputs=window_outputs, node_outputs=node_outputs, batch_size=100)
    batch = _shuffled_batch(cache.split("train"))
    assert not torch.equal(batch.window_index, torch.sort(batch.window_index).values)  # really out of order
    looked_up = stored.for_batch(batch.window_index)
    with torch.no_grad():
        live = teacher.forward_batch(batch)
    for name in (*window_outputs, *node_outputs):
        assert getattr(looked_up, name).shape == getattr(live, name).shape
        torch.testing.assert_close(getattr(looked_up, name), getattr(live, name), rtol=1e-4, atol=1e-5)


def test_a_changed_teacher_checkpoint_is_another_store_and_a_stored_one_is_read_back(project, kd_runs, tmp_path,
                                                                                    monkeypatch):
    cache = _cache(project)
    original = kd_runs[2]
    changed = tmp_path / "changed_teacher"
    shutil.copytree(original, changed)
    checkpoint = torch.load(changed / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=False)
    for key, value in checkpoint["state_dict"].items():
        if key.startswith("net.") and value.is_floating_point():
            checkpoint["state_dict"][key] = value + 0.05 * torch.randn_like(value)
    torch.save(checkpoint, changed / "checkpoints" / "best.ckpt")
    arguments = {"window_outputs": ("logits",), "node_outputs": ()}

    before = store.stored_teacher_outputs(_teacher(original, cache), original / "checkpoints" / "best.ckpt", cache,
                                          "val", **arguments)
    after = store.stored_teacher_outputs(_teacher(changed, cache), changed / "checkpoints" / "best.ckpt", cache,
                                         "val", **arguments)
    assert not torch.allclose(before.window_outputs["logits"], after.window_outputs["logits"])
    batch = _shuffled_batch(cache.split("val"))
    with torch.no_grad():
        live = _teacher(changed, cache).forward_batch(batch).logits
    torch.testing.assert_close(after.for_batch(batch.window_index).logits, live, rtol=1e-4, atol=1e-5)
    assert len(list(store.store_folder(cache).glob("*-val.pt"))) >= 2

    def computing_again(*args, **kwargs):
        raise AssertionError("a stored file for this checkpoint and cache was computed again")

    monkeypatch.setattr(store, "compute_teacher_outputs", computing_again)
    again = store.stored_teacher_outputs(_teacher(changed, cache), changed / "checkpoints" / "best.ckpt", cache, "val",
                                         **arguments)
    assert torch.equal(again.window_outputs["logits"], after.window_outputs["logits"])


def test_a_store_of_another_cache_content_or_a_damaged_file_is_recomputed(project, kd_runs):
    cache = _cache(project)
    run_dir = kd_runs[2]
    teacher, checkpoint = _teacher(run_dir, cache), run_dir / "checkpoints" / "best.ckpt"
    arguments = {"window_outputs": ("logits",), "node_outputs": ()}
    first = store.stored_teacher_outputs(teacher, checkpoint, cache, "val", **arguments)
    path = store.store_path(checkpoint, cache, "val")
    saved = torch.load(path, weights_only=True)
    saved["identity"]["manifest_hash"] = "another cache"
    saved["window"]["logits"] = torch.zeros_like(saved["window"]["logits"])
    torch.save(saved, path)
    recomputed = store.stored_teacher_outputs(teacher, checkpoint, cache, "val", **arguments)
    assert torch.equal(recomputed.window_outputs["logits"], first.window_outputs["logits"])
    path.write_bytes(b"truncated")
    assert torch.equal(store.stored_teacher_outputs(teacher, checkpoint, cache, "val", **arguments)
                       .window_outputs["logits"], first.window_outputs["logits"])


def test_a_kd_student_reading_stored_outputs_gets_the_live_kd_loss_and_gradients(project, kd_runs):
    """The stored path is not a no-op: with it the teacher still changes the student's gradients, exactly
    as running the teacher on the same (un-augmented) batch does."""
    from kdgat_models import GATWithJK
    from kdgat_train.modules.classifier import GraphClassifierModule

    cache = _cache(project)
    run_dir = kd_runs[2]
    teacher = _teacher(run_dir, cache)
    outputs = {"train": store.stored_teacher_outputs(teacher, run_dir / "checkpoints" / "best.ckpt", cache, "train",
                                                     window_outputs=("logits",), node_outputs=())}
    batch = _shuffled_batch(cache.split("train"))

    def gradients(**teacher_arguments):
        torch.manual_seed(0)
        student = GATWithJK(cache.manifest.vocabulary_size, add_self_loops=False, dropout=0.0)
        module = GraphClassifierModule(net=student, **teacher_arguments)
        logged = {}
        module.log_dict = lambda values, **kwargs: logged.update({k: float(v.detach()) for k, v in values.items()})
        module.training_step(batch, 0).backward()
        return torch.cat([p.grad.flatten() for p in student.parameters() if p.grad is not None]), logged

    stored_gradients, stored_logged = gradients(teacher=teacher, teacher_outputs=outputs)
    live_gradients, live_logged = gradients(teacher=teacher)
    plain_gradients, _ = gradients()
    assert stored_logged["train/kd_loss"] > 0
    assert stored_logged["train/kd_loss"] == pytest.approx(live_logged["train/kd_loss"], rel=1e-4)
    torch.testing.assert_close(stored_gradients, live_gradients, rtol=1e-3, atol=1e-6)
    assert not torch.allclose(stored_gradients, plain_gradients)
    assert np.isfinite(stored_gradients.numpy()).all()
