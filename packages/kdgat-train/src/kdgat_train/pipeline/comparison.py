"""The pipeline's comparison table: one row per model x variant and baseline, columns per test scenario.

Rows: the "all attack" reference (flag every window: what a detector must beat), the baselines,
then VGAE, GAT and the DQN fusion (with its MLP and best-fixed-alpha comparators) for teacher,
student and student+KD. Per row: parameters and the threshold rule applied (the CSV adds each run's
measured inference windows/s, an unpinned figure left out of the Markdown table); per scenario: F1, precision, recall, FPR, AUROC, AUPRC and the median detection delay.
The header gives every scenario's window count and attack share. Read from each run's run.json.

Nothing here can mislead quietly: a scenario with fewer than `MIN_CLASS_WINDOWS` windows of a class
(or a single class) prints every metric as a dash with a footnote, never 1.000 or 0.000, and an F1
that does not beat the all-attack row by `MARGIN` is marked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from kdgat_schemas import RunRecord, atomic_write

from kdgat_train.evaluation.learning_check import learned_nothing
from kdgat_train.families import FAMILIES, family_of
from kdgat_train.pipeline.table_writer import csv_text, markdown_table

METRICS = ("f1", "f1_at_5pct_fpr", "precision", "recall", "fpr", "auroc", "auprc", "detection_delay_s_median",
           "false_alarms_per_hour")
MARKDOWN_METRICS = METRICS[:-1]  # false alarms per hour: in the CSV, and in Markdown for normal-only sources
METRIC_LABELS = {"f1": "F1", "f1_at_5pct_fpr": "F1@5%FPR", "precision": "precision", "recall": "recall", "fpr": "FPR",
                 "auroc": "AUROC", "auprc": "AUPRC", "detection_delay_s_median": "delay s",
                 "false_alarms_per_hour": "false alarms/h"}
# what a one-class source can say: FPR and false alarms without attacks, recall and delay without normal windows
ONE_CLASS_METRICS = {"normal only": ("fpr", "false_alarms_per_hour"), "attack only": ("recall", "detection_delay_s_median")}
MIN_CLASS_WINDOWS = 5
MARGIN = 0.01
ALL_ATTACK = "all attack"
NO_GAIN_MARK = "‡"
THRESHOLD_OFF_MARK = "†"  # not a detection at its threshold, although its scores rank the scenario
DEGENERATE_MARK = "—"
ONE_INPUT_MARK = "§"  # a fusion that reads one of its inputs only
LEARNED_NOTHING_MARK = "∅"  # validation AUROC within noise of chance
WITHOUT_ATTACKS_MARK = "¶"  # learns from labels, trained on fewer attack windows than the minimum
ONE_INPUT_RANK_AGREEMENT = 0.9995  # Spearman of the fused validation scores with one input's: a copy of it


@dataclass(frozen=True)
class TableEntry:
    """One run that gives rows: ``model`` its family label, ``variant`` its variant, ``prefixes`` the
    metric prefixes (and labels) of its rows ("" = the run's own detector)."""

    model: str
    variant: str
    run_dir: str
    prefixes: tuple[tuple[str, str], ...] = (("", ""),)
    without_attacks: bool = False  # learns from labels, trained on fewer attack windows than the minimum (forced)


@dataclass
class ComparisonTable:
    scenarios: list[str]
    rows: list[dict]
    windows: dict[str, tuple[int, int]] = field(default_factory=dict)  # scenario -> (attack, normal) windows

    def degenerate(self, scenario: str) -> bool:
        """Both classes present, but fewer than `MIN_CLASS_WINDOWS` windows of one: no metric is printed."""
        return not self.defined(scenario)

    def kind(self, scenario: str) -> str:
        """``normal only``, ``attack only`` or ``both`` (`source_kind`)."""
        return source_kind(*self.windows.get(scenario, (0, 0)))

    def defined(self, scenario: str) -> tuple[str, ...]:
        """The metrics ``scenario``'s windows define (`defined_metrics`)."""
        return defined_metrics(*self.windows.get(scenario, (0, 0)))

    def all_attack_f1(self, scenario: str) -> float | None:
        attack, normal = self.windows.get(scenario, (0, 0))
        return 2 * attack / (2 * attack + normal) if attack + normal else None

    @property
    def columns(self) -> list[str]:
        per_scenario = [f"{s}/{m}" for s in self.scenarios
                        for m in (*METRICS, "windows", "attack_share", "no_gain", "threshold_off")]
        return ["model", "variant", "parameters", "windows_per_s", "cost_s", "train_windows_per_s", "threshold_rule",
                "one_input", "learned_nothing", "trained_without_attacks",
                *per_scenario, "run"]

    def value(self, row: dict, scenario: str, metric: str):
        """The printed value of a cell: ``None`` (a dash) for a metric the scenario's windows do not define."""
        if metric not in self.defined(scenario):
            return None
        return row.get(f"{scenario}/{metric}")

    def no_gain(self, row: dict, scenario: str) -> bool:
        """F1 within `MARGIN` of flagging every window (or below it): the detector adds nothing."""
        f1, reference = self.value(row, scenario, "f1"), self.all_attack_f1(scenario)
        return row["model"] != ALL_ATTACK and f1 is not None and reference is not None and f1 < reference + MARGIN

    def threshold_off(self, row: dict, scenario: str) -> bool:
        """Not a detection at its own (validation) threshold, although its scores rank the scenario: the best F1
        at a test FPR <= 5 % beats flagging every window. The threshold, not the model, is what fails."""
        ranked, reference = self.value(row, scenario, "f1_at_5pct_fpr"), self.all_attack_f1(scenario)
        return self.no_gain(row, scenario) and ranked is not None and ranked >= reference + MARGIN

    def threshold_failures(self) -> list[tuple[str, list[str]]]:
        """``(row label, scenarios)`` of the rows whose threshold, not their ranking, fails somewhere."""
        failures = []
        for row in self.rows:
            scenarios = [s for s in self.scenarios if self.threshold_off(row, s)]
            if scenarios:
                failures.append((f"{row['model']} {row['variant']}", scenarios))
        return failures

    def summary_lines(self) -> list[str]:
        """What a reader should take from the marks, in words (printed under the table)."""
        return threshold_summary(self.threshold_failures())

    def to_csv(self) -> str:
        lines = []
        for row in self.rows:
            cells = {key: row.get(key) for key in ("model", "variant", "parameters", "windows_per_s", "cost_s",
                                                   "train_windows_per_s", "threshold_rule", "run", "one_input")}
            cells["learned_nothing"] = int(bool(row.get("learned_nothing")))
            cells["trained_without_attacks"] = int(bool(row.get("without_attacks")))
            for scenario in self.scenarios:
                attack, normal = self.windows.get(scenario, (0, 0))
                cells |= {f"{scenario}/{m}": self.value(row, scenario, m) for m in METRICS}
                cells |= {f"{scenario}/windows": attack + normal,
                          f"{scenario}/attack_share": attack / (attack + normal) if attack + normal else None,
                          f"{scenario}/no_gain": int(self.no_gain(row, scenario)),
                          f"{scenario}/threshold_off": int(self.threshold_off(row, scenario))}
            lines.append([_csv_value(cells.get(key)) for key in self.columns])
        return csv_text(self.columns, lines)

    def header_lines(self) -> list[str]:
        lines = []
        for scenario in self.scenarios:
            attack, normal = self.windows.get(scenario, (0, 0))
            share = f"{100 * attack / (attack + normal):.1f} %" if attack + normal else "—"
            lines.append(f"- {scenario}: {attack + normal} windows ({attack} attack, {normal} normal; attack share {share})"
                         + ONE_CLASS_NOTES.get(self.kind(scenario), ""))
        return lines

    def footnotes(self) -> list[str]:
        notes = [f"{NO_GAIN_MARK} F1 not above the all-attack row + {MARGIN} (flagging every window does as well): "
                 "not a detection. F1@5%FPR: the best F1 any threshold reaches at a test FPR <= 5 %; it reads test "
                 "labels, so it is a ranking figure like AUROC, not a detector's F1.",
                 "params: of the detector; a fusion (dqn) row counts the VGAE + GAT + DQN it runs. Speed is not in "
                 "this table: each run's one unpinned measurement (comparison.csv, windows_per_s) is not comparable "
                 "across rows; docs/benchmarks.md has pinned, warmed-up figures.",
                 "cost: seconds the row's own stage took when it was trained (building, training, evaluation); a reused "
                 "run keeps the cost of its first run, and a student+KD row's excludes its teacher's."]
        if self.threshold_failures():
            notes.append(f"{THRESHOLD_OFF_MARK} threshold, not model: not a detection at its validation threshold, but "
                         "its scores rank the scenario (F1@5%FPR beats flagging everything): recalibrate before retraining.")
        if any(row.get("one_input") for row in self.rows):
            notes.append(f"{ONE_INPUT_MARK} one input only: this fusion orders the validation windows as one of its "
                         f"inputs alone does (Spearman >= {ONE_INPUT_RANK_AGREEMENT}; a fixed alpha of 1 or 0), so the row "
                         "repeats that input's detector; it is not a third model.")
        if any(row.get("learned_nothing") for row in self.rows):
            notes.append(f"{LEARNED_NOTHING_MARK} learned nothing: validation AUROC within two standard errors of a "
                         "random ranking (0.5); run.json's tags say why training stopped.")
        if any(row.get("without_attacks") for row in self.rows):
            notes.append(f"{WITHOUT_ATTACKS_MARK} trained without attacks: this row learns from labels, but its training "
                         "split held fewer attack windows than pipeline.min_attack_windows (pipeline.supervised=force); "
                         "it is not a detector trained on this dataset's attacks.")
        degenerate = [s for s in self.scenarios if self.degenerate(s)]
        if degenerate:
            notes.append(f"{DEGENERATE_MARK} {', '.join(degenerate)}: fewer than {MIN_CLASS_WINDOWS} windows of a class, "
                         "so every metric is undefined or degenerate and is not printed.")
        one_class = [s for s in self.scenarios if self.kind(s) != "both"]
        if one_class:
            notes.append(f"{', '.join(one_class)}: one-class source{'s' * (len(one_class) > 1)}. A normal-only source "
                         "shows FPR and false alarms per hour, an attack-only one recall and detection delay; F1, "
                         "precision and AUROC are undefined there.")
        fallbacks = sorted({row["threshold_rule"] for row in self.rows if "fallback" in str(row.get("threshold_rule"))})
        if fallbacks:
            notes.append("(fallback): validation had too few windows of a class for the configured rule; the threshold is "
                         "the normal-window quantile shown (see each run's metrics.json).")
        return notes

    def columns_of(self, scenario: str, metrics: tuple[str, ...]) -> tuple[str, ...]:
        """The per-scenario columns: ``metrics``, or what a one-class source defines."""
        return ONE_CLASS_METRICS.get(self.kind(scenario), metrics)

    def to_markdown(self, metrics: tuple[str, ...] = MARKDOWN_METRICS) -> str:
        """The table as Markdown with its scenario header and footnotes; ``metrics`` picks the per-scenario columns
        (a one-class source gets the ones it defines, labelled as such)."""
        header = ["model", "variant", "params", "cost", "threshold",
                  *(f"{scenario} {METRIC_LABELS[m]}" + ("" if self.kind(scenario) == "both" else f" ({self.kind(scenario)})")
                    for scenario in self.scenarios for m in self.columns_of(scenario, metrics))]
        rows = []
        for row in self.rows:
            cells = [row["model"] + _marks(row), row["variant"], _count(row.get("parameters")), _seconds(row.get("cost_s")),
                     str(row.get("threshold_rule") or "—")]
            for scenario in self.scenarios:
                for metric in self.columns_of(scenario, metrics):
                    text = _score(self.value(row, scenario, metric), metric)
                    if metric == "f1" and self.no_gain(row, scenario):
                        text += f" {NO_GAIN_MARK}" + (THRESHOLD_OFF_MARK if self.threshold_off(row, scenario) else "")
                    cells.append(text)
            rows.append(cells)
        lines = ["Test scenarios:", *self.header_lines(), "", *markdown_table(header, rows)]
        summary = self.summary_lines()
        return "\n".join([*lines, "", *self.footnotes(), *(["", *summary] if summary else [])]) + "\n"

    def write(self, folder: Path) -> tuple[Path, Path]:
        """``comparison.md`` and ``comparison.csv`` in ``folder`` (each written to a temporary name, then renamed)."""
        written = []
        for name, text in (("comparison.md", self.to_markdown()), ("comparison.csv", self.to_csv())):
            written.append(atomic_write(folder / name, text))
        return written[0], written[1]


def stage_entries(stages, run_dirs: dict[str, str], forced: frozenset[str] = frozenset()) -> list[TableEntry]:
    """The table entries of the pipeline's graph-model stages (the fusion stage with its comparators);
    ``forced``: keys of stages trained without enough attack windows (`StagePlan.forced`)."""
    entries = []
    for stage in stages:
        family = family_of(stage.name)
        prefixes = (("", family.label), *((f"{prefix}/", label) for prefix, label in family.comparators))
        entries.append(TableEntry(family.label, stage.variant_label, run_dirs[stage.key], prefixes,
                                  without_attacks=stage.key in forced))
    return entries


def comparison_table(entries: list[TableEntry]) -> ComparisonTable:
    """The table of these runs, from each run folder's run.json; the all-attack row comes first."""
    records = {entry.run_dir: RunRecord.read(Path(entry.run_dir)) for entry in entries}
    timings = {run: record.timings for run, record in records.items()}
    metrics = {run: record.metrics for run, record in records.items()}
    scenarios = sorted({key.split("/")[1] for values in metrics.values() for key in values
                        if key.startswith("test/") and key.endswith("/f1")})
    windows = {}
    for scenario in scenarios:  # every run is evaluated on the same windows; take the first that has them
        for values in metrics.values():
            if f"test/{scenario}/attack_windows" in values:
                windows[scenario] = (int(values[f"test/{scenario}/attack_windows"]), int(values[f"test/{scenario}/normal_windows"]))
                break
    rows = [_all_attack_row(scenarios, windows)]
    for entry in entries:
        values, tags = metrics[entry.run_dir], records[entry.run_dir].tags
        for prefix, label in entry.prefixes:
            if prefix == "fixed_alpha/" and "fixed_alpha/alpha" in values:
                label = f"{label} {values['fixed_alpha/alpha']:.2f}"
            rule = tags.get(f"{prefix}threshold_rule")
            if rule and tags.get(f"{prefix}threshold_fallback"):
                rule += " (fallback)"
            row = {"model": label or entry.model, "variant": entry.variant, "run": entry.run_dir, "threshold_rule": rule,
                   "parameters": values.get("model/parameters"), "windows_per_s": values.get("model/inference_windows_per_s")}
            if prefix == "":  # comparators share their run's cost: it is counted once, on the run's own row
                row["cost_s"] = timings[entry.run_dir].get("stage_wall_s", timings[entry.run_dir].get("fit_and_evaluate_s"))
                row["train_windows_per_s"] = timings[entry.run_dir].get("train_windows_per_s")
            if prefix == "mlp/":
                row["parameters"] = None  # the comparator's own size is not the detector's
            row["one_input"] = _one_input(prefix, values)
            row["learned_nothing"] = learned_nothing(values, f"{prefix}val")
            row["without_attacks"] = entry.without_attacks
            for scenario in scenarios:
                for metric in METRICS:
                    row[f"{scenario}/{metric}"] = values.get(f"{prefix}test/{scenario}/{metric}")
            rows.append(row)
    labels = [label for family in FAMILIES.values() for label in (family.label, *(c for _, c in family.comparators))]
    order = {label: index for index, label in enumerate([ALL_ATTACK, "baseline", *labels])}  # the registry's order
    rows.sort(key=lambda row: order.get(row["model"].split(" ")[0] if row["model"].startswith("baseline") else row["model"],
                                        len(order)))  # stable: variants stay in DAG order
    return ComparisonTable(scenarios, rows, windows)


def _one_input(prefix: str, values: dict[str, float]) -> str | None:
    """The one input a fusion row reads ("GAT" or "VGAE"), or None: the DQN when its fused validation scores
    rank the windows as one input's do, the fixed-alpha comparator by its alpha."""
    if prefix == "fixed_alpha/" and "fixed_alpha/alpha" in values:
        alpha = values["fixed_alpha/alpha"]
        return "GAT" if alpha >= 1 - 1e-6 else "VGAE" if alpha <= 1e-6 else None
    if prefix == "":
        for label in ("GAT", "VGAE"):
            agreement = values.get(f"val/{label.lower()}_rank_agreement", math.nan)
            if not math.isnan(agreement) and agreement >= ONE_INPUT_RANK_AGREEMENT:
                return label
    return None


def _marks(row: dict) -> str:
    marks = f" {ONE_INPUT_MARK} ({row['one_input']} only)" if row.get("one_input") else ""
    marks += f" {LEARNED_NOTHING_MARK}" if row.get("learned_nothing") else ""
    return marks + (f" {WITHOUT_ATTACKS_MARK}" if row.get("without_attacks") else "")


def _all_attack_row(scenarios: list[str], windows: dict[str, tuple[int, int]]) -> dict:
    """Flag every window: precision = attack share, recall 1, FPR 1, no ranking (AUROC undefined)."""
    row = {"model": ALL_ATTACK, "variant": "reference", "run": "", "threshold_rule": "flag all", "parameters": 0.0}
    for scenario in scenarios:
        attack, normal = windows.get(scenario, (0, 0))
        total = attack + normal
        row |= {f"{scenario}/f1": 2 * attack / (2 * attack + normal) if total else None,
                f"{scenario}/precision": attack / total if total else None, f"{scenario}/recall": 1.0 if attack else None,
                f"{scenario}/fpr": 1.0 if normal else None}
    return row


ONE_CLASS_NOTES = {"normal only": ": normal-only source, FPR and false alarms per hour shown",
                   "attack only": ": attack-only source, recall and detection delay shown"}


def source_kind(attack: int, normal: int) -> str:
    """``normal only`` (no attack window), ``attack only`` (no normal window) or ``both``."""
    if attack == 0 and normal > 0:
        return "normal only"
    if normal == 0 and attack > 0:
        return "attack only"
    return "both"


def defined_metrics(attack: int, normal: int) -> tuple[str, ...]:
    """The metrics a source with these window counts defines: all of them with at least `MIN_CLASS_WINDOWS` of each
    class; FPR and false alarms per hour for a normal-only source; recall and detection delay for an attack-only
    one; none when one class has a few windows only (every figure degenerate)."""
    return ONE_CLASS_METRICS.get(source_kind(attack, normal), METRICS if min(attack, normal) >= MIN_CLASS_WINDOWS else ())


def threshold_summary(failures: list[tuple[str, list[str]]]) -> list[str]:
    """``(row label, scenarios)`` whose threshold, not their ranking, fails, in words: the lines under a table."""
    if not failures:
        return []
    listed = "; ".join(f"{label} ({', '.join(scenarios)})" for label, scenarios in failures)
    return [f"Threshold, not model ({THRESHOLD_OFF_MARK}): {listed}. These rows rank the scenario (F1 at 5 % test FPR "
            "above flagging everything) but their validation threshold gives no detection: choose the threshold "
            "again (evaluation.threshold, or calibrate on this traffic) before retraining."]


def _csv_value(value):
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _score(value, metric: str = "f1") -> str:
    if value is None or math.isnan(value):
        return DEGENERATE_MARK
    if metric == "false_alarms_per_hour":
        return f"{value:.1f}"
    return f"{value:.2f}" if metric == "detection_delay_s_median" else f"{value:.3f}"


def _seconds(value) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:.0f} s"


def _count(value) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value / 1e6:.2f} M" if value >= 1e6 else f"{value / 1e3:.1f} K" if value >= 1e3 else f"{value:.0f}"
