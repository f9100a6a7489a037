"""``kdgat-runs``: list, show and replay runs of the run tree; open the MLflow UI on it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

# the evaluated best checkpoint (threshold chosen on validation) and its validation loss
KEY_METRICS = ("val/f1", "val/fpr", "val/auroc", "val/loss")


def _runs_root(root: str | None) -> Path:
    if root:
        return Path(root)
    from kdgat_data.catalog import find_project_root

    project = find_project_root()
    return (project if project else Path.cwd()) / "experimentruns"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Runs of the kdgat run tree (experimentruns/)."""


@main.command("list")
@click.argument("tokens", nargs=-1)
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
def list_runs(tokens: tuple[str, ...], root: str | None) -> None:
    """Runs with status and key metrics; TOKENS filter by name tokens (e.g. gat student)."""
    from kdgat_train.run_liveness import shown_status

    rows = [record for record in _records(_runs_root(root))
            if all(token in record.name.split("_") or token in record.name for token in tokens)]
    configs = [_flat_config(Path(record.run_dir)) for record in rows]
    differing = differing_fields(configs)
    click.echo(f"{'run':<78} {'status':<10} " + " ".join(f"{m:>18}" for m in KEY_METRICS)
               + "".join(f"  {field}" for field in differing))
    for record, config in zip(rows, configs, strict=True):
        relative = os.path.relpath(record.run_dir, _runs_root(root))
        values = " ".join(f"{record.metrics[m]:>18.4f}" if m in record.metrics else f"{'-':>18}" for m in KEY_METRICS)
        settings = "".join(f"  {config.get(field, '-')!s:>{len(field)}}" for field in differing)
        click.echo(f"{relative:<78} {shown_status(record):<10} {values}{settings}")
    click.echo(f"{len(rows)} runs")


def _records(runs_root: Path):
    """Every readable run record under ``runs_root``; a broken one is skipped with a one-line warning."""
    from kdgat_schemas import RunRecord
    from pydantic import ValidationError

    for run_json in sorted(runs_root.glob("**/run_*/run.json")):
        try:
            yield RunRecord.read(run_json.parent)
        except (ValidationError, ValueError, OSError) as error:  # one broken record must not hide the others
            reason = str(error).splitlines()[0][:160]
            click.echo(f"warning: skipping {run_json}: not a readable run record ({reason})", err=True)


@main.command()
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
@click.option("--dry-run", is_flag=True, help="list the stale runs without changing them")
def reconcile(root: str | None, dry_run: bool) -> None:
    """Mark FAILED, in run.json and MLflow, every RUNNING run whose process is gone (killed with -9, a
    node that died): the runs `kdgat-runs list` shows as STALE."""
    from datetime import UTC, datetime

    from kdgat_train.run_liveness import Liveness, liveness

    runs_root = _runs_root(root)
    stale = [record for record in _records(runs_root) if record.status == "RUNNING" and liveness(record) is Liveness.GONE]
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
            from kdgat_schemas import RunPaths

            from kdgat_train.tracking import finish_mlflow_run

            finish_mlflow_run(RunPaths(runs_root).mlflow_uri, record.mlflow_run_id, "FAILED")
    click.echo(f"{len(stale)} stale runs" + (" (nothing changed: --dry-run)" if dry_run and stale else ""))


# where a run lived, not what it computed: never shown as a difference
NOT_SETTINGS = ("experiment_name", "run_dir", "resume", "runs_root", "tracking")


def _flat_config(run_dir: Path) -> dict[str, object]:
    """The run's config.yaml as ``group.field -> value`` (empty when it is missing or broken)."""
    from kdgat_schemas import RunFolder, RunFolderError

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
    from kdgat_schemas import RunFolder, RunFolderError

    folder = RunFolder(run_dir)
    try:
        folder.read_record()
        folder.read_config()
    except RunFolderError as error:
        raise click.ClickException(str(error)) from None
    click.echo(folder.record_file.read_text())
    click.echo(folder.config_file.read_text())


def _rerun_in_snapshot(run_dir: str) -> None:
    """Run this replay again in a process that imports the code snapshot RUN_DIR's job ran (run.json's
    ``code_snapshot``) with that snapshot's configs; exits with its status."""
    import subprocess

    from kdgat_schemas import RunRecord

    from kdgat_train.provenance import code_snapshot

    snapshot = RunRecord.read(run_dir).code_snapshot
    if snapshot is None:
        raise click.UsageError(f"{run_dir}/run.json records no code_snapshot (the run did not come from a "
                               "kdgat-cluster job); replay it without --in-snapshot")
    folder = Path(snapshot)
    sources = sorted(str(source) for source in (folder / "packages").glob("*/src"))
    if not sources:
        raise click.UsageError(f"code snapshot {snapshot} (from {run_dir}/run.json) is gone or holds no packages/*/src")
    if code_snapshot() == snapshot:
        return  # already running it
    info = json.loads((folder / "snapshot.json").read_text()) if (folder / "snapshot.json").is_file() else {}
    environment = {**os.environ, "KDGAT_CODE_SNAPSHOT": snapshot, "KDGAT_CONFIG_ROOT": snapshot,
                   "KDGAT_CODE_COMMIT": str(info.get("commit", ""))}
    python = folder / ".venv" / "bin" / "python"
    if (folder / "environment.json").is_file() and python.is_file():  # its own environment, synced from its uv.lock
        environment.pop("PYTHONPATH", None)
    else:  # this environment's packages, the snapshot's sources first
        python = Path(sys.executable)
        environment["PYTHONPATH"] = os.pathsep.join([*sources, *filter(None, [os.environ.get("PYTHONPATH")])])
    click.echo(f"replaying with the code snapshot of the run: {snapshot} (python {python})")
    done = subprocess.run([str(python), "-m", "kdgat_train.runs_cli", "replay", "--in-snapshot", run_dir],
                          env=environment)
    raise SystemExit(done.returncode)


@main.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--in-snapshot", is_flag=True, help="run the code snapshot the run's cluster job ran (run.json's "
              "code_snapshot) instead of this checkout")
def replay(run_dir: str, in_snapshot: bool) -> None:
    """Re-run RUN_DIR from its saved config into a new run folder; compare the final metrics (all but
    measured speeds must be identical)."""
    from kdgat_schemas import RunFolder, RunFolderError, RunRecord

    if in_snapshot:
        _rerun_in_snapshot(run_dir)

    from kdgat_train.config.run_settings import RunSettings
    from kdgat_train.stages.single_stage import run_stage

    try:
        config = RunFolder(run_dir).read_config()
    except RunFolderError as error:
        raise click.ClickException(str(error)) from None
    if str(config.get("experiment_name", "")).endswith("_pipeline"):
        raise click.UsageError(f"{run_dir} is a pipeline run: replay its stages (listed in pipeline.json) one by one, "
                               f"or rerun it all with: uv run kdgat-train config_store={config['experiment_name']} "
                               "pipeline.force=true")
    settings = RunSettings.model_validate({**config, "resume": None})
    new_dir = run_stage(settings)
    before, after = RunRecord.read(run_dir).metrics, RunRecord.read(new_dir).metrics
    click.echo(f"replayed {run_dir} -> {new_dir}")
    measured = {key for key in set(before) | set(after) if key.endswith("_per_s")}  # speeds vary run to run
    for key in sorted(set(before) | set(after)):
        mark = "measured" if key in measured else "same" if before.get(key) == after.get(key) else "DIFFERENT"
        click.echo(f"  {key:<24} {before.get(key)!s:>22} {after.get(key)!s:>22}  {mark}")
    identical = all(before.get(key) == after.get(key) for key in set(before) | set(after) if key not in measured)
    click.echo(json.dumps({"identical": identical}))


@main.command("init-tracking")
@click.argument("names", nargs=-1, required=True)
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
def init_tracking(names: tuple[str, ...], root: str | None) -> None:
    """Create the MLflow database and the experiments of NAMES (presets or experiment names) now, so
    that jobs starting together never race to create them (kdgat-cluster calls this before submitting)."""
    from kdgat_schemas import ExperimentName, RunPaths

    from kdgat_train.tracking import ensure_experiments

    experiments = set()
    for name in names:
        try:
            experiments.add(ExperimentName.parse(name).experiment)
        except ValueError:
            experiments.add(name)  # already an experiment name such as automotive_synthetic_supervised_gat
    paths = RunPaths(_runs_root(root))
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
    from kdgat_train.pipeline.report_files import write_report
    from kdgat_train.pipeline.report_tracking import log_report_to_mlflow
    from kdgat_train.pipeline.seed_report import ReportError, collect

    folders = [Path(r) for r in runs if Path(r).is_dir()]
    if not folders:
        latest: dict[int, Path] = {}
        for record in _records(_runs_root(root)):
            if record.name.endswith("_pipeline") and record.status == "COMPLETED" and \
                    all(token in record.name.split("_") or token in record.name for token in runs):
                latest[record.seed] = Path(record.run_dir)  # sorted by folder: the last one per seed wins
        folders = [latest[seed] for seed in sorted(latest)]
        if not folders:
            raise click.ClickException(f"no COMPLETED pipeline run matches {' '.join(runs)} under {_runs_root(root)}")
    elif len(folders) != len(runs):
        missing = [r for r in runs if not Path(r).is_dir()]
        raise click.ClickException(f"not a folder: {', '.join(missing)} (give pipeline run folders, or only name tokens)")
    try:
        seed_report = collect(folders)
    except ReportError as error:
        raise click.ClickException(str(error)) from None
    written = write_report(seed_report, Path(out) if out else folders[-1])
    click.echo(f"{seed_report.name}: {len(seed_report.seeds)} seeds ({', '.join(map(str, seed_report.seeds))})")
    for test in seed_report.tests:
        click.echo(f"  {test.label:<34} mean dF1 {test.mean_difference:+.3f}  p {test.p_value:.3g}  "
                   f"rank-biserial {test.rank_biserial:+.2f}  ({test.pairs} pairs)")
    click.echo("wrote " + ", ".join(str(path) for path in written))
    click.echo(log_report_to_mlflow(folders[-1], seed_report.seeds, written))


@main.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--dataset", required=True, help="catalog key of the dataset to score on (configs/datasets.yaml)")
@click.option("--scenario", "scenarios", multiple=True, help="only these test scenarios (repeatable; default: all)")
def evaluate(run_dir: str, dataset: str, scenarios: tuple[str, ...]) -> None:
    """Score the COMPLETED run RUN_DIR (any family, or a baseline) on another dataset's test scenarios,
    with its own training vocabulary (unseen entities -> UNK) and its own validation threshold;
    results under RUN_DIR/cross/DATASET/ and in the run's MLflow run."""
    from kdgat_data.catalog import CatalogError

    from kdgat_train.evaluation.cross_dataset import CrossEvaluationError, evaluate_on_dataset
    from kdgat_train.stages.upstream_runs import TeacherError

    try:
        done = evaluate_on_dataset(Path(run_dir), dataset, list(scenarios) or None, say=click.echo)
    except (CrossEvaluationError, CatalogError, FileNotFoundError, TeacherError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{done.run_dir} scored on {dataset} (its own threshold and vocabulary):")
    for scenario, metrics in done.results.items():
        windows = int(metrics['normal_windows'] + metrics['attack_windows'])
        click.echo(f"  {scenario:<28} windows {windows:>6}  UNK share {metrics['unk_share']:.3f}  "
                   f"F1 {metrics['f1']:.3f}  FPR {metrics['fpr']:.3f}  AUROC {metrics.get('auroc', float('nan')):.3f}")
    click.echo(f"wrote {done.folder}; {done.mlflow}")


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
    from kdgat_data.catalog import CatalogError, resolve_dataset
    from kdgat_schemas import ExperimentName

    from kdgat_train.evaluation.cross_dataset import CrossEvaluationError
    from kdgat_train.pipeline.cross_matrix import build_matrix, latest_pipelines, write_matrix
    from kdgat_train.pipeline.seed_report import ReportError
    from kdgat_train.stages.upstream_runs import TeacherError

    train, test = [k.strip() for k in train_keys.split(",") if k.strip()], [k.strip() for k in test_keys.split(",") if k.strip()]
    runs_root = _runs_root(root)
    records = list(_records(runs_root))
    pipelines = {}
    try:
        for key in [*train, *test]:
            resolve_dataset(key)  # an unknown key fails here, naming the catalog
        for key in train:
            dataset = resolve_dataset(key)
            name = ExperimentName(domain=dataset.domain, dataset=dataset.token)
            pipelines[key] = latest_pipelines(records, name)
            if not pipelines[key]:
                raise click.ClickException(f"no COMPLETED {name.format()} run under {runs_root}: run "
                                           f"`uv run kdgat-train config_store={name.format()}` first")
        built = build_matrix(pipelines, test, list(rows), force=force, say=click.echo)
    except (CatalogError, CrossEvaluationError, ReportError, FileNotFoundError, TeacherError) as error:
        raise click.ClickException(str(error)) from None
    folder = Path(out) if out else runs_root / "matrix" / f"{'+'.join(train)}-x-{'+'.join(test)}"
    written = write_matrix(built, folder)
    click.echo((folder / "matrix.md").read_text())
    click.echo("wrote " + ", ".join(str(path) for path in written))


@main.command()
@click.argument("root", required=False, default=None)
def ingest(root: str | None) -> None:
    """Load every ended run written with tracking=offline under ROOT (default: experimentruns/ of the
    project) into ROOT/mlflow.db, one at a time; runs already ingested are skipped, so a second call
    changes nothing. Runs still going are left for a later call."""
    from kdgat_train.offline_tracking import ingest_runs

    result = ingest_runs(_runs_root(root), say=click.echo)
    click.echo(f"{len(result.ingested)} ingested, {result.already} already ingested, "
               f"{len(result.skipped_running)} not ended yet")


@main.command("check-jobs")
@click.argument("commands_file", type=click.File("r"), default="-")
def check_jobs(commands_file) -> None:
    """Validate kdgat-train command lines without running them (torch-free): COMMANDS_FILE (default
    stdin) holds a JSON list of argument lists; prints a JSON list of {"error", "warnings", "left_out"},
    one per command ("left_out": why a pipeline stage job would be left out of its pipeline, read
    from the dataset's training split). kdgat-cluster runs this before it writes or submits anything."""
    from dataclasses import asdict

    from kdgat_data.catalog import find_project_root

    from kdgat_train.config.command_check import check_commands
    from kdgat_train.pipeline.stage_plan import left_out_job

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
    click.echo(json.dumps([asdict(result) for result in check_commands(project, commands, left_out=left_out_job)]))


@main.command()
@click.option("--root", default=None, help="run tree (default: experimentruns/ of the project)")
@click.option("--port", default=5000, show_default=True)
@click.option("--print-only", is_flag=True, help="print the command instead of starting the UI")
def ui(root: str | None, port: int, print_only: bool) -> None:
    """Start the MLflow UI on 127.0.0.1 with the run tree's SQLite store."""
    runs = _runs_root(root).resolve()
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", f"sqlite:///{runs / 'mlflow.db'}",
               "--host", "127.0.0.1", "--port", str(port)]
    click.echo(" ".join(command))
    if not print_only:
        os.execv(command[0], command)


if __name__ == "__main__":
    main()
