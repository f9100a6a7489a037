"""``tracking=offline``: a run records what MLflow would get in its own folder, for `ingest` to load later.

SQLite over NFS locks under load when a hundred cluster jobs write one MLflow database. An offline
run writes, in ``RUN_DIR/tracking/``:

- ``start.json``: experiment, run name, params and the tags MLflow would get at creation;
- ``metrics.jsonl``: one ``{"key", "value", "step", "timestamp"}`` line per metric value, the
  per-epoch ones (through the run's `RunMetricsLogger`) and the final ones;
- ``tags.json``: tags set during the run;
- ``end.json``: the final status and the artifact files, written when the run ends.

`ingest_runs` (``kdgat-runs ingest``) loads every ended, not yet ingested run into the MLflow
database, one at a time under the tracking lock, and marks it (``ingested.json``, and the MLflow
run id in run.json); a run already ingested is skipped, so ingesting twice changes nothing. A run
interrupted between creating its MLflow run and the mark is found again by its ``kdgat_run_dir``
tag, deleted and loaded again whole, never left half there beside a second copy.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from kdgat_schemas import RunFolder, RunFolderError, RunPaths, atomic_write

from kdgat_train.tracking import _experiment_id, _locked, _params, mlflow_api, with_retry

FOLDER = "tracking"
START, METRICS, TAGS, END, INGESTED = "start.json", "metrics.jsonl", "tags.json", "end.json", "ingested.json"
RUN_DIR_TAG = "kdgat_run_dir"


class OfflineRecorder:
    """The writer of one offline run's ``tracking/`` folder."""

    def __init__(self, *, run_dir: Path) -> None:
        self.folder = Path(run_dir) / FOLDER

    def start(self, *, experiment: str, run_name: str, params: dict, tags: dict[str, str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if (self.folder / START).is_file():  # resumed or requeued: the same offline run continues
            return
        atomic_write(self.folder / START, json.dumps({"experiment": experiment, "run_name": run_name,
                                                      "params": params, "tags": tags}, indent=2, default=str) + "\n")

    def log_metrics(self, metrics: dict[str, float], step: int = 0) -> None:
        stamp = int(time.time() * 1000)
        lines = [json.dumps({"key": key, "value": float(value), "step": int(step), "timestamp": stamp})
                 for key, value in sorted(metrics.items()) if value is not None and math.isfinite(float(value))]
        if lines:
            with (self.folder / METRICS).open("a") as handle:
                handle.write("\n".join(lines) + "\n")

    def set_tags(self, tags: dict[str, str]) -> None:
        path = self.folder / TAGS
        saved = json.loads(path.read_text()) if path.is_file() else {}
        atomic_write(path, json.dumps({**saved, **{k: str(v) for k, v in tags.items()}}, indent=2) + "\n")

    def end(self, status: str, artifacts: list[Path] = ()) -> None:
        atomic_write(self.folder / END, json.dumps({"status": status, "artifacts": [str(p) for p in artifacts]},
                                                   indent=2) + "\n")


@dataclass(frozen=True)
class IngestResult:
    ingested: list[Path]
    skipped_running: list[Path]
    already: int


def _offline_runs(runs_root: Path) -> list[Path]:
    return sorted(path.parent.parent for path in runs_root.glob(f"**/run_*/{FOLDER}/{START}"))


def ingest_runs(runs_root: Path, say=print) -> IngestResult:
    """Load every ended, not yet ingested offline run under ``runs_root`` into its MLflow database."""
    ingested, running, already = [], [], 0
    for run_dir in _offline_runs(runs_root):
        folder = run_dir / FOLDER
        if (folder / INGESTED).is_file():
            already += 1
        elif not (folder / END).is_file() and _ended_status(run_dir) is None:
            running.append(run_dir)  # not ended yet: ingested by a later call
        else:
            run_id, values = _ingest_run(RunPaths(runs_root), run_dir)
            ingested.append(run_dir)
            say(f"ingested {run_dir} -> MLflow run {run_id} ({values} metric values)")
    return IngestResult(ingested, running, already)


def _ended_status(run_dir: Path) -> str | None:
    """The status run.json gives a run that ended without its own end record (reconciled), else None."""
    folder = RunFolder(run_dir)
    try:
        status = folder.read_record().status if folder.has_record() else None
    except RunFolderError:
        return None
    return status if status in ("COMPLETED", "FAILED", "KILLED") else None


def _ingest_run(paths: RunPaths, run_dir: Path) -> tuple[str, int]:
    """One run's folder into MLflow, under the tracking lock; marks it ingested. Returns (run id, metric values)."""
    folder = run_dir / FOLDER
    start = json.loads((folder / START).read_text())
    # a run killed with -9 never wrote its end record: `kdgat-runs reconcile` ended it in run.json
    end = json.loads((folder / END).read_text()) if (folder / END).is_file() else \
        {"status": _ended_status(run_dir), "artifacts": [str(RunFolder(run_dir).config_file), str(RunFolder(run_dir).record_file)]}
    tags = {**start["tags"], **(json.loads((folder / TAGS).read_text()) if (folder / TAGS).is_file() else {}),
            RUN_DIR_TAG: str(run_dir)}
    entries = []
    if (folder / METRICS).is_file():
        for line in (folder / METRICS).read_text().splitlines():
            if line.strip():
                metric = json.loads(line)
                entries.append(mlflow_api().Metric(metric["key"], metric["value"], metric["timestamp"], metric["step"]))
    with _locked(paths.root):
        client = mlflow_api().MlflowClient(paths.mlflow_uri)
        experiment_id = _experiment_id(client, paths, start["experiment"])
        for partial in client.search_runs([experiment_id], filter_string=f"tags.{RUN_DIR_TAG} = '{run_dir}'"):
            client.delete_run(partial.info.run_id)  # an earlier ingest stopped half-way: start it again whole
        run_id = with_retry(lambda: client.create_run(experiment_id, run_name=start["run_name"],
                                                      tags={RUN_DIR_TAG: str(run_dir)}).info.run_id, "create a run")
        with_retry(lambda: client.log_batch(run_id, params=_params(start["params"])), "log the parameters")
        for first in range(0, len(entries), 500):
            batch = entries[first : first + 500]
            with_retry(lambda batch=batch: client.log_batch(run_id, metrics=batch), "log metrics")
        with_retry(lambda: client.log_batch(run_id, tags=[mlflow_api().RunTag(k, str(v)[:5000]) for k, v in sorted(tags.items())]),
                   "set tags")
        for artifact in end["artifacts"]:
            if Path(artifact).exists():
                client.log_artifact(run_id, artifact)
        with_retry(lambda: client.set_terminated(run_id, status=_mlflow_status(end["status"])), "mark the run finished")
    atomic_write(folder / INGESTED, json.dumps({"mlflow_run_id": run_id, "metrics": len(entries)}, indent=2) + "\n")
    if RunFolder(run_dir).has_record():
        RunFolder(run_dir).read_record().model_copy(update={"mlflow_run_id": run_id}).write(run_dir)
    return run_id, len(entries)


def _mlflow_status(status: str) -> str:
    return {"COMPLETED": "FINISHED", "FAILED": "FAILED", "KILLED": "KILLED"}.get(status, status)
