"""Run a pipeline: each stage in DAG order (reusing identical completed runs), then the comparison table.

The pipeline has its own run folder (``experimentruns/{domain}/{dataset}/pipeline/run_NNN/``) with
``config.yaml``, ``run.json``, ``pipeline.json`` (stage -> run folder, trained or reused) and the
comparison table as ``comparison.md`` and ``comparison.csv``; its MLflow run (experiment
``{domain}_{dataset}_pipeline``) gets the table and one metric per row and scenario.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from kdgat_schemas import atomic_write

from kdgat_train.baselines.baseline_detectors import BaselineNotApplicable
from kdgat_train.baselines.baseline_stage import run_baseline
from kdgat_train.pipeline.comparison import ALL_ATTACK, METRICS, TableEntry, comparison_table, stage_entries
from kdgat_train.pipeline.completed_runs import identical_completed_run
from kdgat_train.pipeline.dag import baseline_settings, pipeline_stages, stage_settings
from kdgat_train.pipeline.local_executor import train_in_parallel
from kdgat_train.pipeline.report_files import write_report
from kdgat_train.pipeline.report_tracking import log_report_to_mlflow
from kdgat_train.pipeline.seed_report import collect
from kdgat_train.pipeline.settings import PipelineSettings, one_seed
from kdgat_train.pipeline.stage_plan import StagePlan, plan_stages
from kdgat_train.quiet_console import quiet_console
from kdgat_train.stages.single_stage import run_stage
from kdgat_train.tracked_run import TrackedRun


def run_one_stage(settings: PipelineSettings, say=print) -> Path | None:
    """``pipeline.only=KEY``: train (or reuse) that stage; every stage it needs must already have a
    COMPLETED run with the config this pipeline gives it (nothing upstream is trained here). None,
    said why, for a stage the pipeline's plan leaves out (`stage_plan`)."""
    stages = {s.key: s for s in pipeline_stages(settings.name, settings.pipeline.vgae_mode, settings.pipeline.gat_mode)}
    key = settings.pipeline.only
    baselines = {f"baseline_{method}": method for method in settings.baseline_methods()}
    plan = plan_stages(settings)
    if key in plan.left_out_keys:
        # a cluster job planned where the data could not be read: it ends at once, and its dependents run
        say(f"pipeline.only={key}: left out, nothing trained: {plan.reason}; it learns from labels (or needs a stage "
            "that does). pipeline.supervised=force trains it anyway")
        return None
    if key in baselines:
        baseline_dir, _ = _baseline_run(settings, baselines[key], say, f"{key}")
        if baseline_dir is None:
            raise ValueError(f"pipeline.only={key}: this baseline does not apply to {settings.name} (see above)")
        return baseline_dir
    if key not in stages:
        raise ValueError(f"pipeline.only={key!r}: expected one of {', '.join([*stages, *baselines])}")
    run_dirs: dict[str, str] = {}
    for stage in stages.values():  # in DAG order, so a stage's own needs are resolved before it
        if stage.key == key:
            break
        found = identical_completed_run(stage_settings(settings, stage, run_dirs))
        if found is not None:
            run_dirs[stage.key] = str(found)
    missing = [needed for needed in stages[key].upstream if needed not in run_dirs]
    if missing:
        raise RuntimeError(f"pipeline stage {key} needs {', '.join(missing)}, which have no COMPLETED run with this "
                           f"pipeline's config under {settings.runs_root}; run those stages first")
    stage_config = stage_settings(settings, stages[key], run_dirs).model_copy(update={"run_dir": settings.run_dir})
    reused = None if settings.pipeline.force else identical_completed_run(stage_config)
    if reused is not None:
        say(f"{stages[key].name}: reusing {reused} (completed with an identical config)")
        return reused
    say(f"{stages[key].name}: training")
    return run_stage(stage_config)


def run_pipeline(settings: PipelineSettings, say=print) -> Path | None:
    """Train (or reuse) every stage of the pipeline and write the comparison table; returns its run folder
    (with ``pipeline.only``: the stage's, None for a stage the plan leaves out)."""
    if settings.device.devices * settings.device.num_nodes > 1:
        raise ValueError("a pipeline runs its stages in one process; for DDP stages submit them one by one "
                         "(or as dependent cluster jobs) with device.devices=N")
    seeds = settings.pipeline.seeds
    if seeds is not None and settings.pipeline.only:
        raise ValueError(f"pipeline.seeds={seeds} runs one pipeline per seed: it cannot be combined with pipeline.only "
                         "(set training_config.seed=S instead)")
    with quiet_console(chatty=False):  # Lightning's per-stage INFO lines stay in each stage's train.log
        if settings.pipeline.only:
            return run_one_stage(settings, say)
        trained: set[str] = set()
        if settings.pipeline.jobs > 1:  # train what can run side by side first; the pass below then reuses it
            trained = train_in_parallel(settings, seeds or [settings.training_config.seed], settings.pipeline.jobs, say)
        if seeds is None:
            return _run_pipeline(settings, say, run_stage, trained=trained)
        return _run_seeds(settings, seeds, say, run_stage, trained=trained)


def _run_seeds(settings: PipelineSettings, seeds: list[int], say, run_stage, *, trained: set[str] = frozenset()) -> Path:
    """Every seed's pipeline in turn, then the report over them in the last seed's folder (and its
    MLflow run); returns that folder."""
    folders = []
    for number, seed in enumerate(seeds, 1):
        say(f"\n=== seed {seed} ({number}/{len(seeds)}) ===")
        folders.append(_run_pipeline(one_seed(settings, seed, last=number == len(seeds)), say, run_stage, hint=False,
                                     trained=trained))
    report = collect(folders)
    written = write_report(report, folders[-1])
    say(f"\nReport over seeds {', '.join(map(str, report.seeds))} (mean ± 95 % interval, paired tests): "
        f"{folders[-1] / 'report.md'} (and .csv, .tex, .json, plots)")
    for test in report.tests:
        say(f"  {test.label:<34} mean dF1 {test.mean_difference:+.3f}  p {test.p_value:.3g}  "
            f"rank-biserial {test.rank_biserial:+.2f}  ({test.pairs} pairs)")
    say(log_report_to_mlflow(folders[-1], report.seeds, written))
    return folders[-1]


def _baseline_run(settings: PipelineSettings, method: str, say, label: str,
                  trained: set[str] = frozenset()) -> tuple[Path | None, bool]:
    """Fit (or reuse) baseline ``method``: its run folder (``None`` when it does not apply to this
    dataset, said why) and whether it was reused (a run in ``trained``, fitted by this command's
    ``pipeline.jobs`` pass, was not)."""
    config = baseline_settings(settings, method)
    if settings.run_dir and settings.pipeline.only:
        config = config.model_copy(update={"run_dir": settings.run_dir})
    reused = None if settings.pipeline.force and not trained else identical_completed_run(config)
    if reused is not None and str(reused) in trained:
        say(f"{label} {config.name}: fitted {reused}")
        return reused, False
    if reused is not None:
        say(f"{label} {config.name}: reusing {reused} (completed with an identical config)")
        return reused, True
    say(f"{label} {config.name}: fitting")
    try:
        return run_baseline(config), False
    except BaselineNotApplicable as reason:
        say(f"{label} {config.name}: skipped ({reason})")
        return None, False


def _write_pipeline_json(folder: Path, log: list[dict], plan: StagePlan) -> None:
    """``pipeline.json``: every stage's run folder (trained or reused), and what the plan left out and why."""
    content = {"stages": log, **({"left_out": plan.left_out_keys, "left_out_because": plan.reason} if plan.left_out_keys
                                 else {}),
               **({"trained_without_attacks": sorted(plan.forced)} if plan.forced else {})}
    atomic_write(folder / "pipeline.json", json.dumps(content, indent=2) + "\n")


def _run_pipeline(settings: PipelineSettings, say, run_stage, *, hint: bool = True,
                  trained: set[str] = frozenset()) -> Path:
    started = time.perf_counter()
    name = settings.name
    plan = plan_stages(settings)
    if plan.message():
        say(plan.message())
    stages = plan.stages
    run_dirs: dict[str, str] = {}
    log: list[dict] = []
    methods = [method for method in settings.baseline_methods() if method not in plan.left_out_baselines]
    with TrackedRun(name=name, settings=settings, runs_root=settings.runs_root, seed=settings.training_config.seed,
                    run_dir=settings.run_dir, log_file=False, variant_label="pipeline") as run:
        for number, stage in enumerate(stages, 1):
            stage_config = stage_settings(settings, stage, run_dirs)
            reused = None if settings.pipeline.force and not trained else identical_completed_run(stage_config)
            if reused is not None and str(reused) in trained:  # trained moments ago by pipeline.jobs
                say(f"[{number}/{len(stages)}] {stage.name}: trained {reused}")
                stage_dir, reused = reused, None
            elif reused is not None:
                say(f"[{number}/{len(stages)}] {stage.name}: reusing {reused} (completed with an identical config)")
                stage_dir = reused
            else:
                say(f"[{number}/{len(stages)}] {stage.name}: training")
                stage_dir = run_stage(stage_config)
            run_dirs[stage.key] = str(stage_dir)
            log.append({"stage": stage.key, "name": stage.name.format(), "run_dir": str(stage_dir), "reused": reused is not None})
            _write_pipeline_json(run.run_dir, log, plan)
        entries = stage_entries(stages, run_dirs, forced=plan.forced)
        for number, method in enumerate(methods, len(stages) + 1):
            baseline_dir, reused = _baseline_run(settings, method, say, f"[{number}/{len(stages) + len(methods)}]", trained)
            if baseline_dir is not None:
                log.append({"stage": f"baseline_{method}", "name": baseline_settings(settings, method).experiment_name,
                            "run_dir": str(baseline_dir), "reused": reused})
                entries.append(TableEntry(f"baseline {method}", "baseline", str(baseline_dir), (("", f"baseline {method}"),),
                                          without_attacks=f"baseline_{method}" in plan.forced))
        _write_pipeline_json(run.run_dir, log, plan)
        table = comparison_table(entries)
        markdown, csv_path = table.write(run.run_dir)
        metrics = {}
        for row in table.rows:
            if row["model"] == ALL_ATTACK:
                continue
            label = row["model"] if row["variant"] == "baseline" else f"{row['model']}_{row['variant']}"
            label = re.sub(r"[^A-Za-z0-9_.-]", "_", label)  # MLflow metric names
            metrics.update({f"{label}/{scenario}/{metric}": value for scenario in table.scenarios for metric in METRICS
                            if (value := table.value(row, scenario, metric)) is not None and value == value})
        run.log_metrics(metrics)
        timings = {"total_s": time.perf_counter() - started, "stages_trained": float(sum(not s["reused"] for s in log)),
                   "stages_reused": float(sum(s["reused"] for s in log))}
        reports = write_report(collect([run.run_dir]), run.run_dir)  # one seed: the values, and report.json's provenance
        run.complete(timings=timings, artifacts=[run.run_dir / "pipeline.json", markdown, csv_path, *reports])
    run_dir = run.run_dir
    say("\nF1 and FPR per test scenario (precision, recall, AUROC, AUPRC and delay too in comparison.md / .csv):\n")
    say(table.to_markdown(metrics=("f1", "fpr")))
    minutes = (time.perf_counter() - started) / 60
    say(f"Pipeline {name} finished in {minutes:.1f} min "
        f"({int(timings['stages_trained'])} stages trained, {int(timings['stages_reused'])} reused).")
    say(f"Results: {markdown} and {csv_path}; every stage's run folder is listed in {run_dir / 'pipeline.json'}.")
    if hint:
        say(f"Seeds: this was seed {settings.training_config.seed}. For intervals and paired tests over three: "
            f"uv run kdgat-train config_store={name.format()} 'pipeline.seeds=[0,1,2]'")
        say("Open MLflow: uv run kdgat-runs ui   (then http://127.0.0.1:5000)")
    return run_dir
