"""Find, rebuild and freeze the runs a stage needs (DESIGN.md §4, failure 2 of §9): a KD student's
teacher, a curriculum's VGAE, a fusion's VGAE and GAT (what is needed: `kdgat_schemas.upstream_rules`).

The teacher is rebuilt from ITS OWN saved config (never guessed from the student's), its best
checkpoint is loaded with ``strict=True``, and it is frozen in eval mode.
"""

from __future__ import annotations

from pathlib import Path

import torch
from kdgat_data.catalog import find_project_root
from kdgat_schemas import ExperimentName, RunFolder, RunPaths, UpstreamNeed, upstream_needs
from pydantic import ValidationError

from kdgat_train.checkpoint_state import CheckpointError, load_checkpoint_state
from kdgat_train.config.renamed_fields import current_field_name
from kdgat_train.config.run_settings import RunSettings
from kdgat_train.config.settings import field_value, with_field_value
from kdgat_train.families import FrozenRun, family_of
from kdgat_train.window_data_module import feature_dims

CAN_FEATURE_DIMS = (10, 11)  # continuous node features, edge features of CAN window graphs


class TeacherError(RuntimeError):
    """No usable teacher run, or one whose weights do not fit its saved config."""


def latest_completed_run(paths: RunPaths, name: ExperimentName) -> Path | None:
    """The highest-numbered run folder of ``name`` whose run.json says COMPLETED."""
    for run_dir in reversed(paths.existing_runs(name)):
        if RunFolder(run_dir).is_completed():
            return run_dir
    return None


def _find_run(settings: RunSettings, need: UpstreamNeed) -> Path:
    """The run folder named in ``need.field`` if given, else the latest COMPLETED run of the first
    candidate that has one; else an error that prints the command training the first candidate and
    the override naming a run."""
    explicit = field_value(settings, need.field)
    if explicit:
        return Path(explicit)
    for candidate in need.candidates:
        if (found := latest_completed_run(RunPaths(settings.runs_root), candidate)) is not None:
            return found
    alternatives = "".join(f" (or {c.mode})" for c in need.candidates[1:])
    runs_root = "" if _is_default_runs_root(settings.runs_root) else f" runs_root={settings.runs_root}"
    raise TeacherError(
        f"{settings.name} needs a completed {need.role} run of {need.candidates[0]}{alternatives} under "
        f"{settings.runs_root}; train it first:\n"
        f"  uv run kdgat-train config_store={need.candidates[0]} dataset_config.name={settings.dataset_config.name}{runs_root}\n"
        f"or name one with {need.field}=RUN_DIR"
    )


def _is_default_runs_root(runs_root: str) -> bool:
    """Whether ``runs_root`` is the project's experimentruns/ (a command without runs_root= uses it)."""
    project = find_project_root()
    return project is not None and Path(runs_root).resolve() == (project / "experimentruns").resolve()


def find_upstream_runs(settings: RunSettings) -> dict[str, Path]:
    """Config field -> run folder of everything the stage needs (`kdgat_schemas.upstream_rules`): the
    folder the field names, else the latest COMPLETED run of its preferred candidate."""
    return {need.field: _find_run(settings, need) for need in upstream_needs(settings.name)}


def with_upstream_runs(settings: RunSettings, found: dict[str, Path]) -> RunSettings:
    """``settings`` with each upstream field set to the run ``found`` for it (`find_upstream_runs`), so
    a stage resolves its upstream runs once: it trains against, records and saves in config.yaml exactly
    those, even if another run of the same name completes while it starts."""
    for dotted, folder in found.items():
        settings = with_field_value(settings, dotted, str(folder))
    return settings


def with_recorded_upstream(settings: RunSettings, run_dir: Path) -> RunSettings:
    """``settings`` of the existing run ``run_dir`` with every upstream field its run.json recorded
    (`RunRecord.upstream_runs`) filled in, so a rebuilt fusion run fuses the VGAE and GAT it was
    trained on, not whatever run is latest now. Fields the config names explicitly stay as they are."""
    folder = RunFolder(run_dir)
    recorded = folder.read_record().upstream_runs if folder.has_record() else {}
    for dotted, folder in recorded.items():
        dotted = current_field_name(dotted)  # recorded before the training groups were nested
        if not field_value(settings, dotted):
            settings = with_field_value(settings, dotted, folder)
    return settings


def settings_of_run(config: dict, run_dir: Path) -> RunSettings:
    """The `RunSettings` of the existing run ``run_dir`` from its saved ``config`` (config.yaml), with
    its recorded upstream runs (`with_recorded_upstream`): what rebuilding the run (cross-dataset
    evaluation, export, detection) starts from."""
    return with_recorded_upstream(RunSettings.model_validate({**config, "resume": None}), run_dir)


def _saved_settings(run_dir: Path) -> RunSettings:
    prefix = ""
    try:
        saved = RunSettings.model_validate({**RunFolder(run_dir).read_config(), "resume": None})
        prefix = "model_size_config."  # its network's size settings are validated apart from the run's
        saved.model_size()
        return saved
    except (OSError, TypeError, ValueError) as error:  # RunFolderError and pydantic's ValidationError are ValueErrors
        raise TeacherError(f"run {run_dir}: its config.yaml cannot be read ({_reason(error, prefix)}); retrain that "
                           "run or name another one") from None


def _reason(error: Exception, prefix: str = "") -> str:
    """One line saying what is wrong: each invalid field of a pydantic error (``prefix`` + its location) with
    what it got, else the error's first line."""
    if isinstance(error, ValidationError):
        fields = [f"{prefix}{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e.get('input')!r})"[:160]
                  for e in error.errors()]
        return "; ".join(fields[:3]) + (f"; and {len(fields) - 3} more" if len(fields) > 3 else "")
    return str(error).splitlines()[0][:200]


def _best_state(run_dir: Path) -> dict:
    checkpoint = RunFolder(run_dir).best_checkpoint
    if not checkpoint.is_file():
        raise TeacherError(f"teacher run {run_dir} has no {checkpoint.relative_to(run_dir)}")
    try:
        return load_checkpoint_state(checkpoint)  # tensors only: a crafted checkpoint runs nothing
    except CheckpointError as error:
        raise TeacherError(str(error)) from None


def check_upstream_runs(settings: RunSettings) -> dict[str, Path]:
    """`find_upstream_runs`, and each found run's config.yaml and best checkpoint readable and its
    graph features the stage's: a broken or truncated upstream run, or one trained on other node
    features (its network would not fit these graphs), is one `TeacherError` before the stage
    allocates its own run folder."""
    found = find_upstream_runs(settings)
    for run_dir in found.values():
        saved = _saved_settings(run_dir)
        theirs, ours = saved.dataset_config.features, settings.dataset_config.features
        if theirs != ours:
            raise TeacherError(
                f"upstream run {run_dir} was trained with dataset_config.features={theirs or '(the default)'}, this "
                f"stage uses {ours or '(the default)'}: use the same features or name another run")
        _best_state(run_dir)
    return found


def load_frozen_network(run_dir: Path, num_ids: int, feature_dims: tuple[int, int] = CAN_FEATURE_DIMS) -> torch.nn.Module:
    """The network of ``run_dir`` (a KD teacher, or the curriculum's VGAE) rebuilt from its own
    ``config.yaml``, best weights loaded strictly, frozen in eval mode."""
    saved = _saved_settings(run_dir)
    net = family_of(saved.name).build_network(saved, num_ids, feature_dims)
    state = _best_state(run_dir)
    weights = {key.removeprefix("net."): value for key, value in state.items() if key.startswith("net.")}
    try:
        net.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        raise TeacherError(f"teacher run {run_dir}: its weights do not fit its saved config.yaml:\n{error}") from None
    net.eval()
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    return net


def frozen_run(run_dir: Path, cache, *, network: bool = True) -> FrozenRun:
    """The COMPLETED run ``run_dir`` with its network (`load_frozen_network`) for the graphs of ``cache``;
    without one when ``network`` is false (a family that reads no window graphs rebuilds its own parts)."""
    net = load_frozen_network(run_dir, cache.manifest.vocabulary_size, feature_dims(cache)) if network else None
    return FrozenRun(Path(run_dir), net)


def frozen_upstream(settings: RunSettings, cache) -> dict[str, FrozenRun]:
    """``{config field: FrozenRun}`` of every run the stage reads (a KD teacher, the curriculum's VGAE, the
    fused VGAE and GAT), resolved once (`find_upstream_runs`) and loaded for the graphs of ``cache``."""
    return {field: frozen_run(run_dir, cache) for field, run_dir in find_upstream_runs(settings).items()}
