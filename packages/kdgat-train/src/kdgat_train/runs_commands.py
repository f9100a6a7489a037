"""The bodies of ``kdgat-runs``' commands that train or score (replay, report, evaluate, matrix): they
import the training stack at this file's head, so `kdgat_train.runs_cli` imports this module only when
one of them runs and its other commands (list, show, check-jobs) stay torch-free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
from kdgat_data.catalog import CatalogError, find_project_root, resolve_dataset
from kdgat_schemas import ExperimentName, RunFolder, RunFolderError, RunRecord

from kdgat_train.config.run_settings import RunSettings
from kdgat_train.evaluation.cross_dataset import CrossEvaluationError, evaluate_on_dataset
from kdgat_train.pipeline.cross_matrix import build_matrix, latest_pipelines, write_matrix
from kdgat_train.pipeline.report_files import write_report
from kdgat_train.pipeline.report_tracking import log_report_to_mlflow
from kdgat_train.pipeline.seed_report import ReportError, collect
from kdgat_train.protocol.protocol_run import ProtocolError, run_protocol
from kdgat_train.provenance import code_snapshot
from kdgat_train.run_tree import records, runs_root_of
from kdgat_train.stages.single_stage import run_stage
from kdgat_train.stages.upstream_runs import TeacherError


def replay(run_dir: str, in_snapshot: bool) -> None:
    """`kdgat-runs replay`: re-run RUN_DIR from its saved config into a new run folder; compare the final metrics (all but"""
    if in_snapshot:
        _rerun_in_snapshot(run_dir)

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


def report(runs: tuple[str, ...], root: str | None, out: str | None) -> None:
    """`kdgat-runs report`: mean and 95 % interval over seeds of every row and test scenario of a pipeline, with paired"""
    folders = [Path(r) for r in runs if Path(r).is_dir()]
    if not folders:
        latest: dict[int, Path] = {}
        for record in records(runs_root_of(root)):
            if record.name.endswith("_pipeline") and record.status == "COMPLETED" and \
                    all(token in record.name.split("_") or token in record.name for token in runs):
                latest[record.seed] = Path(record.run_dir)  # sorted by folder: the last one per seed wins
        folders = [latest[seed] for seed in sorted(latest)]
        if not folders:
            raise click.ClickException(f"no COMPLETED pipeline run matches {' '.join(runs)} under {runs_root_of(root)}")
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


def evaluate(run_dir: str, dataset: str, scenarios: tuple[str, ...]) -> None:
    """`kdgat-runs evaluate`: score the COMPLETED run RUN_DIR (any family, or a baseline) on another dataset's test scenarios,"""
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


def matrix(train_keys: str, test_keys: str, rows: tuple[str, ...], root: str | None, out: str | None, force: bool) -> None:
    """`kdgat-runs matrix`: the train x test table of F1 and AUROC (mean ± interval over seeds) of the latest COMPLETED"""
    train, test = [k.strip() for k in train_keys.split(",") if k.strip()], [k.strip() for k in test_keys.split(",") if k.strip()]
    runs_root = runs_root_of(root)
    found = list(records(runs_root))
    pipelines = {}
    try:
        for key in [*train, *test]:
            resolve_dataset(key)  # an unknown key fails here, naming the catalog
        for key in train:
            dataset = resolve_dataset(key)
            name = ExperimentName(domain=dataset.domain, dataset=dataset.token)
            pipelines[key] = latest_pipelines(found, name)
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


def _rerun_in_snapshot(run_dir: str) -> None:
    """Run this replay again in a process that imports the code snapshot RUN_DIR's job ran (run.json's
    ``code_snapshot``) with that snapshot's configs; exits with its status."""
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


def protocol(*, work: Path, shared: Path | None, seeds: str, datasets: str | None, **options) -> None:
    """`kdgat-runs protocol`: `kdgat_train.protocol.protocol_run.run_protocol` with the command's options."""
    if shared is None:
        project = find_project_root()
        shared = (project or Path.cwd()).parent / "shared" / "data"
    try:
        seed_list = [int(seed) for seed in seeds.split(",") if seed.strip()]
    except ValueError:
        raise click.BadParameter(f"{seeds!r}: expected integers, comma-separated", param_hint="--seeds") from None
    try:
        folder = run_protocol(shared=shared, work=work, seeds=seed_list,
                              datasets=[key.strip() for key in datasets.split(",") if key.strip()] if datasets else None,
                              say=click.echo, **options)
    except ProtocolError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"tables in {folder}")
