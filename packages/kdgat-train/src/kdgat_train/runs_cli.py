"""``kdgat-runs``: list, show and replay runs of the run tree; open the MLflow UI on it."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import click
from kdgat_data.catalog import find_project_root
from kdgat_schemas import ExperimentName, RunFolder, RunFolderError, RunPaths

from kdgat_train.known_warnings import quiet_known_warnings
from kdgat_train.offline_tracking import ingest_runs
from kdgat_train.pipeline.stage_plan import left_out_job
from kdgat_train.run_liveness import Liveness, liveness, shown_status
from kdgat_train.run_tree import records, runs_root_of
from kdgat_train.tracking import ensure_experiments, finish_mlflow_run

# the evaluated best checkpoint (threshold chosen on validation) and its validation loss
KEY_METRICS = ("val/f1", "val/fpr", "val/auroc", "val/loss")





def _commands():
    """The commands that need the training stack (`kdgat_train.runs_commands`), imported when one runs."""
    with quiet_known_warnings():  # torch_geometric's import-time notice
        from kdgat_train import runs_commands

    return runs_commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Runs of the kdgat run tree (experimentruns/)."""


@main.command("list")
@click.argument("tokens", nargs=-1)
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
def list_runs(tokens: tuple[str, ...], root: str | None) -> None:
    """Runs with status and key metrics; TOKENS filter by name tokens (e.g. gat student)."""
    rows = [record for record in records(runs_root_of(root))
            if all(token in record.name.split("_") or token in record.name for token in tokens)]
    configs = [_flat_config(Path(record.run_dir)) for record in rows]
    differing = differing_fields(configs)
    click.echo(f"{'run':<78} {'status':<10} " + " ".join(f"{m:>18}" for m in KEY_METRICS)
               + "".join(f"  {field}" for field in differing))
    for record, config in zip(rows, configs, strict=True):
        relative = os.path.relpath(record.run_dir, runs_root_of(root))
        values = " ".join(f"{record.metrics[m]:>18.4f}" if m in record.metrics else f"{'-':>18}" for m in KEY_METRICS)
        settings = "".join(f"  {config.get(field, '-')!s:>{len(field)}}" for field in differing)
        click.echo(f"{relative:<78} {shown_status(record):<10} {values}{settings}")
    click.echo(f"{len(rows)} runs")




@main.command()
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
@click.option("--dry-run", is_flag=True, help="list the stale runs without changing them")
def reconcile(root: str | None, dry_run: bool) -> None:
    """Mark FAILED, in run.json and MLflow, every RUNNING run whose process is gone (killed with -9, a
    node that died): the runs `kdgat-runs list` shows as STALE."""
    runs_root = runs_root_of(root)
    stale = [record for record in records(runs_root) if record.status == "RUNNING" and liveness(record) is Liveness.GONE]
    for record in stale:
        where = f"host {record.host} pid {record.pid}" + (f", Slurm job {record.slurm_job_id}" if record.slurm_job_id else "")
        click.echo(f"{'would mark' if dry_run else 'marking'} FAILED: {os.path.relpath(record.run_dir, runs_root)} ({where})")
        if dry_run:
            continue
        updated = record.model_copy(update={
            "status": "FAILED", "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "error": f"process gone ({where}) without recording its end; marked by kdgat-runs reconcile"})
        updated.write(record.run_dir)
        if record.mlflow_run_id and (runs_root / "mlflow.db").is_file():
            finish_mlflow_run(RunPaths(runs_root).mlflow_uri, record.mlflow_run_id, "FAILED")
    click.echo(f"{len(stale)} stale runs" + (" (nothing changed: --dry-run)" if dry_run and stale else ""))


# where a run lived, not what it computed: never shown as a difference
NOT_SETTINGS = ("experiment_name", "run_dir", "resume", "runs_root", "tracking")


def _flat_config(run_dir: Path) -> dict[str, object]:
    """The run's config.yaml as ``group.field -> value`` (empty when it is missing or broken)."""
    try:
        config = RunFolder(run_dir).read_config()
    except (OSError, RunFolderError):
        return {}
    flat: dict[str, object] = {}

    def walk(value, prefix: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{prefix}.{key}" if prefix else str(key))
        else:
            flat[prefix] = value

    walk(config if isinstance(config, dict) else {}, "")
    return flat


def differing_fields(configs: list[dict[str, object]]) -> list[str]:
    """The config fields whose values differ between the listed runs
    (a ``hidden_dim`` sweep shows its values), at most 6; where a run is, is not a setting."""
    if len(configs) < 2:
        return []
    fields = sorted({key for config in configs for key in config})
    return [f for f in fields if not f.startswith(NOT_SETTINGS) and not f.startswith("device.")
            and len({repr(config.get(f)) for config in configs}) > 1][:6]


@main.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
def show(run_dir: str) -> None:
    """The run's record (run.json) and resolved config (config.yaml); a broken one is an error."""
    folder = RunFolder(run_dir)
    try:
        folder.read_record()
        folder.read_config()
    except RunFolderError as error:
        raise click.ClickException(str(error)) from None
    click.echo(folder.record_file.read_text())
    click.echo(folder.config_file.read_text())




@main.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--in-snapshot", is_flag=True, help="run the code snapshot the run's cluster job ran (run.json's "
              "code_snapshot) instead of this checkout")
def replay(run_dir: str, in_snapshot: bool) -> None:
    """Re-run RUN_DIR from its saved config into a new run folder; compare the final metrics (all but
    measured speeds must be identical)."""
    _commands().replay(run_dir, in_snapshot)


@main.command("init-tracking")
@click.argument("names", nargs=-1, required=True)
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
def init_tracking(names: tuple[str, ...], root: str | None) -> None:
    """Create the MLflow database and the experiments of NAMES (presets or experiment names) now, so
    that jobs starting together never race to create them (kdgat-cluster calls this before submitting)."""
    experiments = set()
    for name in names:
        try:
            experiments.add(ExperimentName.parse(name).experiment)
        except ValueError:
            experiments.add(name)  # already an experiment name such as automotive_synthetic_supervised_gat
    paths = RunPaths(runs_root_of(root))
    ensure_experiments(paths, sorted(experiments))
    click.echo(f"{paths.mlflow_uri}: experiments {', '.join(sorted(experiments))}")


@main.command()
@click.argument("runs", nargs=-1, required=True)
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="folder for the report files "
              "(default: the last pipeline run folder)")
def report(runs: tuple[str, ...], root: str | None, out: str | None) -> None:
    """Mean and 95 % interval over seeds of every row and test scenario of a pipeline, with paired
    tests (student+KD vs student, student vs teacher, best model vs best baseline): report.md, .csv,
    .tex and .json. RUNS: pipeline run folders (one per seed), or name tokens selecting the COMPLETED
    pipeline runs (the latest per seed), e.g. `kdgat-runs report automotive synthetic pipeline`."""
    _commands().report(runs, root, out)


@main.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--dataset", required=True, help="catalog key of the dataset to score on (configs/datasets.yaml)")
@click.option("--scenario", "scenarios", multiple=True, help="only these test scenarios (repeatable; default: all)")
def evaluate(run_dir: str, dataset: str, scenarios: tuple[str, ...]) -> None:
    """Score the COMPLETED run RUN_DIR (any family, or a baseline) on another dataset's test scenarios,
    with its own training vocabulary (unseen entities -> UNK) and its own validation threshold;
    results under RUN_DIR/cross/DATASET/ and in the run's MLflow run."""
    _commands().evaluate(run_dir, dataset, scenarios)


@main.command()
@click.option("--train", "train_keys", required=True, help="catalog keys of the training datasets, comma-separated")
@click.option("--test", "test_keys", required=True, help="catalog keys of the test datasets, comma-separated")
@click.option("--rows", "rows", multiple=True, help="only rows whose 'model | variant' contains this (repeatable), "
              "e.g. --rows 'GAT | student' --rows gbdt; default: every row")
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="folder for the matrix files "
              "(default: RUN_TREE/matrix/TRAIN-x-TEST)")
@click.option("--force", is_flag=True, help="score again even where RUN_DIR/cross/DATASET/ already has the result")
def matrix(train_keys: str, test_keys: str, rows: tuple[str, ...], root: str | None, out: str | None, force: bool) -> None:
    """The train x test table of F1 and AUROC (mean ± interval over seeds) of the latest COMPLETED
    pipeline run per seed of each training dataset, each run scored on each test dataset with its
    own vocabulary and threshold: matrix.md, .csv, .tex, .json and heat maps."""
    _commands().matrix(train_keys, test_keys, rows, root, out, force)


@main.command()
@click.argument("root", required=False, default=None)
def ingest(root: str | None) -> None:
    """Load every ended run written with tracking=offline under ROOT (default: experimentruns/ of the
    project) into ROOT/mlflow.db, one at a time; runs already ingested are skipped, so a second call
    changes nothing. Runs still going are left for a later call."""
    result = ingest_runs(runs_root_of(root), say=click.echo)
    click.echo(f"{len(result.ingested)} ingested, {result.already} already ingested, "
               f"{len(result.skipped_running)} not ended yet")


@main.command("check-jobs")
@click.argument("commands_file", type=click.File("r"), default="-")
def check_jobs(commands_file) -> None:
    """Validate kdgat-train command lines without running them (torch-free): COMMANDS_FILE (default
    stdin) holds a JSON list of argument lists; prints a JSON list of {"error", "warnings", "left_out"},
    one per command ("left_out": why a pipeline stage job would be left out of its pipeline, read
    from the dataset's training split). kdgat-cluster runs this before it writes or submits anything."""
    try:
        commands = json.load(commands_file)
        if not isinstance(commands, list) or not all(isinstance(c, list) and all(isinstance(a, str) for a in c)
                                                      for c in commands):
            raise ValueError("expected a JSON list of lists of strings")
    except ValueError as error:
        raise click.UsageError(f"{commands_file.name}: {error}") from None
    project = find_project_root()
    if project is None:
        raise click.ClickException("no configs/datasets.yaml in this folder or its parents; run from the kdgat project")
    from kdgat_train.config.command_check import check_commands  # Hydra: only for this command

    click.echo(json.dumps([asdict(result) for result in check_commands(project, commands, left_out=left_out_job)]))


@main.command()
@click.option("--work", type=click.Path(file_okay=False, path_type=Path), default=Path("/tmp/kdgat-quality"),
              show_default=True, help="the protocol's own catalog, run trees, logs and tables")
@click.option("--shared", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="the real captures (default: ../shared/data beside the project)")
@click.option("--seeds", default="0,1,2", show_default=True, help="seeds of every pipeline, comma-separated")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="pipeline.jobs of every pipeline (on 2 cores one process with both is faster)")
@click.option("--features", default="anchor,dynamics,statistics,signal", show_default=True,
              help="feature sets to run (each dataset runs those of its domain)")
@click.option("--datasets", default=None, help="catalog keys, comma-separated (default: every protocol dataset)")
@click.option("--gather", "gather_only", is_flag=True, help="run nothing: the tables from the reports already there")
@click.option("--unknown-vehicle", "unknown_vehicles", is_flag=True,
              help="also train on one vehicle with and without IDs and score on another (quality/unknown_vehicle.md)")
@click.option("--id-free", is_flag=True, help="also run each automotive dataset's ID-free twin and tabulate the ablation")
@click.option("--validation-block", type=click.Choice(["tail", "head"]), default="tail", show_default=True,
              help="where each training capture's validation block lies (head needs a --work of its own)")
@click.option("--threshold", default="fpr:0.05", show_default=True,
              help="evaluation.threshold of every run (another rule gets its own runs/ and quality/ folders)")
@click.option("--sampling-ablation", is_flag=True, help="also class-balanced GAT epochs (quality/sampling.md)")
@click.option("--kd-sweep", is_flag=True, help="also the KD grid, each family's point chosen on validation AUROC "
              "(quality/kd_sweep.md)")
@click.option("--variant", "variants", multiple=True, metavar="NAME:KEY=VALUE[,KEY=VALUE]",
              help="also these overrides against the protocol (quality/variant-NAME.md); repeatable")
def protocol(work: Path, shared: Path | None, seeds: str, jobs: int, features: str, datasets: str | None,
             gather_only: bool, unknown_vehicles: bool, id_free: bool, validation_block: str, threshold: str,
             sampling_ablation: bool, kd_sweep: bool, variants: tuple[str, ...]) -> None:
    """The detection-quality protocol on the shared real captures: every dataset's pipeline over the
    seeds at a 5 % validation FPR, then per dataset the table with baselines and the goal check, and the
    feature ablation (WORK/quality/quality.md and .json). Completed pipelines are reused."""
    _commands().protocol(work=work, shared=shared, seeds=seeds, jobs=jobs, features=features, datasets=datasets,
                         gather_only=gather_only, unknown_vehicles=unknown_vehicles, id_free=id_free,
                         validation_block=validation_block, threshold=threshold, sampling_ablation=sampling_ablation,
                         kd_sweep=kd_sweep, variants=variants)


@main.command()
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
@click.option("--port", default=5000, show_default=True)
@click.option("--print-only", is_flag=True, help="print the command instead of starting the UI")
def ui(root: str | None, port: int, print_only: bool) -> None:
    """Start the MLflow UI on 127.0.0.1 with the run tree's SQLite store."""
    runs = runs_root_of(root).resolve()
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", f"sqlite:///{runs / 'mlflow.db'}",
               "--host", "127.0.0.1", "--port", str(port)]
    click.echo(" ".join(command))
    if not print_only:
        os.execv(command[0], command)


if __name__ == "__main__":
    main()
