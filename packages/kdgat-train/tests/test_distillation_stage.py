"""Knowledge distillation: teacher found and rebuilt strictly, KD term alive, missing teacher explained."""

import shutil

import pytest
import torch
import yaml
from kdgat_schemas import RunRecord
from kdgat_train.api import train
from kdgat_train.stages.upstream_runs import TeacherError, load_frozen_network

from .conftest import FAST, GAT_TEACHER

GAT_KD = "automotive_synthetic_supervised_gat_student_standard_all_samples"
VGAE_KD = "automotive_synthetic_unsupervised_vgae_student_standard_all_samples"


@pytest.mark.parametrize(("preset", "teacher_index"), [(GAT_KD, 2), (VGAE_KD, 3)])
def test_kd_student_trains_with_a_live_kd_term(project, kd_runs, preset, teacher_index):
    root, common, *_ = kd_runs
    [run_dir] = train([f"config_store={preset}", *common], project_root=project)
    record = RunRecord.read(run_dir)
    assert record.status == "COMPLETED"
    assert record.metrics["train/kd_loss"] > 0
    assert f"knowledge distillation from teacher run {kd_runs[teacher_index]}" in (run_dir / "train.log").read_text()


def test_a_teacher_completing_while_the_student_starts_changes_nothing(project, kd_runs, monkeypatch):
    """A stage resolves its teacher once: a newer teacher run that completes right after the student's
    first lookup is neither trained against nor recorded (before, the check, the build and run.json
    each looked again, so run.json could name a teacher the student never saw)."""
    from kdgat_train.stages import upstream_runs

    _, common, gat_teacher, _ = kd_runs
    newer = gat_teacher.parent / "run_900"
    shutil.copytree(gat_teacher, newer)
    RunRecord.read(newer).model_copy(update={"status": "RUNNING", "run_dir": str(newer)}).write(newer)
    real, looked = upstream_runs.latest_completed_run, []

    def newer_completes_after_the_first_lookup(paths, name):
        found = real(paths, name)
        if not looked:
            RunRecord.read(newer).model_copy(update={"status": "COMPLETED"}).write(newer)
        looked.append(found)
        return found

    monkeypatch.setattr(upstream_runs, "latest_completed_run", newer_completes_after_the_first_lookup)
    try:
        [run_dir] = train([f"config_store={GAT_KD}", *common], project_root=project)
    finally:
        shutil.rmtree(newer)
    assert looked[0] == gat_teacher
    assert RunRecord.read(run_dir).upstream_runs["distillation_config.teacher_run"] == str(gat_teacher)
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["distillation_config"]["teacher_run"] == str(gat_teacher)  # a replay uses the same teacher
    assert f"knowledge distillation from teacher run {gat_teacher}" in (run_dir / "train.log").read_text()


def test_missing_teacher_prints_the_command_that_trains_it(project, tmp_path):
    with pytest.raises(SystemExit) as error:
        train([f"config_store={GAT_KD}", *FAST, f"runs_root={tmp_path}"], project_root=project)
    assert f"uv run kdgat-train config_store={GAT_TEACHER} dataset_config.name=synthetic runs_root={tmp_path}\n" \
        in str(error.value)  # the user's own run tree, so the hint trains the teacher where the student looks
    assert not list(tmp_path.glob("**/run_*"))  # nothing allocated for a run that cannot start


def test_teacher_is_rebuilt_from_its_own_config_frozen_and_strict(kd_runs, tmp_path):
    _, _, gat_teacher, _ = kd_runs
    teacher = load_frozen_network(gat_teacher, num_ids=_num_ids(gat_teacher))
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    assert teacher.convs[0].out_channels == 16  # its own size, not the student's preset
    broken = tmp_path / "broken_teacher"
    shutil.copytree(gat_teacher, broken)
    config = yaml.safe_load((broken / "config.yaml").read_text())
    config["model_size_config"]["hidden_dim"] = 20  # the saved config no longer matches the weights
    (broken / "config.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(TeacherError, match="do not fit its saved config.yaml"):
        load_frozen_network(broken, num_ids=_num_ids(gat_teacher))


def test_the_teacher_changes_the_students_gradients(kd_runs, project):
    from kdgat_data.batching import collate_windows
    from kdgat_data.cache import GraphCache
    from kdgat_models import GATWithJK
    from kdgat_models.self_loops import SelfLoops
    from kdgat_train.modules.classifier import GraphClassifierModule

    _, _, gat_teacher, _ = kd_runs
    num_ids = _num_ids(gat_teacher)
    cache = next(GraphCache.open(p.parent) for p in (project / "data" / "cache").glob("synthetic/*/manifest.json"))
    batch = SelfLoops()(collate_windows(cache.split("train"), range(32)))
    teacher = load_frozen_network(gat_teacher, num_ids)

    def gradients(with_teacher: bool):
        torch.manual_seed(0)
        student = GATWithJK(num_ids, add_self_loops=False, dropout=0.0)
        module = GraphClassifierModule(net=student, teacher=teacher if with_teacher else None)
        module.log = lambda *args, **kwargs: None
        module.training_step(batch, 0).backward()
        return torch.cat([p.grad.flatten() for p in student.parameters() if p.grad is not None])

    assert not torch.allclose(gradients(True), gradients(False))
    assert all(p.grad is None for p in teacher.parameters())


def test_the_kd_term_balances_the_classes_as_the_class_weighted_task_loss_does(kd_runs, project):
    """With ``weighted_ce`` the KD term (alpha 0.7, most of the loss) must weigh attack windows as the task loss
    does. Unweighted, it trained the main job's GAT student as if on plain CE: student+KD validation AUROC 0.81
    against 0.99 without KD. Every window here has the same KL and the same CE, so each window's pull on the
    student is its weight: attacks must pull half of each term, not their 1-in-8 share of the windows."""
    import numpy as np
    from kdgat_data.batching import collate_windows
    from kdgat_data.cache import GraphCache
    from kdgat_models import GATWithJK
    from kdgat_models.self_loops import SelfLoops
    from kdgat_train.modules.classifier import GraphClassifierModule
    from kdgat_train.teacher_outputs import TeacherOutputs

    _, _, gat_teacher, _ = kd_runs
    cache = next(GraphCache.open(p.parent) for p in (project / "data" / "cache").glob("synthetic/*/manifest.json"))
    batch = SelfLoops()(collate_windows(cache.split("train"), range(32)))
    batch.y = torch.tensor([1, 0, 0, 0, 0, 0, 0, 0] * 4)
    batch.window_index = torch.arange(32)
    teacher_logits = torch.stack([torch.where(batch.y == 1, -2.0, 2.0), torch.where(batch.y == 1, 2.0, -2.0)], dim=1)
    stored = TeacherOutputs(window_outputs={"logits": teacher_logits}, node_outputs={}, node_ptr=np.zeros(33))
    teacher = load_frozen_network(gat_teacher, _num_ids(gat_teacher))
    module = GraphClassifierModule(net=GATWithJK(_num_ids(gat_teacher), add_self_loops=False), loss="weighted_ce",
                                   class_counts=torch.tensor([28.0, 4.0]), teacher=teacher,
                                   teacher_outputs={"train": stored})
    logged = {}
    module.log_dict = lambda values, **kwargs: logged.update(values)

    def attack_share(term: str) -> float:
        logits = torch.zeros(32, 2, requires_grad=True)
        module._objective(batch, logits, "train")
        (gradient,) = torch.autograd.grad(logged[f"train/{term}"], logits)
        pull = gradient.abs().sum(dim=1)
        return float(pull[batch.y == 1].sum() / pull.sum())

    assert attack_share("task_loss") == pytest.approx(0.5, abs=1e-5)
    assert attack_share("kd_loss") == pytest.approx(0.5, abs=1e-5)


def test_validation_reads_the_objective_the_run_minimises(kd_runs, project):
    """Checkpoints and early stopping monitor val/loss: for a KD student it must be KD + (1 - alpha) CE, as
    in training (with the plain CE a KD student was kept at its first epoch while its AUROC still rose)."""
    import torch.nn.functional as F
    from kdgat_data.batching import collate_windows
    from kdgat_data.cache import GraphCache
    from kdgat_models import GATWithJK, GraphAutoencoderNeighborhood
    from kdgat_models.distillation import logit_distillation_loss
    from kdgat_models.self_loops import SelfLoops
    from kdgat_models.vgae import vgae_loss
    from kdgat_train.modules.autoencoder import AutoencoderModule
    from kdgat_train.modules.classifier import GraphClassifierModule

    _, _, gat_teacher, vgae_teacher = kd_runs
    cache = next(GraphCache.open(p.parent) for p in (project / "data" / "cache").glob("synthetic/*/manifest.json"))
    validation = cache.split("val")
    batch = SelfLoops()(collate_windows(validation, range(min(32, len(validation.y)))))

    def logged_validation(module) -> dict[str, float]:
        logged = {}
        module.log = lambda name, value, **kwargs: logged.__setitem__(name, float(value))
        module.eval()
        with torch.no_grad():
            module.validation_step(batch, 0)
        return logged

    torch.manual_seed(0)
    num_ids = _num_ids(gat_teacher)
    student = GATWithJK(num_ids, add_self_loops=False)
    teacher = load_frozen_network(gat_teacher, num_ids)
    logged = logged_validation(GraphClassifierModule(net=student, teacher=teacher, kd_alpha=0.7, kd_temperature=4.0))
    with torch.no_grad():
        logits, teacher_logits = student.forward_batch(batch).logits, teacher.forward_batch(batch).logits
    task = float(F.cross_entropy(logits, batch.y))
    kd = float(logit_distillation_loss(logits, teacher_logits, None, 4.0, 0.7))
    assert kd > 0 and logged["val/task_loss"] == pytest.approx(task, rel=1e-5)
    assert logged["val/kd_loss"] == pytest.approx(kd, rel=1e-5)
    assert logged["val/loss"] == pytest.approx(kd + 0.3 * task, rel=1e-5)
    plain = logged_validation(GraphClassifierModule(net=student))
    assert plain["val/loss"] == pytest.approx(task, rel=1e-5) and "val/kd_loss" not in plain

    num_ids = _num_ids(vgae_teacher)
    student = GraphAutoencoderNeighborhood(num_ids=num_ids, add_self_loops=False)
    teacher = load_frozen_network(vgae_teacher, num_ids)
    module = AutoencoderModule(net=student, teacher=teacher)
    logged = logged_validation(module)
    with torch.no_grad():
        task = float(vgae_loss(student.forward_batch(batch), batch.x, batch.node_id, batch.edge_index, batch.batch,
                               **module.weights))
    assert logged["val/kd_loss"] > 0 and logged["val/task_loss"] == pytest.approx(task, rel=1e-5)
    assert logged["val/loss"] == pytest.approx(task + logged["val/kd_loss"], rel=1e-5)


def _num_ids(run_dir) -> int:
    state = torch.load(run_dir / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=False)["state_dict"]
    return state["net.id_embedding.weight"].shape[0]


def test_every_distillation_field_lands(project, kd_runs, tmp_path):
    from kdgat_train.config.settings import DistillationSettings
    from kdgat_train.stages.single_stage import build_stage

    from .test_config import _compose, settings_from

    _, _, gat_teacher, vgae_teacher = kd_runs
    gat = settings_from(_compose(project, [f"config_store={GAT_KD}", f"distillation_config.teacher_run={gat_teacher}",
                                           "distillation_config.temperature=2.5", "distillation_config.alpha=0.4"]))
    module = build_stage(gat, tmp_path).module
    vgae = settings_from(_compose(project, [f"config_store={VGAE_KD}", f"distillation_config.teacher_run={vgae_teacher}",
                                            "distillation_config.latent_weight=0.3", "distillation_config.reconstruction_weight=0.2"]))
    vgae_module = build_stage(vgae, tmp_path).module
    reached = {
        "mode": module.teacher is not None and vgae_module.teacher is not None,
        "teacher_run": module.teacher.convs[0].out_channels == 16,  # the named teacher, with its own size
        "temperature": module.kd_temperature == 2.5, "alpha": module.kd_alpha == 0.4,
        "latent_weight": vgae_module.kd_loss.latent_weight == 0.3,
        "reconstruction_weight": vgae_module.kd_loss.reconstruction_weight == 0.2,
        "teacher_outputs": set(module._teacher_outputs) == {"train", "val"} and not build_stage(
            gat.model_copy(update={"distillation_config": gat.distillation_config.model_copy(
                update={"teacher_outputs": "live"})}), tmp_path).module._teacher_outputs,
    }
    assert [k for k, ok in reached.items() if not ok] == []
    assert set(DistillationSettings.model_fields) == set(reached)
    assert isinstance(vgae_module.kd_loss.projection, torch.nn.Linear)  # 16 -> 12 latent: a learned projection
    assert any(name.startswith("kd_loss.projection") for name, _ in vgae_module.named_parameters())


class _Payload:
    """Unpickling this runs ``Path(marker).touch()``: what a crafted checkpoint would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        from pathlib import Path

        return (Path.touch, (Path(self.marker),))


def test_a_crafted_teacher_checkpoint_is_refused_and_runs_nothing(kd_runs, tmp_path):
    """A teacher is picked automatically from a shared run tree: a checkpoint that holds anything
    but tensors must be refused before its pickle can run (weights_only loading everywhere)."""
    from kdgat_train.checkpoint_state import CheckpointError, load_checkpoint_state

    _, _, gat_teacher, _ = kd_runs
    crafted = tmp_path / "crafted_teacher"
    shutil.copytree(gat_teacher, crafted)
    marker = tmp_path / "payload_ran"
    state = torch.load(crafted / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=True)
    state["hyper_parameters"] = _Payload(marker)
    torch.save(state, crafted / "checkpoints" / "best.ckpt")
    with pytest.raises(TeacherError, match="refused to load: it holds objects other than tensors") as refused:
        load_frozen_network(crafted, num_ids=_num_ids(gat_teacher))
    assert not marker.exists()
    # torch's own reason is quoted, without the bold escape codes it carries ("\x1b[1m") and on one line
    assert "do those steps only if you trust the source" in str(refused.value)
    assert "\x1b" not in str(refused.value) and "\n" not in str(refused.value)
    (crafted / "checkpoints" / "best.ckpt").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint_state(crafted / "checkpoints" / "best.ckpt")
    assert load_checkpoint_state(gat_teacher / "checkpoints" / "best.ckpt")  # a real one loads


def test_a_broken_teacher_config_is_one_line(kd_runs, tmp_path):
    _, _, gat_teacher, _ = kd_runs
    broken = tmp_path / "broken_config"
    shutil.copytree(gat_teacher, broken)
    for text in ("experiment_name: [unclosed\n", "- just\n- a list\n", "{}\n"):
        (broken / "config.yaml").write_text(text)
        with pytest.raises(TeacherError, match=r"its config.yaml cannot be read \(.+\); retrain that run") as error:
            load_frozen_network(broken, num_ids=_num_ids(gat_teacher))
        assert "\n" not in str(error.value)


def test_a_teacher_config_with_an_invalid_value_is_one_line_naming_the_field_through_kdgat_train(project, kd_runs,
                                                                                                  tmp_path):
    root, common, gat_teacher, _ = kd_runs
    broken = tmp_path / "invalid_value"
    shutil.copytree(gat_teacher, broken)
    config = yaml.safe_load((broken / "config.yaml").read_text())
    config["model_size_config"]["hidden_dim"] = -3
    (broken / "config.yaml").write_text(yaml.safe_dump(config))
    student_runs = tmp_path / "student_runs"
    with pytest.raises(SystemExit) as stop:
        train([f"config_store={GAT_KD}", *FAST, f"runs_root={student_runs}",
               f"distillation_config.teacher_run={broken}"], project_root=project)
    message = str(stop.value.code)
    assert message.startswith(f"kdgat-train: run {broken}: its config.yaml cannot be read (model_size_config.hidden_dim: ")
    assert "(got -3)" in message and "\n" not in message and "Traceback" not in message
    assert not list(student_runs.rglob("run.json"))  # refused before the student's run folder exists


def test_a_truncated_teacher_checkpoint_is_one_line_and_leaves_no_student_run(kd_runs, tmp_path):
    root, common, gat_teacher, _ = kd_runs
    truncated = tmp_path / "truncated_teacher" / "run_001"
    shutil.copytree(gat_teacher, truncated)
    checkpoint = truncated / "checkpoints" / "best.ckpt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:20_000])  # a copy cut short, a disk that filled up
    students = root / "automotive" / "synthetic" / "supervised" / "gat" / "student" / "standard"
    before = set(students.glob("**/run_*"))
    with pytest.raises(SystemExit) as stop:
        train([f"config_store={GAT_KD}", *common, f"distillation_config.teacher_run={truncated}"])
    message = str(stop.value.code)
    assert "best.ckpt: not a readable checkpoint" in message and "retrain that run" in message and "\n" not in message
    assert set(students.glob("**/run_*")) == before  # checked before the student's run folder is allocated
