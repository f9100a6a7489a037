"""The protocol's variants, each an ablation against it in the same run trees: class-balanced GAT
epochs, the KD grid (each family's point chosen on validation AUROC), any named overrides, and the
unknown-vehicle pairs (trained on one vehicle with and without IDs, scored on another)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from kdgat_train.evaluation.cross_dataset import evaluate_on_dataset
from kdgat_train.pipeline.seed_report import interval
from kdgat_train.protocol.datasets import ID_FREE, UNKNOWN_VEHICLE_PAIRS, feature_sets
from kdgat_train.protocol.runs import PROTOCOL, quality_folder, report_of, run_pipeline, runs_folder
from kdgat_train.protocol.tables import (
    FAMILIES,
    OWN_SCORES,
    add_operating_points,
    cell_of,
    goal_checks,
    mean_of,
    row_of,
    variant_markdown,
)

SAMPLING_VARIANT = ("sampling-balanced", ("training_config.sampling=balanced",))


KD_DEFAULT = {"temperature": 4.0, "alpha": 0.7, "latent_weight": 1.0, "reconstruction_weight": 1.0}


KD_GRID = (  # one factor or two away from the default each; every family picks its point on validation AUROC
    {"temperature": 1.0, "alpha": 0.7, "latent_weight": 0.1, "reconstruction_weight": 1.0},
    {"temperature": 8.0, "alpha": 0.7, "latent_weight": 10.0, "reconstruction_weight": 1.0},
    {"temperature": 4.0, "alpha": 0.3, "latent_weight": 1.0, "reconstruction_weight": 0.1},
    {"temperature": 4.0, "alpha": 0.9, "latent_weight": 1.0, "reconstruction_weight": 10.0},
    {"temperature": 2.0, "alpha": 0.5, "latent_weight": 0.3, "reconstruction_weight": 0.3},
    {"temperature": 8.0, "alpha": 0.9, "latent_weight": 3.0, "reconstruction_weight": 3.0},
)


KD_FIELDS = {"VGAE": ("latent_weight", "reconstruction_weight"), "GAT": ("temperature", "alpha"),
             "graph-less MLP": ("temperature", "alpha"),
             "fusion DQN": ("temperature", "alpha", "latent_weight", "reconstruction_weight")}


def kd_variant(point: dict[str, float]) -> tuple[str, tuple[str, ...]]:
    """The variant name and overrides of one KD grid point (``kd-T8-a0.9-l3-r3``)."""
    name = "kd-T{temperature:g}-a{alpha:g}-l{latent_weight:g}-r{reconstruction_weight:g}".format(**point)
    return name, tuple(f"distillation_config.{field}={value:g}" for field, value in point.items())


KD_VARIANTS = {kd_variant(point)[0] for point in KD_GRID}  # the grid points' variant names


def unknown_vehicle(entries: dict[str, dict], seeds: list[int], work: Path, threshold: str, log) -> str:
    """Per pair of `UNKNOWN_VEHICLE_PAIRS`: train on the first dataset (anchor features) with and without
    entity IDs, score every model and baseline run of both pipelines on the second dataset's test
    captures (``kdgat-runs evaluate``: the run's own vocabulary, normalisation and validation threshold,
    nothing fitted on the other vehicle); markdown tables of the means over seeds."""
    os.environ["KDGAT_CONFIG_ROOT"] = str(work)  # the protocol's catalog, before kdgat_train registers it
    sections = ["# Unknown vehicles: trained on one vehicle, scored on another", "",
                f"Anchor features; each run scored through `kdgat-runs evaluate` with its own vocabulary, "
                f"normalisation and validation threshold ({threshold}); mean ± half the 95 % t-interval over seeds "
                f"{', '.join(map(str, seeds))}. ID-free: the same training set with `entity_ids: false` (no ID "
                f"embedding, no ID decoders). UNK share: the test nodes whose ID the training never saw. The fusion "
                f"comparators (MLP, fixed alpha) are not scored across datasets.", ""]
    for training, test, change in UNKNOWN_VEHICLE_PAIRS:
        scenario = next(iter(entries[training]["test"]))
        columns = {}
        for key in (training, f"{training}{ID_FREE}"):
            report = json.loads(run_pipeline(key, entries[key], "anchor", seeds, work, log, threshold).read_text())
            columns[key] = {}
            for row in report["rows"]:
                runs = (cell_of(row, scenario, "f1") or {}).get("runs", [])
                if not runs or not (row["variant"] == "baseline" or row["model"] in OWN_SCORES):
                    continue
                values: dict[str, list[float]] = {"f1": [], "fpr": [], "auroc": [], "unk_share": []}
                for run in runs:
                    folder = Path(run) / "cross" / test
                    if not (folder / "metrics.json").is_file():
                        evaluate_on_dataset(Path(run), test, say=lambda message: None)
                    [metrics] = [m for split, m in json.loads((folder / "metrics.json").read_text()).items()
                                 if split.startswith("test/")]
                    for name in values:
                        values[name].append(float(metrics.get(name, math.nan)))
                columns[key][(row["model"], row["variant"])] = values
        sections += unknown_vehicle_table(training, test, change, columns[training], columns[f"{training}{ID_FREE}"])
    return "\n".join(sections) + "\n"


def unknown_vehicle_table(training: str, test: str, change: str, based: dict, free: dict) -> list[str]:
    def shown(values: dict[str, list[float]] | None, metric: str) -> str:
        cell = interval([v for v in (values or {}).get(metric, []) if math.isfinite(v)])
        if cell is None:
            return "—"
        return f"{cell.mean:.3f}" + (f" ± {(cell.high - cell.low) / 2:.3f}" if cell.n > 1 and cell.high > cell.low else "")

    lines = [f"## {training} -> {test}", "", change + ".", "",
             "| model | variant | with IDs: F1 | FPR | AUROC | UNK share | ID-free: F1 | FPR | AUROC |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (model, variant), values in based.items():
        twin = free.get((model, variant))
        lines.append(f"| {model} | {variant} | {shown(values, 'f1')} | {shown(values, 'fpr')} | {shown(values, 'auroc')} | "
                     f"{shown(values, 'unk_share')} | {shown(twin, 'f1')} | {shown(twin, 'fpr')} | {shown(twin, 'auroc')} |")
    return [*lines, ""]


def sampling_markdown(pairs: dict[str, tuple[dict, dict]]) -> str:
    """The class-balanced sampling ablation: the GAT and fusion rows, shuffled -> balanced epochs."""
    return variant_markdown(
        "Ablation: class-balanced sampling (training_config.sampling=balanced) against shuffled epochs",
        "The same pipeline with only the GAT's sampling changed (VGAE stages and baselines are the same runs).",
        pairs, FAMILIES, ("shuffled", "balanced"))


def parse_variant(text: str) -> tuple[str, tuple[str, ...]]:
    """``--variant NAME:OVERRIDE[,OVERRIDE...]`` -> (name, overrides)."""
    name, _, overrides = text.partition(":")
    if not name or not overrides or not name.replace("-", "").replace("_", "").isalnum() or name == PROTOCOL:
        raise ValueError(f"--variant {text!r}: expected NAME:KEY=VALUE[,KEY=VALUE...] with a name of letters, digits, "
                         f"- and _ (not {PROTOCOL!r})")
    pairs = tuple(item.strip() for item in overrides.split(","))
    if not all("=" in item for item in pairs):
        raise ValueError(f"--variant {text!r}: every override is KEY=VALUE")
    return name, pairs


def validation_auroc(report: dict, family: str) -> float:
    """Mean validation AUROC over the seeds of ``family``'s student+KD stage runs (NaN where validation
    holds one class): what the KD sweep chooses on. A model row's cells name its seeds' stage runs."""
    row = row_of(report, family, "student+KD")
    if row is None:
        return math.nan
    values = []
    for stage_run in (cell_of(row, report["scenarios"][0], "f1") or {}).get("runs", []):
        value = json.loads((Path(stage_run) / "run.json").read_text())["metrics"].get("val/auroc")
        if value is not None and math.isfinite(value):
            values.append(float(value))
    return sum(values) / len(values) if values else math.nan


def kd_choice(reports: dict[str, dict], family: str) -> tuple[str, dict[str, float]]:
    """The variant whose ``family`` student+KD has the highest mean validation AUROC (the protocol's
    settings on a tie, or when no variant has one), and every variant's validation AUROC."""
    scores = {variant: validation_auroc(report, family) for variant, report in reports.items()}
    finite = {variant: value for variant, value in scores.items() if math.isfinite(value)}
    if not finite:
        return PROTOCOL, scores
    return max(finite, key=lambda variant: (finite[variant], variant == PROTOCOL)), scores


def kd_settings(variant: str, family: str) -> str:
    point = KD_DEFAULT if variant == PROTOCOL else next(p for p in KD_GRID if kd_variant(p)[0] == variant)
    short = {"temperature": "T", "alpha": "alpha", "latent_weight": "latent", "reconstruction_weight": "reconstruction"}
    return ", ".join(f"{short[field]} {point[field]:g}" for field in KD_FIELDS[family])


def kd_sweep_markdown(sweeps: dict[str, dict[str, dict]]) -> str:
    """Per dataset and family (VGAE, GAT, fusion DQN): every KD grid point's student+KD with its validation
    AUROC and test figures, the point chosen on validation, and the goal check with the chosen point."""
    lines = ["## KD sweep: temperature, alpha and the VGAE latent / reconstruction weights, chosen on validation", "",
             "Each family's student+KD is trained at every grid point (the protocol's point: T 4, alpha 0.7, latent 1, "
             "reconstruction 1); the point with the highest mean validation AUROC over the seeds is chosen (the "
             "protocol's where validation holds one class). Test figures are read only to report; mean over the seeds.", ""]
    summary = ["| dataset | scenario | family | chosen | val AUROC protocol -> chosen | F1 (FPR) protocol -> chosen | "
               "F1@5% protocol -> chosen | AUROC protocol -> chosen (teacher) | student F1 | KD >= student | beats |",
               "|---|---|---|---|---|---|---|---|---|---|---|"]
    yes = {True: "yes", False: "no"}
    for key, reports in sweeps.items():
        protocol = reports[PROTOCOL]
        for family in ("VGAE", *FAMILIES):
            chosen, scores = kd_choice(reports, family)
            lines += [f"### {key}: {family} student+KD", "",
                      "| variant | settings | val AUROC | " + " | ".join(f"{s} F1 (FPR) | {s} F1@5% | {s} AUROC"
                                                                 for s in protocol["scenarios"]) + " |",
                      "|---|---|---|" + "---|---|---|" * len(protocol["scenarios"])]
            for variant, report in reports.items():
                row = row_of(report, family, "student+KD")
                cells = [f"{mean_of(row, s, 'f1'):.3f} ({mean_of(row, s, 'fpr'):.2f}) | {mean_of(row, s, 'f1_at_5'):.3f} | "
                         f"{mean_of(row, s, 'auroc'):.3f}" for s in protocol["scenarios"]]
                mark = " (chosen)" if variant == chosen else ""
                lines.append(f"| {variant}{mark} | {kd_settings(variant, family)} | {scores[variant]:.3f} | "
                             + " | ".join(cells) + " |")
            lines.append("")
            picked, default = row_of(reports[chosen], family, "student+KD"), row_of(protocol, family, "student+KD")
            teacher, student = row_of(protocol, family, "teacher"), row_of(protocol, family, "student")
            checks = {c["scenario"]: c for c in goal_checks(reports[chosen]) if c["family"] == family}
            for s in protocol["scenarios"]:
                beats = yes[checks[s]["beats"]] if s in checks else "—"
                summary.append(
                    f"| {key} | {s} | {family} | {chosen} | {scores[PROTOCOL]:.3f} -> {scores[chosen]:.3f} | "
                    f"{mean_of(default, s, 'f1'):.3f} ({mean_of(default, s, 'fpr'):.2f}) -> {mean_of(picked, s, 'f1'):.3f} "
                    f"({mean_of(picked, s, 'fpr'):.2f}) | {mean_of(default, s, 'f1_at_5'):.3f} -> {mean_of(picked, s, 'f1_at_5'):.3f} | "
                    f"{mean_of(default, s, 'auroc'):.3f} -> {mean_of(picked, s, 'auroc'):.3f} ({mean_of(teacher, s, 'auroc'):.3f}) | "
                    f"{mean_of(student, s, 'f1'):.3f} | {yes[mean_of(picked, s, 'f1') >= mean_of(student, s, 'f1')]} | {beats} |")
    return "\n".join(lines + ["### Chosen points against the protocol's", "", *summary]) + "\n"


def gather_variants(entries: dict[str, dict], wanted: list[str], args, seeds: list[int], work: Path,
                    extra_variants: list[tuple[str, tuple[str, ...]]] = ()) -> None:
    """quality/sampling.md, quality/kd_sweep.md and quality/variant-NAME.md from the variant reports already run."""
    pairs, sweeps = {}, {}
    extra_pairs: dict[str, dict[str, tuple[dict, dict]]] = {name: {} for name, _ in extra_variants}
    for key in wanted:
        for features in feature_sets(entries[key], args.features):
            runs_root = runs_folder(work, args.threshold) / (features or "default") / key
            label = f"{key}" + (f" ({features})" if features else "")
            reports = {variant: report_of(runs_root, seeds, variant)
                       for variant in (PROTOCOL, SAMPLING_VARIANT[0], *(kd_variant(p)[0] for p in KD_GRID),
                                       *extra_pairs)}
            for report in reports.values():
                if report is not None:
                    add_operating_points(report)
            if reports[PROTOCOL] is None:
                continue
            if args.sampling_ablation and reports[SAMPLING_VARIANT[0]] is not None:
                pairs[label] = (reports[PROTOCOL], reports[SAMPLING_VARIANT[0]])
            if args.kd_sweep:
                sweeps[label] = {variant: report for variant, report in reports.items()
                                 if report is not None and (variant == PROTOCOL or variant in KD_VARIANTS)}
            for name in extra_pairs:
                if reports[name] is not None:
                    extra_pairs[name][label] = (reports[PROTOCOL], reports[name])
    output = quality_folder(work, args.threshold)
    if pairs:
        (output / "sampling.md").write_text(sampling_markdown(pairs))
        print(f"wrote {output / 'sampling.md'}", flush=True)
    if sweeps:
        (output / "kd_sweep.md").write_text(kd_sweep_markdown(sweeps))
        print(f"wrote {output / 'kd_sweep.md'}", flush=True)
    for (name, overrides), found in zip(extra_variants, extra_pairs.values(), strict=True):
        if found:
            path = output / f"variant-{name}.md"
            path.write_text(variant_markdown(f"Variant {name}: {' '.join(overrides)}",
                                             f"The protocol's pipeline with `{' '.join(overrides)}`.", found))
            print(f"wrote {path}", flush=True)
