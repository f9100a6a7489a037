"""The pipeline's comparison table: one row per model x variant, columns per test scenario.

Rows: VGAE, GAT and the DQN fusion (with its MLP and best-fixed-alpha comparators) for teacher,
student and student+KD. Columns: parameters, measured inference windows/s, then F1, precision,
recall, FPR and AUROC on each test scenario. Read from each stage's run.json metrics.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from kdgat_schemas import RunRecord, atomic_write

from kdgat_train.pipeline.dag import PipelineStage

METRICS = ("f1", "precision", "recall", "fpr", "auroc")
MODEL_LABELS = {"vgae": "VGAE", "gat": "GAT", "dqn": "fusion DQN"}
COMPARATORS = (("mlp", "fusion MLP"), ("fixed_alpha", "fusion fixed alpha"))


@dataclass
class ComparisonTable:
    scenarios: list[str]
    rows: list[dict]

    @property
    def columns(self) -> list[str]:
        return ["model", "variant", "parameters", "windows_per_s",
                *(f"{scenario}/{metric}" for scenario in self.scenarios for metric in METRICS), "run"]

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({key: _csv_value(row.get(key)) for key in self.columns})
        return buffer.getvalue()

    def to_markdown(self, metrics: tuple[str, ...] = METRICS) -> str:
        """The table as Markdown; ``metrics`` picks the per-scenario columns (all of them by default)."""
        header = ["model", "variant", "params", "windows/s",
                  *(f"{scenario} {metric}" for scenario in self.scenarios for metric in metrics)]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in self.rows:
            cells = [row["model"], row["variant"], _count(row.get("parameters")), _count(row.get("windows_per_s"))]
            cells += [_score(row.get(f"{scenario}/{metric}")) for scenario in self.scenarios for metric in metrics]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> tuple[Path, Path]:
        """``comparison.md`` and ``comparison.csv`` in ``folder`` (each written to a temporary name, then renamed)."""
        written = []
        for name, text in (("comparison.md", self.to_markdown()), ("comparison.csv", self.to_csv())):
            written.append(atomic_write(folder / name, text))
        return written[0], written[1]


def comparison_table(stages: list[PipelineStage], run_dirs: dict[str, str]) -> ComparisonTable:
    """The table of the pipeline's stages, from the run.json of each stage's run folder."""
    metrics = {stage.key: RunRecord.read(Path(run_dirs[stage.key])).metrics for stage in stages}
    scenarios = sorted({key.split("/")[1] for values in metrics.values() for key in values
                        if key.startswith("test/") and key.endswith("/f1")})
    rows = []
    for stage in stages:
        values = metrics[stage.key]
        model = stage.name.model
        methods = [("", MODEL_LABELS[model])]
        if model == "dqn":
            methods += [(f"{prefix}/", label) for prefix, label in COMPARATORS]
        for prefix, label in methods:
            if prefix == "fixed_alpha/" and "fixed_alpha/alpha" in values:
                label = f"{label} {values['fixed_alpha/alpha']:.2f}"
            row = {"model": label, "variant": stage.variant_label, "run": run_dirs[stage.key],
                   "parameters": values.get("model/parameters"), "windows_per_s": values.get("model/inference_windows_per_s")}
            if prefix == "mlp/":
                row["parameters"] = None  # the comparator's own size is not the detector's
            for scenario in scenarios:
                for metric in METRICS:
                    row[f"{scenario}/{metric}"] = values.get(f"{prefix}test/{scenario}/{metric}")
            rows.append(row)
    order = {label: index for index, label in enumerate(["VGAE", "GAT", "fusion DQN", "fusion MLP"])}
    rows.sort(key=lambda row: order.get(row["model"], len(order)))  # stable: variants stay in DAG order
    return ComparisonTable(scenarios, rows)


def _csv_value(value):
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _score(value) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.3f}"


def _count(value) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value / 1e6:.2f} M" if value >= 1e6 else f"{value / 1e3:.1f} K" if value >= 1e3 else f"{value:.0f}"
