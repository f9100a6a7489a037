"""Find, rebuild and freeze the teacher of a KD student (DESIGN.md §4, failure 2 of §9).

The teacher is rebuilt from ITS OWN saved config (never guessed from the student's), its best
checkpoint is loaded with ``strict=True``, and it is frozen in eval mode.
"""

from __future__ import annotations

from pathlib import Path

import torch
import yaml
from kdgat_schemas import ExperimentName, RunPaths, RunRecord

from kdgat_train.config.run_settings import RunSettings
from kdgat_train.stages.networks import CAN_FEATURE_DIMS, build_network


class TeacherError(RuntimeError):
    """No usable teacher run, or one whose weights do not fit its saved config."""


def teacher_name(student: ExperimentName) -> ExperimentName:
    return student.model_copy(update={"size": "teacher", "distillation": "no"})


def latest_completed_run(paths: RunPaths, name: ExperimentName) -> Path | None:
    """The highest-numbered run folder of ``name`` whose run.json says COMPLETED."""
    for run_dir in reversed(paths.existing_runs(name)):
        if (run_dir / "run.json").is_file() and RunRecord.read(run_dir).status == "COMPLETED":
            return run_dir
    return None


def _find_run(settings: RunSettings, explicit: str | None, candidates: list[ExperimentName], needs: str,
              override: str) -> Path:
    """``explicit`` if given, else the latest COMPLETED run of the first candidate that has one; else an
    error that prints the command training the first candidate and the override naming a run."""
    if explicit:
        return Path(explicit)
    for candidate in candidates:
        if (found := latest_completed_run(RunPaths(settings.runs_root), candidate)) is not None:
            return found
    alternatives = "".join(f" (or {c.mode})" for c in candidates[1:])
    raise TeacherError(
        f"{settings.name} {needs} {candidates[0]}{alternatives} under {settings.runs_root}; train it first:\n"
        f"  uv run kdgat-train config_store={candidates[0]} dataset_config.name={settings.dataset_config.name}\n"
        f"or name one with {override}=RUN_DIR"
    )


def find_curriculum_vgae_run(settings: RunSettings) -> Path:
    """``training_config.curriculum_vgae_run``, else the latest COMPLETED same-size VGAE run (no KD) of
    the same dataset, trained on normal windows if there is one, else on all windows."""
    candidates = [
        settings.name.model_copy(update={"learning": "unsupervised", "model": "vgae", "distillation": "no", "mode": mode})
        for mode in ("normals_only", "all_samples")
    ]
    return _find_run(settings, settings.training_config.curriculum_vgae_run, candidates,
                     "scores normal windows with a completed VGAE run of", "training_config.curriculum_vgae_run")


FUSION_MODES = {"vgae": ("unsupervised", ("normals_only", "all_samples")), "gat": ("supervised", ("all_samples", "curriculum"))}


def find_fusion_runs(settings: RunSettings) -> tuple[Path, Path]:
    """``(VGAE run, GAT run)`` fused by a DQN stage: ``training_config.fusion_vgae_run`` /
    ``fusion_gat_run``, else the latest COMPLETED run of the same size and distillation variant
    (VGAE on normal windows before all windows; GAT on all windows before curriculum)."""
    t = settings.training_config
    found = []
    for model, explicit in (("vgae", t.fusion_vgae_run), ("gat", t.fusion_gat_run)):
        learning, modes = FUSION_MODES[model]
        candidates = [settings.name.model_copy(update={"learning": learning, "model": model, "mode": mode}) for mode in modes]
        found.append(_find_run(settings, explicit, candidates, f"fuses a completed {model.upper()} run of",
                               f"training_config.fusion_{model}_run"))
    return found[0], found[1]


def find_teacher_run(settings: RunSettings) -> Path:
    """``distillation_config.teacher_run``, else the latest COMPLETED teacher run of the same
    domain, dataset, model and mode in the run tree."""
    return _find_run(settings, settings.distillation_config.teacher_run, [teacher_name(settings.name)],
                     "needs a completed teacher run of", "distillation_config.teacher_run")


def load_frozen_network(run_dir: Path, num_ids: int, feature_dims: tuple[int, int] = CAN_FEATURE_DIMS) -> torch.nn.Module:
    """The network of ``run_dir`` (a KD teacher, or the curriculum's VGAE) rebuilt from its own
    ``config.yaml``, best weights loaded strictly, frozen in eval mode."""
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    teacher_settings = RunSettings.model_validate({**config, "resume": None})
    net = build_network(teacher_settings, num_ids, feature_dims)
    checkpoint = run_dir / "checkpoints" / "best.ckpt"
    if not checkpoint.is_file():
        raise TeacherError(f"teacher run {run_dir} has no checkpoints/best.ckpt")
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    weights = {key.removeprefix("net."): value for key, value in state.items() if key.startswith("net.")}
    try:
        net.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        raise TeacherError(f"teacher run {run_dir}: its weights do not fit its saved config.yaml:\n{error}") from None
    net.eval()
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    return net
