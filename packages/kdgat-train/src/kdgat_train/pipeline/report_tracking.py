"""Where a multi-seed report goes in MLflow: attached to the last seed's pipeline run, under
``report_seeds_<seed>-<seed>...``, with the tag ``report_seeds`` (used by `kdgat-runs report` and by
a pipeline run with ``pipeline.seeds``)."""

from __future__ import annotations

from pathlib import Path

from kdgat_schemas import RunPaths, RunRecord

from kdgat_train import tracking
from kdgat_train.tracking_service import tracking_call


def log_report_to_mlflow(pipeline_dir: Path, seeds: list[int], files: list[Path]) -> str:
    """Attach the report files to the MLflow run of ``pipeline_dir`` (the last seed's pipeline run),
    under ``report_seeds_<s>-<s>...``; returns a line saying where (or why not: the files stand)."""
    record = RunRecord.read(pipeline_dir)
    root = next((folder for folder in pipeline_dir.resolve().parents if (folder / "mlflow.db").is_file()), None)
    if record.mlflow_run_id is None or root is None:
        return f"not logged to MLflow: {pipeline_dir} has no MLflow run (tracking off or offline)"
    artifact_path = "report_seeds_" + "-".join(map(str, seeds))
    try:
        uri = RunPaths(root).mlflow_uri
        tracking_call(tracking.log_artifacts, uri, record.mlflow_run_id, files, artifact_path)
        tracking_call(tracking.set_tags, uri, record.mlflow_run_id, {"report_seeds": ",".join(map(str, seeds))})
    except Exception as error:  # the report files are written; tracking is the extra copy
        return f"not logged to MLflow ({type(error).__name__}: {error}); the files above stand"
    return f"logged to MLflow run {record.mlflow_run_id} under {artifact_path}/"
