"""Export a COMPLETED run as a self-contained detector: ``model.onnx`` or ``model.pt`` + ``detector.json``.

Before anything is written the rebuilt network must reproduce the run's own validation scores
(``scores.parquet``): a fusion run whose VGAE or GAT runs were replaced, or weights that no longer
fit, are refused. The export is then checked against the eager network on the same validation
windows (largest score difference <= 1e-4, and the run's threshold gives identical predictions);
only then is the folder put in place (written under a temporary name and renamed, so a failed
export leaves nothing).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import torch
from kdgat_data.catalog import resolve_dataset
from kdgat_data.file_digests import sha256_file
from kdgat_models.scorer_export import FORMATS, EagerScorer, export_scorer, load_scorer
from kdgat_schemas import RunFolder

from kdgat_train.deployment.deployment_manifest import MANIFEST_FILE, DeploymentManifest
from kdgat_train.deployment.run_scorer import DeploymentError, RunScorer, scorer_from_run
from kdgat_train.deployment.scorer_inputs import scorer_inputs
from kdgat_train.families import ModelFamily, family_of
from kdgat_train.known_warnings import quiet_known_warnings

PARITY_TOLERANCE = 1e-4
PARITY_BATCH = 256


@dataclass(frozen=True)
class ExportedRun:
    folder: Path
    manifest: DeploymentManifest


def batched_scores(score, arrays, batch_size: int = PARITY_BATCH) -> np.ndarray:
    """``score`` (an eager or exported scorer) over every window of ``arrays``, in window order. (G,)"""
    parts = [score(scorer_inputs(arrays, np.arange(start, min(start + batch_size, len(arrays)))))[0]
             for start in range(0, len(arrays), batch_size)]
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0)


def _saved_validation_scores(run_dir: Path) -> np.ndarray:
    path = RunFolder(run_dir).scores_file
    if not path.is_file():
        raise DeploymentError(f"{run_dir}: no {path.name} to check the rebuilt network against; retrain the run")
    frame = pl.read_parquet(path).filter(pl.col("split") == "val").sort("window")
    return frame["score"].to_numpy()


def _reader_options(settings) -> dict | None:
    dataset = resolve_dataset(settings.dataset_config.name)
    if dataset.domain != "automotive":
        return None
    return dataset.entry.reader_options().model_dump(mode="json")


def _reads_entity_ids(settings) -> bool:
    return bool(resolve_dataset(settings.dataset_config.name).entry.entity_ids)


def model_digests(folder: Path) -> dict[str, str]:
    """sha256 of every file of an export folder but its manifest (the model and its external data)."""
    return {path.name: sha256_file(path) for path in sorted(Path(folder).iterdir())
            if path.is_file() and path.name != MANIFEST_FILE}


def parity_tolerance(scorer) -> float:
    """1e-4; for a fusion scorer plus one step of its empirical CDF (1 / R for R reference scores): a raw
    VGAE score that moves by a float rounding across a reference score moves the fused score by up to
    (1 - alpha) / R, whatever the tolerance of the networks themselves."""
    reference = getattr(scorer, "reference", None)
    return PARITY_TOLERANCE + (1.0 / reference.numel() if reference is not None else 0.0)


def windows_off(scores: np.ndarray, reference: np.ndarray, scorer, family: ModelFamily) -> int:
    """How many windows differ by more than `parity_tolerance`, beyond what the family allows
    (`ModelFamily.export_near_tie_share`): none for a GAT or VGAE; for fusion up to 1 % (at least one),
    where two actions' Q-values are tied within float rounding and the greedy alpha, so the fused
    score, jumps. Returns the excess (0 = parity)."""
    off = int((np.abs(scores - reference) > parity_tolerance(scorer)).sum())
    share = family.export_near_tie_share
    allowed = max(1, int(share * len(scores))) if share > 0 else 0
    return max(off - allowed, 0)


def windows_on_threshold(eager: np.ndarray, threshold: float, tolerance: float) -> int:
    """Validation windows whose eager score lies within ``tolerance`` of the threshold. A best-F1 threshold
    is itself a validation score, so a float rounding there flips that window's prediction without any
    fault of the export (a teacher export with largest difference 8.9e-08 was refused for it). Predictions
    are therefore not compared: scores that agree within the tolerance predict alike everywhere else, and
    these windows are counted and reported instead."""
    return int((np.abs(np.asarray(eager) - threshold) <= tolerance).sum())


def run_manifest(run: RunScorer, *, export_format: str, model_file: str, parity_windows: int,
                 difference: float, digests: dict[str, str] | None = None) -> DeploymentManifest:
    """The `DeploymentManifest` of ``run`` (``export_format`` ``eager`` for a run scored in process)."""
    manifest = run.cache.manifest
    return DeploymentManifest(
        family=run.settings.name.model, experiment_name=str(run.settings.name), run_dir=str(run.run_dir),
        format=export_format, model_file=model_file, domain=manifest.domain, dataset=manifest.dataset,
        window=manifest.window, stride=manifest.stride, feature_version=manifest.feature_version,
        vocabulary=list(manifest.vocabulary), fitted_state=run.cache.fitted_state(),
        reader_options=_reader_options(run.settings), threshold=run.threshold.value, threshold_rule=run.threshold.rule,
        parity_windows=parity_windows, parity_max_abs_difference=difference, parity_tolerance=parity_tolerance(run.scorer),
        model_digests=digests or {}, entity_ids=_reads_entity_ids(run.settings),
    )


def export_run(run_dir: Path, export_format: str, out: Path | None = None, say=print) -> ExportedRun:
    """Export ``run_dir`` as ``export_format`` (``onnx`` | ``torchscript`` | ``aoti``) into ``out``
    (default ``RUN_DIR/export/<format>/``), replacing an earlier export there."""
    if export_format not in FORMATS:
        raise DeploymentError(f"--format must be one of {', '.join(FORMATS)}, got {export_format!r}")
    run: RunScorer = scorer_from_run(Path(run_dir))
    validation = run.cache.split("val")
    if len(validation) < 2:
        raise DeploymentError(f"{run.run_dir}: {len(validation)} validation windows; the parity check needs at least 2")
    eager = batched_scores(EagerScorer(scorer=run.scorer), validation)
    saved = _saved_validation_scores(run.run_dir)
    if len(saved) != len(eager) or windows_off(eager, saved, run.scorer, family_of(run.settings.name)):
        worst = float(np.abs(eager - saved).max()) if len(saved) == len(eager) else float("nan")
        raise DeploymentError(
            f"{run.run_dir}: the rebuilt network does not reproduce the run's own validation scores "
            f"({len(eager)} windows now, {len(saved)} in scores.parquet; largest difference {worst:.3g}): its data, "
            "or the VGAE / GAT runs a fusion run reads, changed since it was trained")
    out = Path(out) if out is not None else run.run_dir / "export" / export_format
    staging = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        model_file = export_scorer(run.scorer, _example(validation), staging / FORMATS[export_format], export_format)
        exported = batched_scores(load_scorer(model_file), validation)
        difference = float(np.abs(exported - eager).max())
        threshold = run.threshold.value
        close = np.abs(exported - eager) <= parity_tolerance(run.scorer)
        on_threshold = windows_on_threshold(eager, threshold, parity_tolerance(run.scorer))
        if windows_off(exported, eager, run.scorer, family_of(run.settings.name)):
            raise DeploymentError(f"{run.run_dir}: the {export_format} export differs from eager PyTorch on validation "
                                  f"({int((~close).sum())} windows beyond {parity_tolerance(run.scorer):.3g}, largest "
                                  f"{difference:.3g})")
        manifest = run_manifest(run, export_format=export_format, model_file=model_file.name,
                                parity_windows=len(validation), difference=difference, digests=model_digests(staging))
        manifest.write(staging)
        if out.exists():
            shutil.rmtree(out)
        staging.replace(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    say(f"exported {run.settings.name} ({manifest.family}) as {export_format}: {out / manifest.model_file}")
    say(f"  parity on {len(validation)} validation windows: largest |exported - eager| = {difference:.2e} "
        f"(tolerance {parity_tolerance(run.scorer):.2e}), "
        f"same predictions at threshold {threshold:.6g} ({run.threshold.rule})"
        + (f"; {on_threshold} window(s) lie within the tolerance of the threshold, where a rounding may flip the "
           "prediction" if on_threshold else ""))
    return ExportedRun(out, manifest)


def _example(validation) -> dict:
    inputs = scorer_inputs(validation, np.arange(min(len(validation), 8)))
    return {name: torch.from_numpy(value) for name, value in inputs.items()}


def export_from_cli(run_dir: str, export_format: str, out: str | None) -> None:
    """``kdgat-models export`` (an entry point of kdgat-train: reading a run folder needs it)."""
    with quiet_known_warnings():  # torch_geometric's import-time notice
        export_run(Path(run_dir), export_format, Path(out) if out else None)
