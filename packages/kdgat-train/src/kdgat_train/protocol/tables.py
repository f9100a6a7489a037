"""The protocol's tables from the seed reports its pipelines wrote: mean ± half the 95 % t-interval
over seeds per row and scenario, the F1 at a 5 % test FPR read off each run's ``scores.parquet``, and
the goal check per scenario and family (beats the best baseline at a test FPR <= 5 %, AUROC close to
the teacher's, KD at least the student)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import polars as pl

from kdgat_train.evaluation.metrics import best_f1_at_fpr
from kdgat_train.pipeline.seed_report import interval
from kdgat_train.pipeline.table_writer import markdown_table
from kdgat_train.protocol.datasets import DOMAIN_FEATURES, ID_FREE, feature_sets
from kdgat_train.protocol.runs import THRESHOLD, quality_folder, report_of, runs_folder

MAX_FPR = 0.05


AUROC_GAP = 0.02


OWN_SCORES = ("VGAE", "GAT", "graph-less MLP", "fusion DQN")  # rows whose run's scores.parquet holds their own scores


FAMILIES = ("GAT", "graph-less MLP", "fusion DQN")  # the goal check's: each student+KD against the baselines
KD_TEACHER_OF = {"graph-less MLP": "GAT"}  # a family distilled from another family's teacher


# --- reading a seed report --------------------------------------------------------------------
def cell_of(row: dict, scenario: str, metric: str) -> dict | None:
    return row["cells"].get(f"{scenario}/{metric}")


def mean_of(row: dict | None, scenario: str, metric: str) -> float:
    cell = None if row is None else cell_of(row, scenario, metric)
    return math.nan if cell is None or cell.get("mean") is None else float(cell["mean"])


def shown(row: dict, scenario: str, metric: str) -> str:
    cell = cell_of(row, scenario, metric)
    if cell is None or cell.get("mean") is None:
        return "—"
    if cell.get("low") is None:
        return f"{cell['mean']:.3f}"
    return f"{cell['mean']:.3f} ± {(cell['high'] - cell['low']) / 2:.3f}"


def row_of(report: dict, model: str, variant: str) -> dict | None:
    return next((r for r in report["rows"] if r["model"] == model and r["variant"] == variant), None)


def f1_at_test_fpr(run_dir: str | Path, scenario: str, rate: float = MAX_FPR) -> float:
    """The best F1 of ``scores > t`` on test scenario ``scenario`` of a run over the thresholds t that
    flag at most ``rate`` of the scenario's normal windows (`evaluation.metrics.best_f1_at_fpr`, read from
    the run's scores.parquet, so runs recorded before the metric existed count too; NaN for a one-class
    scenario)."""
    frame = pl.read_parquet(Path(run_dir) / "scores.parquet").filter(pl.col("split") == f"test/{scenario}")
    labels, scores = frame["label"].to_numpy().astype(bool), frame["score"].to_numpy()
    if labels.all() or not labels.any():
        return math.nan
    return best_f1_at_fpr(scores, labels, rate)


def add_operating_points(report: dict) -> None:
    """``<scenario>/f1_at_5`` cells (mean and interval over the seeds' runs) on the rows with their own scores."""
    for row in report["rows"]:
        if not (row["variant"] == "baseline" or row["model"] in OWN_SCORES):
            continue
        for scenario in report["scenarios"]:
            runs = (cell_of(row, scenario, "f1") or {}).get("runs", [])
            values = [f1_at_test_fpr(run, scenario) for run in runs if (Path(run) / "scores.parquet").is_file()]
            cell = interval(values)  # the report's own mean and 95 % interval over seeds
            if cell is not None:
                row["cells"][f"{scenario}/f1_at_5"] = {"values": values, "mean": cell.mean,
                                                       **({"low": cell.low, "high": cell.high} if cell.n > 1 else {"low": None})}


def goal_checks(report: dict) -> list[dict]:
    """Per scenario and family: the three goals with the numbers they compare."""
    checks = []
    for scenario in report["scenarios"]:
        baselines = [r for r in report["rows"] if r["variant"] == "baseline"]
        qualified = [r for r in baselines if mean_of(r, scenario, "fpr") <= MAX_FPR]
        best = max(qualified, key=lambda r: mean_of(r, scenario, "f1"), default=None)
        best_f1 = mean_of(best, scenario, "f1") if best else 0.0
        ranked = [r for r in baselines if math.isfinite(mean_of(r, scenario, "f1_at_5"))]
        best_at_5 = max(ranked, key=lambda r: mean_of(r, scenario, "f1_at_5"), default=None)
        for family in FAMILIES:
            kd, student = row_of(report, family, "student+KD"), row_of(report, family, "student")
            teacher = row_of(report, KD_TEACHER_OF.get(family, family), "teacher")
            if kd is None:
                continue
            kd_f1, kd_fpr = mean_of(kd, scenario, "f1"), mean_of(kd, scenario, "fpr")
            checks.append({
                "scenario": scenario, "family": family, "kd_f1": kd_f1, "kd_fpr": kd_fpr,
                "best_baseline": best["model"] if best else None, "best_baseline_f1": best_f1,
                "beats": bool(kd_fpr <= MAX_FPR and kd_f1 > best_f1),
                "kd_auroc": mean_of(kd, scenario, "auroc"), "teacher_auroc": mean_of(teacher, scenario, "auroc"),
                "close": bool(mean_of(kd, scenario, "auroc") >= mean_of(teacher, scenario, "auroc") - AUROC_GAP),
                "student_f1": mean_of(student, scenario, "f1"),
                "kd_helps": bool(kd_f1 >= mean_of(student, scenario, "f1")),
                "kd_f1_at_5": mean_of(kd, scenario, "f1_at_5"),
                "best_baseline_at_5": best_at_5["model"] if best_at_5 else None,
                "best_baseline_f1_at_5": mean_of(best_at_5, scenario, "f1_at_5") if best_at_5 else math.nan,
                "beats_at_5": bool(best_at_5 is not None and mean_of(kd, scenario, "f1_at_5") > mean_of(best_at_5, scenario, "f1_at_5")),
            })
    return checks


def dataset_markdown(key: str, features: str | None, report: dict, windows: dict[str, str],
                     threshold: str = THRESHOLD) -> str:
    seeds = report["seeds"]
    title = f"## {key}" + (f", features {features}" if features else "")
    lines = [title, "", f"Seeds {', '.join(map(str, seeds))}; threshold {threshold} on validation; cells: mean ± half "
             f"the 95 % t-interval over {len(seeds)} seeds.", ""]
    lines += [f"- {s}: {windows.get(s, '')}" for s in report["scenarios"]] + [""]
    metrics = ("f1", "fpr", "auroc", "f1_at_5")
    labels = {"f1": "F1", "fpr": "FPR", "auroc": "AUROC", "f1_at_5": "F1@5%"}
    header = ["model", "variant", "params", *(f"{s} {labels[m]}" for s in report["scenarios"] for m in metrics)]
    lines += markdown_table(header, [[row["model"], row["variant"],
                                      f"{row['parameters']:,.0f}" if row.get("parameters") else "—",
                                      *(shown(row, s, m) for s in report["scenarios"] for m in metrics)]
                                     for row in report["rows"]])
    yes = {True: "yes", False: "no"}
    lines += ["", *markdown_table(
        ["scenario", "family", "student+KD F1 (FPR)", "best baseline F1 (at FPR <= 5 %)", "beats",
         "student+KD / best baseline F1@5%", "beats@5%", "AUROC KD / teacher", "close", "student F1", "KD >= student"],
        [[c["scenario"], c["family"], f"{c['kd_f1']:.3f} ({c['kd_fpr']:.3f})",
          f"{c['best_baseline_f1']:.3f} {c['best_baseline'] or '(none)'}", yes[c["beats"]],
          f"{c['kd_f1_at_5']:.3f} / {c['best_baseline_f1_at_5']:.3f} {c['best_baseline_at_5'] or ''}", yes[c["beats_at_5"]],
          f"{c['kd_auroc']:.3f} / {c['teacher_auroc']:.3f}", yes[c["close"]], f"{c['student_f1']:.3f}", yes[c["kd_helps"]]]
         for c in goal_checks(report)])]
    return "\n".join(lines) + "\n"


def window_counts(report: dict) -> dict[str, str]:
    """Scenario -> "N windows, attack share X" from the first pipeline's comparison.csv."""
    table = Path(report["pipelines"][0]) / "comparison.csv"
    first = next(csv.DictReader(table.open()))
    return {s: f"{first[f'{s}/windows']} windows, attack share {float(first[f'{s}/attack_share']):.1%}"
            for s in report["scenarios"] if first.get(f"{s}/windows")}


def ablation_markdown(entries: dict[str, dict], reports: dict[tuple[str, str | None], dict]) -> str:
    """Per dataset, scenario and model row: mean F1 and AUROC of its domain's two feature sets and the change."""
    lines = ["## Ablation: the issue-13 feature set against the published / default one", "",
             "Mean over the seeds; change = second - first.", "",
             "| dataset | scenario | model | variant | features | F1@5% | F1@5% change | AUROC | AUROC change |",
             "|---|---|---|---|---|---|---|---|---|"]
    for key, entry in entries.items():
        if entry["domain"] not in DOMAIN_FEATURES:  # one feature set: nothing to compare
            continue
        first, other = DOMAIN_FEATURES[entry["domain"]]
        a, b = reports.get((key, first)), reports.get((key, other))
        if a is None or b is None:
            continue
        for scenario in a["scenarios"]:
            for row in a["rows"]:
                twin = row_of(b, row["model"], row["variant"])
                if twin is None or row["variant"] == "reference":
                    continue
                f1a, f1b = mean_of(row, scenario, "f1_at_5"), mean_of(twin, scenario, "f1_at_5")
                auc_a, auc_b = mean_of(row, scenario, "auroc"), mean_of(twin, scenario, "auroc")
                lines.append(f"| {key} | {scenario} | {row['model']} | {row['variant']} | {first} -> {other} | "
                             f"{f1a:.3f} -> {f1b:.3f} | {f1b - f1a:+.3f} | {auc_a:.3f} -> {auc_b:.3f} | {auc_b - auc_a:+.3f} |")
    return "\n".join(lines) + "\n"


def paired_lines(key: str, first: dict, second: dict, models: tuple[str, ...] = OWN_SCORES) -> list[str]:
    """One table line per scenario and model row of ``first`` that ``second`` also has: F1 (FPR), F1@5% and
    AUROC of first -> second."""
    lines = []
    for scenario in first["scenarios"]:
        for row in first["rows"]:
            twin = row_of(second, row["model"], row["variant"])
            if twin is None or row["model"] not in models:
                continue
            pair = [(mean_of(r, scenario, "f1"), mean_of(r, scenario, "fpr"), mean_of(r, scenario, "f1_at_5"),
                     mean_of(r, scenario, "auroc")) for r in (row, twin)]
            lines.append(f"| {key} | {scenario} | {row['model']} | {row['variant']} | "
                         f"{pair[0][0]:.3f} ({pair[0][1]:.2f}) -> {pair[1][0]:.3f} ({pair[1][1]:.2f}) | "
                         f"{pair[0][2]:.3f} -> {pair[1][2]:.3f} | {pair[0][3]:.3f} -> {pair[1][3]:.3f} |")
    return lines


def id_free_markdown(entries: dict[str, dict], reports: dict[tuple[str, str | None], dict]) -> str:
    """Per automotive dataset with an ID-free twin run: each model row with entity IDs -> ID-free (anchor features)."""
    lines = ["## Ablation: ID-free models against the same models with entity IDs", "",
             "Anchor features; mean over the seeds; F1 with its test FPR in parentheses.", "",
             "| dataset | scenario | model | variant | F1 (FPR): IDs -> ID-free | F1@5%: IDs -> ID-free | AUROC: IDs -> ID-free |",
             "|---|---|---|---|---|---|---|"]
    for key in entries:
        based, free = reports.get((key, "anchor")), reports.get((f"{key}{ID_FREE}", "anchor"))
        if based is not None and free is not None:
            lines += paired_lines(key, based, free)
    return "\n".join(lines) + "\n"


def variant_markdown(title: str, about: str, pairs: dict[str, tuple[dict, dict]], models: tuple[str, ...] = OWN_SCORES,
                     labels: tuple[str, str] = ("protocol", "variant")) -> str:
    """Per dataset: each model row of the protocol's pipeline -> the same row with the variant's overrides,
    then the goal check of the variant's runs."""
    first, second = labels
    lines = [f"## {title}", "", about + " Mean over the seeds; F1 with its test FPR in parentheses.", "",
             f"| dataset | scenario | model | variant | F1 (FPR): {first} -> {second} | F1@5%: {first} -> {second} | "
             f"AUROC: {first} -> {second} |", "|---|---|---|---|---|---|---|"]
    for key, (protocol, variant) in pairs.items():
        lines += paired_lines(key, protocol, variant, models)
    lines += ["", f"Goal check, {second} (student+KD against the best baseline at a test FPR <= 5 %):", "",
              "| dataset | scenario | family | student+KD F1 (FPR) | best baseline | beats | AUROC KD / teacher | close | "
              "student F1 | KD >= student |", "|---|---|---|---|---|---|---|---|---|---|"]
    yes = {True: "yes", False: "no"}
    for key, (_, variant) in pairs.items():
        for c in goal_checks(variant):
            lines.append(f"| {key} | {c['scenario']} | {c['family']} | {c['kd_f1']:.3f} ({c['kd_fpr']:.3f}) | "
                         f"{c['best_baseline_f1']:.3f} {c['best_baseline'] or '(none)'} | {yes[c['beats']]} | "
                         f"{c['kd_auroc']:.3f} / {c['teacher_auroc']:.3f} | {yes[c['close']]} | {c['student_f1']:.3f} | "
                         f"{yes[c['kd_helps']]} |")
    return "\n".join(lines) + "\n"


def gather(entries: dict[str, dict], features: str, seeds: list[int], work: Path, threshold: str = THRESHOLD) -> None:
    """quality.md (every dataset's table and goal check, then the feature ablation) and quality.json
    from every report of these seeds and this threshold rule under WORK/runs."""
    sections, summary, reports = [], [], {}
    output = quality_folder(work, threshold)
    output.mkdir(parents=True, exist_ok=True)
    for key, entry in entries.items():
        for feature_set in feature_sets(entry, features):
            report = report_of(runs_folder(work, threshold) / (feature_set or "default") / key, seeds)
            if report is None:
                continue
            add_operating_points(report)
            reports[(key, feature_set)] = report
            section = dataset_markdown(key, feature_set, report, window_counts(report), threshold)
            (output / f"{key}-{feature_set or 'default'}.md").write_text(section)
            sections.append(section)
            summary += [{"dataset": key, "features": feature_set, **check} for check in goal_checks(report)]
    sections.append(ablation_markdown(entries, reports))
    sections.append(id_free_markdown(entries, reports))
    (output / "quality.md").write_text(f"# Detection quality (issue 13 protocol, evaluation.threshold={threshold})\n\n"
                                       + "\n".join(sections))
    (output / "quality.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {output / 'quality.md'} ({len(reports)} reports)", flush=True)
