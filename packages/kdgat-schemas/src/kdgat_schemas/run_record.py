"""`RunRecord`: the ``run.json`` of every run folder (DESIGN.md §6), shared by train and cluster."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from kdgat_schemas.atomic_write import atomic_write

RunStatus = Literal["RUNNING", "COMPLETED", "FAILED", "KILLED"]
RECORD_FILE = "run.json"  # `kdgat_schemas.run_folder.RunFolder.RECORD`


class RunRecord(BaseModel):
    """What happened in one run: status, provenance, timings and final metrics."""

    name: str = Field(description="the experiment (preset) name")
    run_dir: str
    status: RunStatus = "RUNNING"
    seed: int
    git_commit: str | None = None
    code_snapshot: str | None = Field(None, description="the frozen code a cluster job ran (kdgat-cluster's snapshot "
                                                        "folder; its snapshot.json names the commit and any diff)")
    versions: dict[str, str] = Field(default_factory=dict)
    data_manifest_hash: str | None = None
    mlflow_run_id: str | None = None
    slurm_job_id: str | None = None
    host: str | None = Field(None, description="the machine whose process writes this run (rank 0)")
    pid: int | None = Field(None, description="that process, so a run killed with -9 can be told from a live one")
    process_start: int | None = Field(None, description="the process's start time in clock ticks since boot "
                                                        "(Linux), so a reused PID is not taken for the run")
    started_at: str
    finished_at: str | None = None
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per phase")
    metrics: dict[str, float] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict, description="how results were obtained (e.g. threshold_rule)")
    upstream_runs: dict[str, str] = Field(default_factory=dict, description="config field -> the run folder this run "
                                          "used for it (a KD teacher, a fusion's VGAE and GAT), as found at training")
    error: str | None = None

    def write(self, run_dir: str | os.PathLike[str]) -> Path:
        """Write ``run.json`` atomically (temporary file, then rename): never half-written."""
        return atomic_write(Path(run_dir) / RECORD_FILE, json.dumps(self.model_dump(mode="json"), indent=2) + "\n")

    @classmethod
    def read(cls, run_dir: str | os.PathLike[str]) -> RunRecord:
        return cls.model_validate_json((Path(run_dir) / RECORD_FILE).read_text())
