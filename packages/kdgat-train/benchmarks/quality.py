"""Detection quality on the real captures in ``../shared/data``: the issue-13 protocol, scripted.

    uv run python packages/kdgat-train/benchmarks/quality.py [--seeds 0,1,2] [--jobs N] [--features anchor,dynamics]
        [--datasets road_fuzzing_attack_2,...] [--work /tmp/kdgat-quality] [--shared ../shared/data]
        [--threshold f1@fpr:0.05] [--unknown-vehicle] [--id-free] [--validation-block head]
        [--sampling-ablation] [--kd-sweep] [--variant NAME:KEY=VALUE[,KEY=VALUE]]

Datasets (one catalog entry each, written into ``WORK/configs/datasets.yaml``; the captures are read
where they lie, nothing is copied except the DoS capture's time split):
- ``road_<capture>``: ROAD leave-one-capture-out over the four shared captures: train on three,
  test on the fourth. (``correlated_signal_attack_3_masquerade`` is ``correlated_signal_attack_3``
  with the target ID's legitimate frames removed: when one is the test capture the other is in
  training, and they share their benign traffic.)
- ``can_dos``: the can-train-and-test DoS capture (set_01, train_02), split in time at the middle of
  its attack period (its DoS rows are 4,841-24,427 of 90,169, so a split by share would leave one
  side without attacks): the rows before train (with the usual validation tail), the rows after are
  the test scenario; both hold DoS and normal traffic.
- ``batadal``: BATADAL dataset 1 (normal year) -> dataset 2, labelled by the official attack windows.
- ``iot23t30``: IoT-23 34-1 + 42-1 -> Stratosphere 008 in 30-second windows.

Each dataset runs its whole pipeline (teachers, students, KD students, fusion, baselines) once per
seed (its stages and seeds ``--jobs`` at a time, ``pipeline.jobs``; the runs are the ones one at a
time would write with the same thread count) with ``evaluation.threshold=fpr:0.05`` (every threshold chosen on validation normal windows
only), per feature set of its domain (``dataset_config.features``: automotive anchor and dynamics,
watertreatment statistics and signal; the first of each is the published / default set, the
second the issue-13 lever, and the ablation table compares them). Then, per dataset, a table with mean ± half
the 95 % t-interval over seeds (baselines and the all-attack row included) and the goal check per
scenario and family (GAT, fusion DQN), written to ``WORK/quality/<dataset>.md`` and gathered in
``WORK/quality/quality.md`` and ``quality.json``:
- beats: student+KD F1 > the best baseline's F1, both at a test FPR <= 5 % (a row above 5 % does
  not count as a detection at that rate);
- close: student+KD AUROC at most 0.02 below the teacher's;
- KD: student+KD mean F1 >= student mean F1.
Beside the deployable F1 (validation threshold), every table gives the best F1 over the test
thresholds whose test FPR is at most 5 % (``F1@5%``, from each run's ``scores.parquet``): a ranking
measure like AUROC, read off the test labels and so not a detector one could deploy, which separates how
well a model ranks windows at a low false-alarm rate from how well its validation threshold
transfers to the test capture; the goal check is repeated on it (``beats@5%``).
Nothing is tuned here: the protocol is fixed and a goal that is not met is reported as such.

Variants (each an ablation row against the protocol, run in the same runs root so every stage its
overrides do not touch is reused; `variants.json` there says which report is which):
- ``--sampling-ablation``: class-balanced GAT epochs (``training_config.sampling=balanced``), in
  ``quality/sampling.md``;
- ``--kd-sweep``: the KD grid (`KD_GRID`: temperature, alpha, the VGAE latent and reconstruction
  weights); each family's student+KD point is chosen on its mean validation AUROC over the seeds
  (the protocol's point where validation holds one class), in ``quality/kd_sweep.md``;
- ``--variant NAME:KEY=VALUE[,KEY=VALUE]``: any overrides (``train-stride-50:dataset_config.train_stride=50``),
  in ``quality/variant-NAME.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROAD_CAPTURES = ("fuzzing_attack_2", "fuzzing_attack_3", "correlated_signal_attack_3",
                 "correlated_signal_attack_3_masquerade")
ROAD_MAPPING = {"timestamp": "Time", "id": "Id", "bytes": [f"Byte{k}" for k in range(1, 9)], "label": "Label",
                "normal_values": ["Benign"]}
THRESHOLD = "fpr:0.05"
MAX_FPR = 0.05
AUROC_GAP = 0.02
OWN_SCORES = ("VGAE", "GAT", "fusion DQN")  # rows whose run's scores.parquet holds their own scores
FAMILIES = ("GAT", "fusion DQN")
DOMAIN_FEATURES = {"automotive": ("anchor", "dynamics"), "watertreatment": ("statistics", "signal")}
ID_FREE = "_idfree"  # the key suffix of an automotive dataset's ID-free twin (catalog entity_ids: false)
PROTOCOL = "protocol"  # the variant with no overrides: the protocol as the module docstring gives it
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
             "fusion DQN": ("temperature", "alpha", "latent_weight", "reconstruction_weight")}
UNKNOWN_VEHICLE_PAIRS = (  # (training dataset, test dataset, what changes): trained with and without entity IDs
    ("road_fuzzing_attack_2", "can_dos", "ROAD's vehicle (fuzzing, fabrication, masquerade) -> the Impala's DoS: "
                                         "another car and an attack never trained on"),
    ("can_dos", "j1939_dos", "the Impala's DoS -> a J1939 truck's DoS (ID 0 flooded every 1 ms): another vehicle, "
                             "the same attack"),
)


def catalog_entries(shared: Path, work: Path) -> dict[str, dict]:
    """Catalog key -> entry of every protocol dataset."""
    road = shared / "can" / "road"
    entries = {}
    for test in ROAD_CAPTURES:
        entries[f"road_{test}"] = {
            "domain": "automotive", "path": str(road), "format": "column_mapped", "mapping": ROAD_MAPPING,
            "train": [f"{c}.csv" for c in ROAD_CAPTURES if c != test], "test": {test: [f"{test}.csv"]},
            "description": f"ROAD leave-one-out: train on the other three captures, test on {test}",
        }
    entries["can_dos"] = {
        "domain": "automotive", "path": str(work / "data" / "can_dos"), "format": "can_train_test",
        "train": ["head.csv"], "test": {"dos_tail": ["tail.csv"]},
        "description": "can-train-and-test set_01 DoS-1 split in time at the middle of its attack period",
    }
    entries["batadal"] = {
        "domain": "watertreatment", "path": str(shared / "watertreatment" / "batadal"), "format": "sensor_csv",
        "train": ["BATADAL_train_dataset_1.csv"], "test": {"dataset_2": ["BATADAL_train_dataset_2.csv"]},
        "sensors": {"attack_windows": "attacks_official_table.transcribed.csv"}, "window": 24, "stride": 6,
    }
    entries["iot23_30s"] = {
        "domain": "internet", "token": "iot23t30", "path": str(shared / "internet"), "format": "zeek",
        "train": ["iot23/CTU-Malware-Capture-34-1-labeled.csv", "iot23/CTU-Malware-Capture-42-1-labeled.csv"],
        "test": {"stratosphere_008": ["stratosphere-008/conn.log.labeled"]}, "flows": {"window_seconds": 30},
    }
    entries["j1939_dos"] = {
        "domain": "automotive", "path": str(shared / "can" / "j1939"), "format": "candump_screen",
        "attack_ids": ["00000000"], "train": ["normal.log"], "test": {"dos_1ms": ["dos_1ms.log"]},
        "description": "J1939 truck: benign traffic, and a DoS flooding ID 00000000 every 1 ms (labelled by that ID); "
                       "a test set for models trained on another vehicle",
    }
    for key in [k for k, entry in entries.items() if entry["domain"] == "automotive" and k not in test_only_datasets()]:
        entries[f"{key}{ID_FREE}"] = {**entries[key], "entity_ids": False,  # the ID-free twin (--id-free)
                                      "description": f"{entries[key]['description']}; ID-free models (entity_ids: false)"}
    return entries


def split_dos_capture(shared: Path, work: Path) -> None:
    """The DoS capture's rows before the middle of its attack period (first to last row with
    ``attack`` 1) as head.csv, the rest as tail.csv (each with the header)."""
    folder = work / "data" / "can_dos"
    if (folder / "tail.csv").is_file():
        return
    lines = (shared / "can" / "can-train-and-test-set01" / "DoS-1.csv").read_text().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    attacks = [i for i, row in enumerate(rows) if row.rstrip("\r\n").rsplit(",", 1)[-1].strip() == "1"]
    if not attacks:
        raise ValueError("DoS-1.csv holds no attack row to split around")
    cut = (attacks[0] + attacks[-1] + 1) // 2
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "head.csv").write_text(header + "".join(rows[:cut]))
    (folder / "tail.csv").write_text(header + "".join(rows[cut:]))


def write_catalog(entries: dict[str, dict], work: Path) -> None:
    import yaml

    (work / "configs").mkdir(parents=True, exist_ok=True)
    text = "# written by packages/kdgat-train/benchmarks/quality.py: the issue-13 protocol datasets\n"
    text += yaml.safe_dump({"datasets": entries}, sort_keys=False)
    target = work / "configs" / "datasets.yaml"
    if not target.is_file() or target.read_text() != text:
        staging = target.with_suffix(".tmp")
        staging.write_text(text)
        staging.replace(target)


def pipeline_name(key: str, entry: dict) -> str:
    return f"{entry['domain']}_{entry.get('token') or key.replace('_', '')}_pipeline"


def _rule_folder(threshold: str) -> str:
    """The folder name of a threshold rule other than the protocol's (``threshold-f1@fpr-0.05``)."""
    return f"threshold-{threshold.replace(':', '-')}"


def runs_folder(work: Path, threshold: str) -> Path:
    """``WORK/runs`` for the protocol's rule, ``WORK/runs/threshold-<rule>`` for another one."""
    return work / "runs" if threshold == THRESHOLD else work / "runs" / _rule_folder(threshold)


def quality_folder(work: Path, threshold: str) -> Path:
    """``WORK/quality`` for the protocol's rule, ``WORK/quality/threshold-<rule>`` for another one."""
    return work / "quality" if threshold == THRESHOLD else work / "quality" / _rule_folder(threshold)


def test_only_datasets() -> set[str]:
    """The unknown-vehicle test sets that nothing trains on (left out of the protocol's own runs)."""
    return {test for _, test, _ in UNKNOWN_VEHICLE_PAIRS} - {training for training, _, _ in UNKNOWN_VEHICLE_PAIRS}


def kd_variant(point: dict[str, float]) -> tuple[str, tuple[str, ...]]:
    """The variant name and overrides of one KD grid point (``kd-T8-a0.9-l3-r3``)."""
    name = "kd-T{temperature:g}-a{alpha:g}-l{latent_weight:g}-r{reconstruction_weight:g}".format(**point)
    return name, tuple(f"distillation_config.{field}={value:g}" for field, value in point.items())


KD_VARIANTS = {kd_variant(point)[0] for point in KD_GRID}  # the grid points' variant names


def _variant_registry(runs_root: Path) -> dict[str, str]:
    """``runs_root/variants.json``: ``"<variant> seeds <s,s,s>"`` -> the report.json that variant's pipeline wrote.
    Variants share their dataset's runs root, so a stage their overrides do not touch is reused."""
    path = runs_root / "variants.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _variant_key(variant: str, seeds: list[int]) -> str:
    return f"{variant} seeds {','.join(map(str, seeds))}"


def _pipeline_reports(runs_root: Path) -> list[Path]:
    """The pipeline runs' report.json files (not MLflow's artifact copies), newest first."""
    return sorted(runs_root.glob("*/*/pipeline/run_*/report.json"), key=lambda p: p.stat().st_mtime, reverse=True)


def report_path(runs_root: Path, seeds: list[int], variant: str = PROTOCOL) -> Path | None:
    """The report.json of ``variant`` over ``seeds`` under ``runs_root``, or None. A protocol report written
    before variants were registered is the newest report of these seeds that no variant claims."""
    registry = _variant_registry(runs_root)
    known = registry.get(_variant_key(variant, seeds))
    if known is not None and Path(known).is_file():
        return Path(known)
    if variant != PROTOCOL:
        return None
    claimed = {Path(path) for name, path in registry.items() if not name.startswith(f"{PROTOCOL} ")}
    return next((path for path in _pipeline_reports(runs_root)
                 if path not in claimed and json.loads(path.read_text())["seeds"] == seeds), None)


def run_pipeline(key: str, entry: dict, features: str | None, seeds: list[int], work: Path, log,
                 threshold: str = THRESHOLD, variant: str = PROTOCOL, overrides: tuple[str, ...] = (),
                 jobs: int = 1) -> Path:
    """Run (or reuse) the seeded pipeline of one dataset, feature set and variant (``overrides`` on top of
    the protocol); its report.json, registered under the variant's name."""
    runs_root = runs_folder(work, threshold) / (features or "default") / key
    existing = report_path(runs_root, seeds, variant)  # stage runs of other seed lists and variants are reused
    if existing is not None:
        return existing
    command = [sys.executable, "-m", "kdgat_train.cli", f"config_store={pipeline_name(key, entry)}",
               f"pipeline.seeds=[{','.join(map(str, seeds))}]", f"evaluation.threshold={threshold}",
               f"runs_root={runs_root}", f"pipeline.jobs={jobs}", *overrides]
    if features:
        command.append(f"dataset_config.features={features}")
    environment = {**os.environ, "KDGAT_CONFIG_ROOT": str(work)}
    started = time.perf_counter()
    log(f"running {' '.join(command[2:])}")
    log_file = work / "logs" / (f"{key}-{features or 'default'}{'' if threshold == THRESHOLD else '-' + _rule_folder(threshold)}"
                                f"{'' if variant == PROTOCOL else '-' + variant}.log")
    with log_file.open("w") as output:
        completed = subprocess.run(command, env=environment, stdout=output, stderr=subprocess.STDOUT, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{key} ({features}, {variant}): the pipeline failed (exit {completed.returncode}); see {log_file}")
    log(f"  done in {time.perf_counter() - started:.0f} s")
    written = _pipeline_reports(runs_root)[0]
    registry = _variant_registry(runs_root)
    registry[_variant_key(variant, seeds)] = str(written)
    (runs_root / "variants.json").write_text(json.dumps(registry, indent=2) + "\n")
    return written


# --- reading a seed report --------------------------------------------------------------------
def _cell(row: dict, scenario: str, metric: str) -> dict | None:
    return row["cells"].get(f"{scenario}/{metric}")


def _mean(row: dict | None, scenario: str, metric: str) -> float:
    cell = None if row is None else _cell(row, scenario, metric)
    return math.nan if cell is None or cell.get("mean") is None else float(cell["mean"])


def _shown(row: dict, scenario: str, metric: str) -> str:
    cell = _cell(row, scenario, metric)
    if cell is None or cell.get("mean") is None:
        return "—"
    if cell.get("low") is None:
        return f"{cell['mean']:.3f}"
    return f"{cell['mean']:.3f} ± {(cell['high'] - cell['low']) / 2:.3f}"


def _row(report: dict, model: str, variant: str) -> dict | None:
    return next((r for r in report["rows"] if r["model"] == model and r["variant"] == variant), None)


def f1_at_test_fpr(run_dir: str | Path, scenario: str, rate: float = MAX_FPR) -> float:
    """The best F1 of ``scores > t`` on test scenario ``scenario`` of a run over the thresholds t that
    flag at most ``rate`` of the scenario's normal windows (`evaluation.metrics.best_f1_at_fpr`, read from
    the run's scores.parquet, so runs recorded before the metric existed count too; NaN for a one-class
    scenario)."""
    import polars as pl
    from kdgat_train.evaluation.metrics import best_f1_at_fpr

    frame = pl.read_parquet(Path(run_dir) / "scores.parquet").filter(pl.col("split") == f"test/{scenario}")
    labels, scores = frame["label"].to_numpy().astype(bool), frame["score"].to_numpy()
    if labels.all() or not labels.any():
        return math.nan
    return best_f1_at_fpr(scores, labels, rate)


def add_operating_points(report: dict) -> None:
    """``<scenario>/f1_at_5`` cells (mean and interval over the seeds' runs) on the rows with their own scores."""
    from kdgat_train.pipeline.seed_report import interval

    for row in report["rows"]:
        if not (row["variant"] == "baseline" or row["model"] in OWN_SCORES):
            continue
        for scenario in report["scenarios"]:
            runs = (_cell(row, scenario, "f1") or {}).get("runs", [])
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
        qualified = [r for r in baselines if _mean(r, scenario, "fpr") <= MAX_FPR]
        best = max(qualified, key=lambda r: _mean(r, scenario, "f1"), default=None)
        best_f1 = _mean(best, scenario, "f1") if best else 0.0
        ranked = [r for r in baselines if math.isfinite(_mean(r, scenario, "f1_at_5"))]
        best_at_5 = max(ranked, key=lambda r: _mean(r, scenario, "f1_at_5"), default=None)
        for family in FAMILIES:
            kd, student, teacher = (_row(report, family, v) for v in ("student+KD", "student", "teacher"))
            if kd is None:
                continue
            kd_f1, kd_fpr = _mean(kd, scenario, "f1"), _mean(kd, scenario, "fpr")
            checks.append({
                "scenario": scenario, "family": family, "kd_f1": kd_f1, "kd_fpr": kd_fpr,
                "best_baseline": best["model"] if best else None, "best_baseline_f1": best_f1,
                "beats": bool(kd_fpr <= MAX_FPR and kd_f1 > best_f1),
                "kd_auroc": _mean(kd, scenario, "auroc"), "teacher_auroc": _mean(teacher, scenario, "auroc"),
                "close": bool(_mean(kd, scenario, "auroc") >= _mean(teacher, scenario, "auroc") - AUROC_GAP),
                "student_f1": _mean(student, scenario, "f1"),
                "kd_helps": bool(kd_f1 >= _mean(student, scenario, "f1")),
                "kd_f1_at_5": _mean(kd, scenario, "f1_at_5"),
                "best_baseline_at_5": best_at_5["model"] if best_at_5 else None,
                "best_baseline_f1_at_5": _mean(best_at_5, scenario, "f1_at_5") if best_at_5 else math.nan,
                "beats_at_5": bool(best_at_5 is not None and _mean(kd, scenario, "f1_at_5") > _mean(best_at_5, scenario, "f1_at_5")),
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
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in report["rows"]:
        params = f"{row['parameters']:,.0f}" if row.get("parameters") else "—"
        cells = [_shown(row, s, m) for s in report["scenarios"] for m in metrics]
        lines.append("| " + " | ".join([row["model"], row["variant"], params, *cells]) + " |")
    lines += ["", "| scenario | family | student+KD F1 (FPR) | best baseline F1 (at FPR <= 5 %) | beats | "
              "student+KD / best baseline F1@5% | beats@5% | AUROC KD / teacher | close | student F1 | KD >= student |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in goal_checks(report):
        yes = {True: "yes", False: "no"}
        lines.append(f"| {c['scenario']} | {c['family']} | {c['kd_f1']:.3f} ({c['kd_fpr']:.3f}) | "
                     f"{c['best_baseline_f1']:.3f} {c['best_baseline'] or '(none)'} | {yes[c['beats']]} | "
                     f"{c['kd_f1_at_5']:.3f} / {c['best_baseline_f1_at_5']:.3f} {c['best_baseline_at_5'] or ''} | "
                     f"{yes[c['beats_at_5']]} | {c['kd_auroc']:.3f} / {c['teacher_auroc']:.3f} | {yes[c['close']]} | "
                     f"{c['student_f1']:.3f} | {yes[c['kd_helps']]} |")
    return "\n".join(lines) + "\n"


def window_counts(report: dict) -> dict[str, str]:
    """Scenario -> "N windows, attack share X" from the first pipeline's comparison.csv."""
    table = Path(report["pipelines"][0]) / "comparison.csv"
    first = next(csv.DictReader(table.open()))
    return {s: f"{first[f'{s}/windows']} windows, attack share {float(first[f'{s}/attack_share']):.1%}"
            for s in report["scenarios"] if first.get(f"{s}/windows")}


def _feature_sets(entry: dict, features: str) -> list[str | None]:
    """The requested feature sets of the entry's domain ([None]: a domain with one feature set)."""
    sets = DOMAIN_FEATURES.get(entry["domain"])
    if sets and entry.get("entity_ids") is False:  # ID-free twins: the default features (dynamics reads per-ID training)
        sets = sets[:1]
    return [None] if sets is None else [name for name in sets if name in features.split(",")]


def _report_of(runs_root: Path, seeds: list[int], variant: str = PROTOCOL) -> dict | None:
    path = report_path(runs_root, seeds, variant)
    return None if path is None else json.loads(path.read_text())


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
                twin = _row(b, row["model"], row["variant"])
                if twin is None or row["variant"] == "reference":
                    continue
                f1a, f1b = _mean(row, scenario, "f1_at_5"), _mean(twin, scenario, "f1_at_5")
                auc_a, auc_b = _mean(row, scenario, "auroc"), _mean(twin, scenario, "auroc")
                lines.append(f"| {key} | {scenario} | {row['model']} | {row['variant']} | {first} -> {other} | "
                             f"{f1a:.3f} -> {f1b:.3f} | {f1b - f1a:+.3f} | {auc_a:.3f} -> {auc_b:.3f} | {auc_b - auc_a:+.3f} |")
    return "\n".join(lines) + "\n"


def unknown_vehicle(entries: dict[str, dict], seeds: list[int], work: Path, threshold: str, log) -> str:
    """Per pair of `UNKNOWN_VEHICLE_PAIRS`: train on the first dataset (anchor features) with and without
    entity IDs, score every model and baseline run of both pipelines on the second dataset's test
    captures (``kdgat-runs evaluate``: the run's own vocabulary, normalisation and validation threshold,
    nothing fitted on the other vehicle); markdown tables of the means over seeds."""
    os.environ["KDGAT_CONFIG_ROOT"] = str(work)  # the protocol's catalog, before kdgat_train registers it
    from kdgat_train.evaluation.cross_dataset import evaluate_on_dataset

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
                runs = (_cell(row, scenario, "f1") or {}).get("runs", [])
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
        sections += _unknown_vehicle_table(training, test, change, columns[training], columns[f"{training}{ID_FREE}"])
    return "\n".join(sections) + "\n"


def _unknown_vehicle_table(training: str, test: str, change: str, based: dict, free: dict) -> list[str]:
    from kdgat_train.pipeline.seed_report import interval

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


def _paired_lines(key: str, first: dict, second: dict, models: tuple[str, ...] = OWN_SCORES) -> list[str]:
    """One table line per scenario and model row of ``first`` that ``second`` also has: F1 (FPR), F1@5% and
    AUROC of first -> second."""
    lines = []
    for scenario in first["scenarios"]:
        for row in first["rows"]:
            twin = _row(second, row["model"], row["variant"])
            if twin is None or row["model"] not in models:
                continue
            pair = [(_mean(r, scenario, "f1"), _mean(r, scenario, "fpr"), _mean(r, scenario, "f1_at_5"),
                     _mean(r, scenario, "auroc")) for r in (row, twin)]
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
            lines += _paired_lines(key, based, free)
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
        lines += _paired_lines(key, protocol, variant, models)
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
    row = _row(report, family, "student+KD")
    if row is None:
        return math.nan
    values = []
    for stage_run in (_cell(row, report["scenarios"][0], "f1") or {}).get("runs", []):
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


def _kd_settings(variant: str, family: str) -> str:
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
                row = _row(report, family, "student+KD")
                cells = [f"{_mean(row, s, 'f1'):.3f} ({_mean(row, s, 'fpr'):.2f}) | {_mean(row, s, 'f1_at_5'):.3f} | "
                         f"{_mean(row, s, 'auroc'):.3f}" for s in protocol["scenarios"]]
                mark = " (chosen)" if variant == chosen else ""
                lines.append(f"| {variant}{mark} | {_kd_settings(variant, family)} | {scores[variant]:.3f} | "
                             + " | ".join(cells) + " |")
            lines.append("")
            picked, default = _row(reports[chosen], family, "student+KD"), _row(protocol, family, "student+KD")
            teacher, student = _row(protocol, family, "teacher"), _row(protocol, family, "student")
            checks = {c["scenario"]: c for c in goal_checks(reports[chosen]) if c["family"] == family}
            for s in protocol["scenarios"]:
                beats = yes[checks[s]["beats"]] if s in checks else "—"
                summary.append(
                    f"| {key} | {s} | {family} | {chosen} | {scores[PROTOCOL]:.3f} -> {scores[chosen]:.3f} | "
                    f"{_mean(default, s, 'f1'):.3f} ({_mean(default, s, 'fpr'):.2f}) -> {_mean(picked, s, 'f1'):.3f} "
                    f"({_mean(picked, s, 'fpr'):.2f}) | {_mean(default, s, 'f1_at_5'):.3f} -> {_mean(picked, s, 'f1_at_5'):.3f} | "
                    f"{_mean(default, s, 'auroc'):.3f} -> {_mean(picked, s, 'auroc'):.3f} ({_mean(teacher, s, 'auroc'):.3f}) | "
                    f"{_mean(student, s, 'f1'):.3f} | {yes[_mean(picked, s, 'f1') >= _mean(student, s, 'f1')]} | {beats} |")
    return "\n".join(lines + ["### Chosen points against the protocol's", "", *summary]) + "\n"


def gather(entries: dict[str, dict], features: str, seeds: list[int], work: Path, threshold: str = THRESHOLD) -> None:
    """quality.md (every dataset's table and goal check, then the feature ablation) and quality.json
    from every report of these seeds and this threshold rule under WORK/runs."""
    sections, summary, reports = [], [], {}
    output = quality_folder(work, threshold)
    output.mkdir(parents=True, exist_ok=True)
    for key, entry in entries.items():
        for feature_set in _feature_sets(entry, features):
            report = _report_of(runs_folder(work, threshold) / (feature_set or "default") / key, seeds)
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


def gather_variants(entries: dict[str, dict], wanted: list[str], args, seeds: list[int], work: Path,
                    extra_variants: list[tuple[str, tuple[str, ...]]] = ()) -> None:
    """quality/sampling.md, quality/kd_sweep.md and quality/variant-NAME.md from the variant reports already run."""
    pairs, sweeps = {}, {}
    extra_pairs: dict[str, dict[str, tuple[dict, dict]]] = {name: {} for name, _ in extra_variants}
    for key in wanted:
        for features in _feature_sets(entries[key], args.features):
            runs_root = runs_folder(work, args.threshold) / (features or "default") / key
            label = f"{key}" + (f" ({features})" if features else "")
            reports = {variant: _report_of(runs_root, seeds, variant)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = Path(__file__).resolve().parents[3]
    parser.add_argument("--shared", type=Path, default=here.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, default=Path("/tmp/kdgat-quality"))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--jobs", type=int, default=1,
                        help="pipeline.jobs of every pipeline: its stages and seeds trained this many at a time, each "
                             "process with its share of the cores (default 1: on 2 cores one process with both was "
                             "faster; give cores / 2 or so on a larger machine)")
    parser.add_argument("--features", default="anchor,dynamics,statistics,signal",
                        help="feature sets to run (each dataset runs those of its domain)")
    parser.add_argument("--datasets", default=None, help="comma-separated catalog keys (default: all)")
    parser.add_argument("--gather", action="store_true", help="run nothing: tables from the reports already there")
    parser.add_argument("--unknown-vehicle", action="store_true",
                        help="also train each unknown-vehicle training set with and without entity IDs and score "
                             "both on the other vehicle (quality/unknown_vehicle.md): "
                             + "; ".join(f"{a} -> {b}" for a, b, _ in UNKNOWN_VEHICLE_PAIRS))
    parser.add_argument("--id-free", action="store_true",
                        help="also run the ID-free twin (catalog entity_ids: false, anchor features) of every automotive "
                             "dataset requested, and tabulate the ablation")
    parser.add_argument("--validation-block", choices=("tail", "head"), default="tail",
                        help="where each training capture's validation block lies (catalog validation_block); "
                             "head: held-out normal traffic before the attacks. Needs a --work of its own")
    parser.add_argument("--threshold", default=THRESHOLD,
                        help=f"evaluation.threshold of every run (default {THRESHOLD}, the protocol's; another rule "
                             "gets its own runs/threshold-<rule> and quality/threshold-<rule> folders)")
    parser.add_argument("--sampling-ablation", action="store_true",
                        help="also run each dataset with class-balanced GAT epochs (training_config.sampling=balanced) "
                             "and tabulate it against shuffled epochs (quality/sampling.md)")
    parser.add_argument("--kd-sweep", action="store_true",
                        help=f"also run each dataset at the {len(KD_GRID)} other KD grid points (temperature, alpha, VGAE "
                             "latent / reconstruction weights), choose each family's point on validation AUROC and "
                             "tabulate it (quality/kd_sweep.md)")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VALUE[,KEY=VALUE]",
                        help="also run each dataset with these overrides (e.g. train-stride-50:dataset_config.train_stride=50) "
                             "and tabulate it against the protocol (quality/variant-NAME.md); repeatable")
    args = parser.parse_args(argv)
    try:
        extra_variants = [parse_variant(text) for text in args.variant]
    except ValueError as error:
        parser.error(str(error))
    if not args.shared.is_dir():
        parser.error(f"{args.shared}: no shared data folder (the protocol needs the real captures)")
    work = args.work.resolve()
    (work / "logs").mkdir(parents=True, exist_ok=True)
    (work / "quality").mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    entries = catalog_entries(args.shared.resolve(), work)
    written = work / "configs" / "datasets.yaml"
    if written.is_file():
        import yaml

        before = {entry.get("validation_block", "tail") for entry in yaml.safe_load(written.read_text())["datasets"].values()}
        if before != {args.validation_block}:
            parser.error(f"{work} holds runs of another validation block: give --validation-block "
                         f"{args.validation_block} a --work of its own")
    if args.validation_block != "tail":
        for entry in entries.values():
            entry["validation_block"] = args.validation_block
    split_dos_capture(args.shared.resolve(), work)
    write_catalog(entries, work)
    wanted = args.datasets.split(",") if args.datasets else [k for k in entries
                                                             if not k.endswith(ID_FREE) and k not in test_only_datasets()]
    if args.id_free:
        wanted += [f"{key}{ID_FREE}" for key in wanted if f"{key}{ID_FREE}" in entries and f"{key}{ID_FREE}" not in wanted]
    unknown = sorted(set(wanted) - set(entries))
    if unknown:
        parser.error(f"unknown datasets {', '.join(unknown)}; expected some of {', '.join(entries)}")
    for key in [] if args.gather else wanted:
        for features in _feature_sets(entries[key], args.features):
            run_pipeline(key, entries[key], features, seeds, work, lambda message: print(message, flush=True),
                         args.threshold, jobs=args.jobs)
    gather(entries, args.features, seeds, work, args.threshold)
    variants = ([SAMPLING_VARIANT] if args.sampling_ablation else []) + ([kd_variant(p) for p in KD_GRID] if args.kd_sweep else []) \
        + extra_variants
    for key in [] if args.gather else wanted:
        for features in _feature_sets(entries[key], args.features):
            for variant, overrides in variants:
                run_pipeline(key, entries[key], features, seeds, work, lambda message: print(message, flush=True),
                             args.threshold, variant, overrides, jobs=args.jobs)
    if variants:
        gather_variants(entries, wanted, args, seeds, work, extra_variants)
    if args.unknown_vehicle:
        table = unknown_vehicle(entries, seeds, work, args.threshold, lambda message: print(message, flush=True))
        output = quality_folder(work, args.threshold) / "unknown_vehicle.md"
        output.write_text(table)
        print(f"wrote {output}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
