"""`job_status`: what ``kdgat-cluster status`` shows per job, from Slurm's answer and the run folder."""

from kdgat_cluster.job_status import headline, job_status
from kdgat_cluster.records import JobRecord
from kdgat_cluster.slurm import JobState
from kdgat_schemas import RunRecord


def _record(tmp_path, job_id=7):
    run_dir = tmp_path / "run_001"
    (run_dir / "slurm").mkdir(parents=True)
    script = run_dir / "slurm" / "job.sbatch"
    script.write_text("#!/bin/bash\n#SBATCH --job-name=x\n#SBATCH --time=00:20:00\n")
    return JobRecord(job_id=job_id, job_name="x", config_name="automotive_synthetic_supervised_gat_student_no_all_samples",
                     command=["kdgat-train"], run_dir=str(run_dir), script=str(script),
                     log_pattern=str(run_dir / "slurm" / "slurm-%j.out"))


def _run_json(record, status="COMPLETED", **metrics):
    RunRecord(name=record.config_name, run_dir=record.run_dir, status=status, seed=0, started_at="2026-12-03T00:00:00",
              metrics=metrics).write(record.run_dir)


def test_a_finished_job_shows_its_headline_metric_and_limit(tmp_path):
    record = _record(tmp_path)
    _run_json(record, **{"val/f1": 0.9, "test/dos/f1": 0.8, "test/dos/fpr": 0.02, "test/fuzzing/f1": 0.6,
                         "test/fuzzing/fpr": 0.04})
    row = job_status(record, JobState(7, "COMPLETED", "00:01:10"))
    assert row.headline == "val F1 0.900 | test F1 0.700 FPR 0.030 (2 scenarios)"
    assert row.limit == "00:20:00" and row.finished and row.log_tail == []  # the limit from the script it ran
    assert "00:01:10 / 00:20:00" in row.line() and record.run_dir in row.line()
    assert job_status(record, JobState(7, "RUNNING", "00:00:05", limit="00:30:00")).limit == "00:30:00"  # Slurm's own


def test_a_failed_job_shows_the_end_of_its_log(tmp_path):
    record = _record(tmp_path)
    lines = [f"line {i}" for i in range(20)] + ["ValueError: heads=3 does not divide 32", ""]
    record.log_file().write_text("\n".join(lines))
    row = job_status(record, JobState(7, "FAILED", "00:00:12"), tail_lines=3)
    assert row.log_tail == ["line 18", "line 19", "ValueError: heads=3 does not divide 32"] and row.headline == ""
    _run_json(record, status="FAILED")  # Slurm said COMPLETED but the run itself failed (e.g. a caught error)
    assert job_status(record, JobState(7, "COMPLETED", "00:00:12"), tail_lines=1).log_tail[-1].startswith("ValueError")


def test_pending_shows_why_and_an_unknown_job_says_so(tmp_path):
    record = _record(tmp_path)
    row = job_status(record, JobState(7, "PENDING", "0:00", "Dependency"))
    assert row.state == "PENDING(Dependency)" and not row.finished and row.headline == ""
    assert job_status(record, None).state == "UNKNOWN"


def test_a_run_without_test_metrics_has_a_short_headline(tmp_path):
    record = _record(tmp_path)
    _run_json(record, **{"val/f1": 0.5})
    assert headline(tmp_path / "run_001") == "val F1 0.500"
    assert headline(tmp_path / "missing") == "no run.json"
