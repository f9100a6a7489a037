"""`kdgat-runs report`: the pipeline's comparison over several seeds, with intervals and paired tests.

Input: pipeline run folders of one pipeline name, one per seed (``kdgat-train -m
config_store=NAME_pipeline training_config.seed=0,1,2`` makes them). Each folder's comparison.csv
gives one value per row (model x variant, baseline, the all-attack reference) and test scenario;
the report gives per cell the mean and a 95 % interval over seeds (a t-interval for fewer than 5
seeds, a percentile bootstrap from 5 on: `scipy.stats`), and paired Wilcoxon signed-rank tests over
seeds x scenarios of F1 with the mean difference and the matched-pairs rank-biserial effect size:
student+KD vs student (the KD gain), student vs teacher, GAT student+KD vs graph-less MLP student+KD
(the graph gain: same inputs and teacher, with and without message passing), best model vs best
baseline.

Written: report.md, report.csv, report.tex (booktabs, best mean F1 per scenario in bold),
report.json, in which every cell names the run folders its values came from, and the plots of
`report_plots` (F1 vs parameters with the Pareto front, F1 per scenario, ROC/PR overlays).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from kdgat_schemas import RunFolder, RunFolderError
from scipy import stats

from kdgat_train.families import FAMILIES
from kdgat_train.pipeline.comparison import (
    ALL_ATTACK,
    MARGIN,
    METRIC_LABELS,
    METRICS,
    NO_GAIN_MARK,
    ONE_CLASS_METRICS,
    THRESHOLD_OFF_MARK,
    source_kind,
    threshold_summary,
)
from kdgat_train.pipeline.table_writer import csv_text, json_text, latex_table, markdown_table

CONFIDENCE = 0.95
BOOTSTRAP_FROM = 5  # seeds: below this a t-interval, from this on a percentile bootstrap
TABLE_METRICS = ("f1", "fpr", "auroc")  # in report.md and report.tex; report.csv and report.json have all


class ReportError(ValueError):
    """The given runs cannot be compared (other pipelines, a seed twice, missing tables)."""


@dataclass(frozen=True)
class Interval:
    """Mean and 95 % interval of one cell over seeds; ``method`` says how the interval was made."""

    mean: float
    low: float
    high: float
    n: int
    method: str

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def interval(values: list[float]) -> Interval | None:
    """The mean of the finite ``values`` and its 95 % interval (None when there is none)."""
    data = np.asarray([v for v in values if v is not None and math.isfinite(v)], float)
    if len(data) == 0:
        return None
    mean = float(data.mean())
    if len(data) == 1:
        return Interval(mean, math.nan, math.nan, 1, "one seed: no interval")
    if np.ptp(data) == 0:
        return Interval(mean, mean, mean, len(data), "identical over seeds")
    if len(data) < BOOTSTRAP_FROM:
        low, high = stats.t.interval(CONFIDENCE, len(data) - 1, loc=mean, scale=stats.sem(data))
        return Interval(mean, float(low), float(high), len(data), "t-interval")
    result = stats.bootstrap((data,), np.mean, confidence_level=CONFIDENCE, method="percentile", random_state=0)
    return Interval(mean, float(result.confidence_interval.low), float(result.confidence_interval.high), len(data),
                    "percentile bootstrap")


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of F1 over seeds x scenarios: ``first`` minus ``second``."""

    label: str
    first: str
    second: str
    pairs: int
    mean_difference: float
    p_value: float
    rank_biserial: float  # +1: first better in every pair, -1: second better in every pair
    test: str = "Wilcoxon signed-rank (two-sided)"


def paired_test(label: str, first: str, second: str, a: list[float], b: list[float]) -> PairedTest:
    """Wilcoxon signed-rank test of ``a`` against ``b`` (paired), with the matched-pairs rank-biserial
    correlation; identical pairs give p = 1 and effect 0 (never a difference)."""
    difference = np.asarray(a, float) - np.asarray(b, float)
    nonzero = difference[difference != 0]
    if len(nonzero) == 0:
        return PairedTest(label, first, second, len(difference), 0.0, 1.0, 0.0)
    ranks = stats.rankdata(np.abs(nonzero))
    effect = float((ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()) / ranks.sum())
    p_value = float(stats.wilcoxon(nonzero).pvalue)
    return PairedTest(label, first, second, len(difference), float(difference.mean()), p_value, effect)


@dataclass
class ReportRow:
    model: str
    variant: str
    parameters: float | None = None
    values: dict[str, list[float]] = field(default_factory=dict)  # "scenario/metric" -> one value per seed
    runs: dict[str, list[str]] = field(default_factory=dict)  # "scenario/metric" -> the run folder of each value
    per_seed: list[str] = field(default_factory=list)  # what the label leaves out, per seed (the fixed alpha)
    notes: set[str] = field(default_factory=set)  # "GAT only", "VGAE only", "learned nothing" in some seed

    @property
    def label(self) -> str:
        """The model label with its per-seed detail: ``fusion fixed alpha (1.00, 0.55, 0.85)``."""
        detail = f" ({', '.join(self.per_seed)})" if self.per_seed else ""
        return self.model + detail + (f" [{'; '.join(sorted(self.notes))}]" if self.notes else "")

    @property
    def key(self) -> str:
        return f"{self.model} | {self.variant}"


@dataclass
class SeedReport:
    name: str
    pipelines: list[str]
    seeds: list[int]
    scenarios: list[str]
    windows: dict[str, str]
    rows: list[ReportRow]
    tests: list[PairedTest]
    kinds: dict[str, str] = field(default_factory=dict)  # scenario -> "normal only" | "attack only" (else both)

    def columns(self, scenario: str, metrics: tuple[str, ...] = TABLE_METRICS) -> tuple[str, ...]:
        """The per-scenario columns of report.md: ``metrics``, or what a one-class source defines."""
        return ONE_CLASS_METRICS.get(self.kinds.get(scenario), metrics)

    def heading(self, scenario: str, metric: str) -> str:
        kind = self.kinds.get(scenario)
        return f"{scenario} {METRIC_LABELS[metric]}" + (f" ({kind})" if kind else "")

    def cell(self, row: ReportRow, scenario: str, metric: str) -> Interval | None:
        return interval(row.values.get(f"{scenario}/{metric}", []))

    def speed(self, row: ReportRow) -> Interval | None:
        """Measured inference windows/s of the row's runs (one per seed), mean and interval."""
        return self.cell(row, "model", "windows_per_s")

    def cost(self, row: ReportRow) -> Interval | None:
        """Seconds the row's own stage took to train and evaluate (one per seed), mean and interval."""
        return self.cell(row, "model", "cost_s")

    def compression(self, row: ReportRow) -> float | None:
        """How many times fewer parameters than the teacher of the same model (None for a teacher,
        a baseline or a row without a parameter count)."""
        teacher = next((r for r in self.rows if r.model == row.model and r.variant == "teacher"), None)
        if row.variant in ("teacher", "baseline", "reference") or teacher is None or not teacher.parameters \
                or not row.parameters:
            return None
        return teacher.parameters / row.parameters


SPEED = "model/windows_per_s"  # the measured inference speed, beside the per-scenario cells
COST = "model/cost_s"  # the seconds the row's stage took (run.json's stage_wall_s)


def _row_label(model: str) -> str:
    """A row's model label without what varies per seed (the fixed-alpha comparator's chosen alpha)."""
    return re.sub(r"^(fusion fixed alpha) [0-9.]+$", r"\1", model)


def _number(text: str) -> float:
    return float(text) if text not in ("", None) else math.nan


def collect(pipeline_dirs: list[Path]) -> SeedReport:
    """Read the comparison tables of ``pipeline_dirs`` (one pipeline, one folder per seed)."""
    if not pipeline_dirs:
        raise ReportError("no pipeline run folders given")
    records = []
    for folder in pipeline_dirs:
        table = folder / "comparison.csv"
        if not RunFolder(folder).has_record() or not table.is_file():
            raise ReportError(f"{folder}: not a completed pipeline run (no run.json and comparison.csv)")
        try:
            record = RunFolder(folder).read_record()
        except RunFolderError as error:
            raise ReportError(str(error)) from None
        records.append((folder, record, list(csv.DictReader(table.open()))))
    names = {record.name for _, record, _ in records}
    if len(names) > 1:
        raise ReportError(f"these runs are of different pipelines ({', '.join(sorted(names))}): report one at a time")
    seen: dict[int, Path] = {}
    for folder, record, _ in records:
        if record.seed in seen:
            raise ReportError(f"seed {record.seed} appears twice ({seen[record.seed]} and {folder}): give one run per seed")
        seen[record.seed] = folder
    scenario_sets = {tuple(sorted({c.split("/")[0] for c in rows[0] if c.endswith("/f1")})) for _, _, rows in records}
    if len(scenario_sets) > 1:
        raise ReportError("the runs were evaluated on different test scenarios: " + "; ".join(map(str, scenario_sets)))
    scenarios = list(next(iter(scenario_sets)))
    first_rows = records[0][2]
    windows = {s: f"{first_rows[0][f'{s}/windows']} windows, attack share {float(first_rows[0][f'{s}/attack_share']):.1%}"
               for s in scenarios if first_rows and first_rows[0].get(f"{s}/windows")}
    kinds = {}
    for s in scenarios:
        if first_rows and first_rows[0].get(f"{s}/attack_share") not in (None, ""):
            total, share = int(first_rows[0][f"{s}/windows"]), float(first_rows[0][f"{s}/attack_share"])
            kind = source_kind(round(share * total), total - round(share * total))
            if kind != "both":
                kinds[s] = kind
    rows: dict[str, ReportRow] = {}
    for folder, _, table in records:
        for line in table:
            row = ReportRow(_row_label(line["model"]), line["variant"])
            row = rows.setdefault(row.key, row)
            if row.model != line["model"]:
                row.per_seed.append(line["model"].removeprefix(row.model).strip())
            if line.get("one_input"):
                row.notes.add(f"{line['one_input']} only")
            if line.get("learned_nothing") == "1":
                row.notes.add("learned nothing")
            row.parameters = row.parameters or (_number(line["parameters"]) if line.get("parameters") else None)
            for scenario in scenarios:
                for metric in METRICS:
                    key = f"{scenario}/{metric}"
                    row.values.setdefault(key, []).append(_number(line.get(key, "")))
                    row.runs.setdefault(key, []).append(line.get("run") or str(folder))
            for key, column in ((SPEED, "windows_per_s"), (COST, "cost_s")):
                row.values.setdefault(key, []).append(_number(line.get(column, "")))
                row.runs.setdefault(key, []).append(line.get("run") or str(folder))
    report = SeedReport(records[0][1].name, [str(f) for f, _, _ in records], [r.seed for _, r, _ in records],
                        scenarios, windows, list(rows.values()), [], kinds)
    report.tests = _paired_tests(report)
    return report


def _f1_pairs(report: SeedReport, first: ReportRow, second: ReportRow) -> tuple[list[float], list[float]]:
    a, b = [], []
    for scenario in report.scenarios:
        for x, y in zip(first.values[f"{scenario}/f1"], second.values[f"{scenario}/f1"], strict=True):
            if math.isfinite(x) and math.isfinite(y):
                a.append(x)
                b.append(y)
    return a, b


def _mean_f1(report: SeedReport, row: ReportRow) -> float:
    values = [v for s in report.scenarios for v in row.values[f"{s}/f1"] if math.isfinite(v)]
    return float(np.mean(values)) if values else -math.inf


def _paired_tests(report: SeedReport) -> list[PairedTest]:
    by_key = {row.key: row for row in report.rows}
    tests = []
    for family in (family.label for family in FAMILIES.values()):
        for first, second, label in (("student+KD", "student", "KD gain"), ("student", "teacher", "student vs teacher")):
            one, two = by_key.get(f"{family} | {first}"), by_key.get(f"{family} | {second}")
            if one and two:
                tests.append(paired_test(f"{label}: {family}", one.key, two.key, *_f1_pairs(report, one, two)))
    graph, graphless = by_key.get("GAT | student+KD"), by_key.get("graph-less MLP | student+KD")
    if graph and graphless:  # the same inputs and teacher, with and without message passing
        tests.append(paired_test("graph gain: student+KD", graph.key, graphless.key, *_f1_pairs(report, graph, graphless)))
    models = [row for row in report.rows if row.variant not in ("baseline", "reference")]
    baselines = [row for row in report.rows if row.variant == "baseline"]
    if models and baselines:
        best_model = max(models, key=lambda row: _mean_f1(report, row))
        best_baseline = max(baselines, key=lambda row: _mean_f1(report, row))
        tests.append(paired_test("best model vs best baseline", best_model.key, best_baseline.key,
                                 *_f1_pairs(report, best_model, best_baseline)))
    return tests


# --- writing ------------------------------------------------------------------------------------
def _shown(cell: Interval | None) -> str:
    if cell is None:
        return "—"
    if cell.n == 1 or math.isnan(cell.low):
        return f"{cell.mean:.3f}"
    return f"{cell.mean:.3f} ± {cell.half_width:.3f}"


def _no_gain(report: SeedReport, row: ReportRow, scenario: str) -> bool:
    """The row's mean F1 within `MARGIN` of (or below) flagging every window in ``scenario``."""
    reference = next((r for r in report.rows if r.model == ALL_ATTACK), None)
    cell, flag_all = report.cell(row, scenario, "f1"), report.cell(reference, scenario, "f1") if reference else None
    return row.model != ALL_ATTACK and cell is not None and flag_all is not None and cell.mean < flag_all.mean + MARGIN


def _threshold_off(report: SeedReport, row: ReportRow, scenario: str) -> bool:
    """Not a detection at its threshold (mean F1), although its scores rank the scenario: mean F1 at 5 % test FPR
    above the all-attack row's F1 + `MARGIN` (the comparison table's rule, on means over seeds)."""
    reference = next((r for r in report.rows if r.model == ALL_ATTACK), None)
    ranked, flag_all = report.cell(row, scenario, "f1_at_5pct_fpr"), report.cell(reference, scenario, "f1") if reference else None
    return _no_gain(report, row, scenario) and ranked is not None and flag_all is not None \
        and ranked.mean >= flag_all.mean + MARGIN


def _threshold_failures(report: SeedReport) -> list[tuple[str, list[str]]]:
    """``(row label, scenarios)`` of the rows whose threshold, not their model, fails (means over seeds)."""
    failures = [(row.key.replace(" | ", " "), [s for s in report.scenarios if _threshold_off(report, row, s)])
                for row in report.rows]
    return [(label, scenarios) for label, scenarios in failures if scenarios]


def _methods(report: SeedReport) -> str:
    n = len(report.seeds)
    if n == 1:
        return "one seed: values without intervals"
    return f"mean ± half-width of the 95 % {'t-interval' if n < BOOTSTRAP_FROM else 'percentile bootstrap'} over {n} seeds"


def to_markdown(report: SeedReport) -> str:
    header = ["model", "variant", "params", "vs teacher", "cost s/seed",
              *(report.heading(s, m) for s in report.scenarios for m in report.columns(s))]
    count = f"{len(report.seeds)} seed{'s' if len(report.seeds) > 1 else ''}"
    lines = [f"# {report.name}: {count} ({', '.join(map(str, report.seeds))})", "",
             f"Cells: {_methods(report)}. Test scenarios:",
             *(f"- {s}: {report.windows.get(s, '')}" for s in report.scenarios), ""]
    rows = []
    for row in report.rows:
        compression, cost = report.compression(row), report.cost(row)
        cells = [row.label, row.variant, f"{row.parameters:,.0f}" if row.parameters else "—",
                 f"{compression:.1f}x smaller" if compression else "—", f"{cost.mean:,.0f}" if cost else "—"]
        cells += [_shown(report.cell(row, s, m)) + _f1_marks(report, row, s, m)
                  for s in report.scenarios for m in report.columns(s)]
        rows.append(cells)
    lines += markdown_table(header, rows)
    summary = threshold_summary(_threshold_failures(report))
    lines += ["", f"{NO_GAIN_MARK} mean F1 not above the all-attack row's + {MARGIN} (flagging every window does as "
              f"well): not a detection. {THRESHOLD_OFF_MARK}: but its scores rank the scenario (mean F1 at 5 % test FPR, "
              "in report.csv as f1_at_5pct_fpr, above flagging everything): the threshold, not the model, fails.", "",
              *summary, *([""] if summary else []),
              *([f"One-class sources ({', '.join(report.kinds)}): a normal-only source shows FPR and false alarms per "
                 "hour, an attack-only one recall and detection delay (F1 and AUROC are undefined there).", ""]
                if report.kinds else []),
              "cost s/seed: mean seconds the row's own stage took (building, training, evaluation) when it was trained; "
              "a student+KD row's excludes its teacher's. Inference windows/s per run are in report.csv (metric "
              "windows_per_s), unpinned figures; docs/benchmarks.md has pinned ones.", "", "Paired tests of F1 over seeds x scenarios (first minus second):", ""]
    lines += markdown_table(["comparison", "first", "second", "pairs", "mean ΔF1", "p", "rank-biserial"],
                            [[test.label, *(key.replace(" | ", ", ") for key in (test.first, test.second)), str(test.pairs),
                              f"{test.mean_difference:+.3f}", f"{test.p_value:.3g}", f"{test.rank_biserial:+.2f}"]
                             for test in report.tests])
    lines += ["", f"Test: {report.tests[0].test if report.tests else 'none'}; with few pairs the smallest possible p is "
              "large (6 pairs: 0.031), so read the effect size with it.", "",
              f"Runs: {', '.join(report.pipelines)} (report.json names the run behind every cell)."]
    return "\n".join(lines) + "\n"


def _f1_marks(report: SeedReport, row: ReportRow, scenario: str, metric: str) -> str:
    if metric != "f1" or not _no_gain(report, row, scenario):
        return ""
    return f" {NO_GAIN_MARK}" + (THRESHOLD_OFF_MARK if _threshold_off(report, row, scenario) else "")


def to_csv(report: SeedReport) -> str:
    rows = []
    for row in report.rows:
        compression = report.compression(row)
        cells = [(scenario, metric) for scenario in report.scenarios for metric in METRICS] + [tuple(SPEED.split("/")),
                                                                                                tuple(COST.split("/"))]
        for scenario, metric in cells:
            cell = report.cell(row, scenario, metric)
            if cell is not None:
                rows.append([row.model, row.variant, row.parameters or "", compression or "", scenario, metric,
                             cell.mean, "" if math.isnan(cell.low) else cell.low,
                             "" if math.isnan(cell.high) else cell.high, cell.n, cell.method])
    return csv_text(["model", "variant", "parameters", "compression_vs_teacher", "scenario", "metric", "mean", "low",
                     "high", "n", "interval"], rows)


def to_latex(report: SeedReport) -> str:
    """A booktabs table of mean F1 (± half-width) per scenario; the best mean per column in bold
    (the all-attack reference excluded)."""
    best = {}  # scenario -> the rows with the best mean (ties all bold)
    for scenario in report.scenarios:
        means = {row.key: cell.mean for row in report.rows if row.model != ALL_ATTACK
                 and (cell := report.cell(row, scenario, "f1")) is not None}
        top = max(means.values(), default=None)
        best[scenario] = {key for key, mean in means.items() if top is not None and math.isclose(mean, top)}
    shown = {s: report.columns(s, ("f1",))[0] for s in report.scenarios}  # F1, or a one-class source's FPR / recall
    headings = [s if shown[s] == "f1" else report.heading(s, shown[s]) for s in report.scenarios]
    rows = [[row.model, row.variant, *(_shown(report.cell(row, s, shown[s])) for s in report.scenarios)]
            for row in report.rows]
    bold = {(i, 2 + j) for i, row in enumerate(report.rows) for j, s in enumerate(report.scenarios) if row.key in best[s]}
    return latex_table(["Model", "Variant", *headings], rows, align="ll" + "r" * len(report.scenarios), bold=bold,
                       caption=f"{report.name}: F1 per test scenario, {_methods(report)}.")


def to_json(report: SeedReport) -> str:
    rows = []
    for row in report.rows:
        cells = {}
        for key, values in row.values.items():
            scenario, metric = key.split("/", 1)
            cell = report.cell(row, scenario, metric)
            cells[key] = {"values": [None if not math.isfinite(v) else v for v in values], "runs": row.runs[key],
                          **({} if cell is None else {"mean": cell.mean, "low": None if math.isnan(cell.low) else cell.low,
                                                      "high": None if math.isnan(cell.high) else cell.high,
                                                      "interval": cell.method})}
        rows.append({"model": row.model, "variant": row.variant, "parameters": row.parameters,
                     "compression_vs_teacher": report.compression(row), "cells": cells})
    document = {"pipeline": report.name, "seeds": report.seeds, "pipelines": report.pipelines,
                "scenarios": report.scenarios, "rows": rows, "tests": [asdict(test) for test in report.tests]}
    return json_text(document)
