"""The files of a seed report: report.md, .csv, .tex and .json beside its figures."""

from __future__ import annotations

from pathlib import Path

from kdgat_schemas import atomic_write

from kdgat_train.pipeline.report_plots import write_plots
from kdgat_train.pipeline.seed_report import SeedReport, to_csv, to_json, to_latex, to_markdown


def write_report(report: SeedReport, folder: Path, *, plots: bool = True) -> list[Path]:
    """report.md, report.csv, report.tex and report.json in ``folder`` (each written whole), and with
    ``plots`` the figures of `report_plots` as PNG and PDF."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [atomic_write(folder / "report.md", to_markdown(report)), atomic_write(folder / "report.csv", to_csv(report)),
               atomic_write(folder / "report.tex", to_latex(report)), atomic_write(folder / "report.json", to_json(report))]
    if plots:
        written += write_plots(report, folder)
    return written
