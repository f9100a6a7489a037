"""Running the protocol's pipelines: one ``kdgat-train`` process per dataset, feature set and variant,
in the work folder's own run trees, each report registered under its variant's name so a rerun
reuses it and a variant reuses every stage its overrides do not touch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from kdgat_train.protocol.datasets import pipeline_name

THRESHOLD = "fpr:0.05"


PROTOCOL = "protocol"  # the variant with no overrides: the protocol as the module docstring gives it


def rule_folder(threshold: str) -> str:
    """The folder name of a threshold rule other than the protocol's (``threshold-f1@fpr-0.05``)."""
    return f"threshold-{threshold.replace(':', '-')}"


def runs_folder(work: Path, threshold: str) -> Path:
    """``WORK/runs`` for the protocol's rule, ``WORK/runs/threshold-<rule>`` for another one."""
    return work / "runs" if threshold == THRESHOLD else work / "runs" / rule_folder(threshold)


def quality_folder(work: Path, threshold: str) -> Path:
    """``WORK/quality`` for the protocol's rule, ``WORK/quality/threshold-<rule>`` for another one."""
    return work / "quality" if threshold == THRESHOLD else work / "quality" / rule_folder(threshold)


def variant_registry(runs_root: Path) -> dict[str, str]:
    """``runs_root/variants.json``: ``"<variant> seeds <s,s,s>"`` -> the report.json that variant's pipeline wrote.
    Variants share their dataset's runs root, so a stage their overrides do not touch is reused."""
    path = runs_root / "variants.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def variant_key(variant: str, seeds: list[int]) -> str:
    return f"{variant} seeds {','.join(map(str, seeds))}"


def pipeline_reports(runs_root: Path) -> list[Path]:
    """The pipeline runs' report.json files (not MLflow's artifact copies), newest first."""
    return sorted(runs_root.glob("*/*/pipeline/run_*/report.json"), key=lambda p: p.stat().st_mtime, reverse=True)


def report_path(runs_root: Path, seeds: list[int], variant: str = PROTOCOL) -> Path | None:
    """The report.json of ``variant`` over ``seeds`` under ``runs_root``, or None. A protocol report written
    before variants were registered is the newest report of these seeds that no variant claims."""
    registry = variant_registry(runs_root)
    known = registry.get(variant_key(variant, seeds))
    if known is not None and Path(known).is_file():
        return Path(known)
    if variant != PROTOCOL:
        return None
    claimed = {Path(path) for name, path in registry.items() if not name.startswith(f"{PROTOCOL} ")}
    return next((path for path in pipeline_reports(runs_root)
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
    log_file = work / "logs" / (f"{key}-{features or 'default'}{'' if threshold == THRESHOLD else '-' + rule_folder(threshold)}"
                                f"{'' if variant == PROTOCOL else '-' + variant}.log")
    with log_file.open("w") as output:
        completed = subprocess.run(command, env=environment, stdout=output, stderr=subprocess.STDOUT, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{key} ({features}, {variant}): the pipeline failed (exit {completed.returncode}); see {log_file}")
    log(f"  done in {time.perf_counter() - started:.0f} s")
    written = pipeline_reports(runs_root)[0]
    registry = variant_registry(runs_root)
    registry[variant_key(variant, seeds)] = str(written)
    (runs_root / "variants.json").write_text(json.dumps(registry, indent=2) + "\n")
    return written


def report_of(runs_root: Path, seeds: list[int], variant: str = PROTOCOL) -> dict | None:
    path = report_path(runs_root, seeds, variant)
    return None if path is None else json.loads(path.read_text())
