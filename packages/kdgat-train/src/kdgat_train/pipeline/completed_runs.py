"""Reusing a stage: the latest COMPLETED run whose saved config equals the wanted one and whose data is
today's (the sequential pipeline and the local executor both ask this before training a stage)."""

from __future__ import annotations

import logging
from pathlib import Path

from kdgat_schemas import RunFolder, RunFolderError, RunPaths

from kdgat_train.config.run_settings import RunSettings
from kdgat_train.pipeline.stage_plan import current_manifest

# where a run lived or ran, not what it computes: a cluster pipeline trains each stage on the
# device its job was given, and the table job must still recognise those runs
WHERE_NOT_WHAT = ("resume", "run_dir", "device", "tracking")


def _identity(config: dict) -> dict:
    return {key: value for key, value in config.items() if key not in WHERE_NOT_WHAT}


def _saved_identity(settings_class, run_dir: Path) -> dict | None:
    """The identity of a run's saved config read through today's settings class, so a field added since
    it ran counts at its default (which keeps the earlier behaviour); None when it no longer validates."""
    try:
        return _identity(settings_class.model_validate(RunFolder(run_dir).read_config()).model_dump(mode="json"))
    except (ValueError, OSError):  # RunFolderError and pydantic's ValidationError are ValueErrors
        return None


def identical_completed_run(settings: RunSettings) -> Path | None:
    """The latest COMPLETED run of ``settings.name`` whose saved config equals ``settings`` (apart
    from where it ran: ``resume``, ``run_dir``, ``device``; a field added since it ran counts at its
    default) and that trained on the data the config gives today: its run.json's data manifest hash
    equals that of the dataset's cache now (an edited capture, a new reader option or cache layout
    makes every earlier run stale, not reusable)."""
    wanted = _identity(settings.model_dump(mode="json"))
    data_hash = None
    for run_dir in reversed(RunPaths(settings.runs_root).existing_runs(settings.name)):
        if not RunFolder(run_dir).has_record():
            continue
        try:
            record = RunFolder(run_dir).read_record()
        except RunFolderError:  # a corrupt run.json (pydantic's ValidationError is one): not a reusable run
            logging.getLogger(__name__).warning("skipping %s: its run.json is not a readable run record", run_dir)
            continue
        if record.status != "COMPLETED" or _saved_identity(type(settings), run_dir) != wanted:
            continue
        data_hash = data_hash or current_manifest_hash(settings.dataset_config)
        if record.data_manifest_hash == data_hash:
            return run_dir
    return None


def current_manifest_hash(dataset) -> str:
    """The manifest hash of the cache ``dataset`` (`DatasetSettings`) gives now, built or reused."""
    return current_manifest(dataset).content_hash()
