"""What was submitted: one JSON record per job under ``experimentruns/.cluster/jobs/`` (for
``status``, ``cancel`` and ``logs``), next to the script and Slurm log kept in the run tree."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from kdgat_schemas import atomic_write
from pydantic import BaseModel


class JobRecord(BaseModel):
    job_id: int
    job_name: str
    config_name: str
    command: list[str]
    run_dir: str
    script: str
    log_pattern: str
    dependencies: list[int] = []
    submitted_at: str = ""

    def log_file(self) -> Path:
        return Path(self.log_pattern.replace("%j", str(self.job_id)))


def records_dir(runs_root: Path) -> Path:
    return runs_root / ".cluster" / "jobs"


def write_record(runs_root: Path, record: JobRecord) -> Path:
    folder = records_dir(runs_root)
    folder.mkdir(parents=True, exist_ok=True)
    record = record.model_copy(update={"submitted_at": record.submitted_at or datetime.now(UTC).isoformat(timespec="seconds")})
    target = folder / f"{record.job_id}.json"
    return atomic_write(target, record.model_dump_json(indent=2) + "\n")


def read_records(runs_root: Path) -> list[JobRecord]:
    """Every recorded job of this run tree, oldest first."""
    folder = records_dir(runs_root)
    records = [JobRecord.model_validate(json.loads(p.read_text())) for p in folder.glob("*.json")] if folder.is_dir() else []
    return sorted(records, key=lambda record: record.job_id)
