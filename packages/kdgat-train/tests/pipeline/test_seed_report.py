"""`kdgat-runs report` on pipeline folders written as a pipeline writes them (run.json + comparison.csv):
intervals over seeds, a paired test that finds a planted difference and does not flag identical rows,
provenance of every cell, and a LaTeX table of the right shape."""

import csv
import json
import re

import pytest
from click.testing import CliRunner
from kdgat_schemas import RunRecord
from kdgat_train.pipeline.comparison import METRICS
from kdgat_train.pipeline.report_files import write_report
from kdgat_train.pipeline.report_plots import PLOT_NAMES, mean_f1_per_seed, pareto_front
from kdgat_train.pipeline.seed_report import (
    ReportError,
    collect,
    interval,
    to_csv,
    to_json,
    to_latex,
    to_markdown,
)
from kdgat_train.runs_cli import main as runs_cli
from scipy import stats

NAME = "automotive_synthetic_pipeline"
SCENARIOS = ("dos", "fuzzing", "masquerade")
# (model, variant) -> F1 per scenario of seed 0; seed s adds 0.01 * s; GAT student+KD is 0.2 above its student
ROWS = {("all attack", "reference"): (0.1, 0.1, 0.1), ("baseline gbdt", "baseline"): (0.5, 0.4, 0.3),
        ("VGAE", "teacher"): (0.6, 0.5, 0.4), ("VGAE", "student"): (0.5, 0.4, 0.3), ("VGAE", "student+KD"): (0.5, 0.4, 0.3),
        ("GAT", "teacher"): (0.8, 0.7, 0.6), ("GAT", "student"): (0.6, 0.5, 0.4), ("GAT", "student+KD"): (0.8, 0.7, 0.6),
        ("fusion fixed alpha 0.50", "teacher"): (0.7, 0.6, 0.5)}


def _pipeline(root, number: int, seed: int, name: str = NAME):
    folder = root / f"run_{number:03d}"
    folder.mkdir(parents=True)
    RunRecord(name=name, run_dir=str(folder), seed=seed, started_at="2026-12-02T00:00:00", status="COMPLETED").write(folder)
    columns = ["model", "variant", "parameters", "windows_per_s", "cost_s",
               *(f"{s}/{m}" for s in SCENARIOS for m in (*METRICS, "windows", "attack_share")), "run"]
    with (folder / "comparison.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for (model, variant), f1s in ROWS.items():
            alpha_model = model.replace("0.50", f"0.{50 + seed}")  # the chosen alpha differs per seed
            line = {"model": alpha_model, "variant": variant, "parameters": 4000 if variant == "teacher" else 1000,
                    "windows_per_s": 500 + 10 * seed, "cost_s": (60 if variant == "teacher" else 20) + seed,
                    "run": f"{folder}/{model}/{variant}"}
            for scenario, f1 in zip(SCENARIOS, f1s, strict=True):
                line |= {f"{scenario}/f1": f1 + 0.01 * seed, f"{scenario}/fpr": 0.05, f"{scenario}/auroc": 0.9,
                         f"{scenario}/windows": 150, f"{scenario}/attack_share": 0.1}
            writer.writerow(line)
    return folder


@pytest.fixture
def two_seeds(tmp_path):
    return [_pipeline(tmp_path, 1, 0), _pipeline(tmp_path, 2, 1)]


def test_cells_are_means_with_a_t_interval_over_two_seeds(two_seeds):
    report = collect(two_seeds)
    gat = next(row for row in report.rows if row.key == "GAT | student")
    cell = report.cell(gat, "dos", "f1")
    low, high = stats.t.interval(0.95, 1, loc=0.605, scale=stats.sem([0.6, 0.61]))
    assert (cell.mean, cell.n, cell.method) == (pytest.approx(0.605), 2, "t-interval")
    assert (cell.low, cell.high) == (pytest.approx(low), pytest.approx(high))
    assert interval([0.7]).method == "one seed: no interval"
    assert [row.model for row in report.rows].count("fusion fixed alpha") == 1  # one row whatever alpha each seed chose


def test_the_kd_gain_test_finds_a_planted_difference_and_not_an_identical_row(two_seeds):
    tests = {test.label: test for test in collect(two_seeds).tests}
    gat, vgae = tests["KD gain: GAT"], tests["KD gain: VGAE"]
    assert gat.pairs == 6 and gat.mean_difference == pytest.approx(0.2) and gat.rank_biserial == 1.0
    assert gat.p_value == pytest.approx(stats.wilcoxon([0.2] * 6).pvalue) and gat.p_value < 0.05
    assert (vgae.mean_difference, vgae.p_value, vgae.rank_biserial) == (0.0, 1.0, 0.0)
    best = tests["best model vs best baseline"]
    assert best.first == "GAT | teacher" and best.second == "baseline gbdt | baseline" and best.mean_difference > 0


def test_every_cell_names_its_runs_and_the_files_are_written(two_seeds, tmp_path):
    written = write_report(collect(two_seeds), tmp_path / "out")
    plots = [f"{name}.{suffix}" for name in PLOT_NAMES for suffix in ("pdf", "png")]
    assert sorted(p.name for p in written) == sorted(["report.csv", "report.json", "report.md", "report.tex", *plots])
    assert all(p.stat().st_size > 1000 for p in written if p.suffix in (".png", ".pdf"))
    assert (tmp_path / "out" / "f1_vs_parameters.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "out" / "f1_vs_parameters.pdf").read_bytes().startswith(b"%PDF")
    document = json.loads((tmp_path / "out" / "report.json").read_text())
    assert document["seeds"] == [0, 1]
    kd = next(row for row in document["rows"] if row["model"] == "GAT" and row["variant"] == "student+KD")
    assert kd["cells"]["dos/f1"]["values"] == [pytest.approx(0.8), pytest.approx(0.81)]
    assert kd["cells"]["dos/f1"]["runs"] == [f"{two_seeds[0]}/GAT/student+KD", f"{two_seeds[1]}/GAT/student+KD"]
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "0.805 ± " in markdown and "KD gain: GAT" in markdown
    tests = [line for line in markdown.splitlines() if line.startswith("| KD gain")]
    assert tests and all(line.count("|") == 8 for line in tests)  # 7 cells: a row key's own | is escaped


def test_latex_is_balanced_escaped_and_bolds_the_best_per_column(two_seeds):
    latex = to_latex(collect(two_seeds))
    assert latex.count(r"\begin{tabular}") == latex.count(r"\end{tabular}") == 1
    assert r"\toprule" in latex and r"\midrule" in latex and r"\bottomrule" in latex
    assert not re.search(r"(?<!\\)_", latex)  # every underscore escaped (automotive\_synthetic\_pipeline)
    body = [line for line in latex.splitlines() if line.endswith(r"\\")]
    assert all(line.count("&") == 1 + len(SCENARIOS) for line in body)
    bold = [line for line in body if r"\textbf" in line]
    assert len(bold) == 2 and all(line.startswith(("GAT & teacher", "GAT & student+KD")) for line in bold)


def test_runs_that_cannot_be_compared_are_refused(tmp_path):
    with pytest.raises(ReportError, match="seed 0 appears twice"):
        collect([_pipeline(tmp_path, 1, 0), _pipeline(tmp_path, 2, 0)])
    with pytest.raises(ReportError, match="different pipelines"):
        collect([_pipeline(tmp_path, 3, 1), _pipeline(tmp_path, 4, 2, name="automotive_road_pipeline")])


def test_the_cli_selects_completed_pipelines_by_tokens(tmp_path):
    root = tmp_path / "experimentruns" / "automotive" / "synthetic" / "pipeline"
    _pipeline(root, 1, 0)
    _pipeline(root, 2, 1)
    result = CliRunner().invoke(runs_cli, ["report", "synthetic", "pipeline", "--root", str(tmp_path / "experimentruns")])
    assert result.exit_code == 0, result.output
    assert "2 seeds (0, 1)" in result.output and "KD gain: GAT" in result.output
    assert (root / "run_002" / "report.tex").is_file()


def test_the_pareto_front_keeps_only_undominated_rows():
    # (parameters, F1): 2 is dominated by 0 (more parameters, lower F1); 3 ties 1 on F1 with more parameters
    points = [(100, 0.7), (1000, 0.9), (5000, 0.6), (2000, 0.9), (50, 0.2), (100, 0.7)]
    assert pareto_front(points) == [4, 0, 5, 1]  # ordered by size; exact duplicates dominate neither
    assert pareto_front([]) == [] and pareto_front([(10, 0.5)]) == [0]


def test_the_size_plot_averages_each_seed_over_scenarios(two_seeds):
    report = collect(two_seeds)
    kd = next(row for row in report.rows if row.key == "GAT | student+KD")
    assert mean_f1_per_seed(report, kd) == [pytest.approx(0.7), pytest.approx(0.71)]


def test_students_show_their_compression_and_every_row_its_cost_and_measured_speed(two_seeds):
    report = collect(two_seeds)
    rows = {row.key: row for row in report.rows}
    assert report.compression(rows["GAT | student+KD"]) == 4.0 and report.compression(rows["GAT | teacher"]) is None
    assert report.compression(rows["baseline gbdt | baseline"]) is None
    speed = report.speed(rows["VGAE | student"])
    assert (speed.mean, speed.n) == (pytest.approx(505), 2)
    cost = report.cost(rows["GAT | teacher"])
    assert (cost.mean, cost.n) == (pytest.approx(60.5), 2)
    markdown = to_markdown(report)
    assert "| GAT | student+KD | 1,000 | 4.0x smaller | 20 |" in markdown  # cost s/seed: the teacher's is 60
    assert "| GAT | teacher | 4,000 | — | 60 |" in markdown and "cost s/seed" in markdown.splitlines()[7]
    document = json.loads(to_json(report))
    kd = next(row for row in document["rows"] if row["model"] == "GAT" and row["variant"] == "student+KD")
    assert kd["compression_vs_teacher"] == 4.0 and kd["cells"]["model/windows_per_s"]["values"] == [500, 510]
    assert kd["cells"]["model/windows_per_s"]["runs"] == [f"{two_seeds[0]}/GAT/student+KD", f"{two_seeds[1]}/GAT/student+KD"]
    lines = list(csv.DictReader(to_csv(report).splitlines()))
    assert any(line["metric"] == "windows_per_s" and line["compression_vs_teacher"] == "4.0" for line in lines)
    assert any(line["metric"] == "cost_s" and line["mean"] == "60.5" for line in lines)


def test_the_fixed_alpha_row_keeps_each_seeds_alpha_in_report_md(two_seeds):
    markdown = to_markdown(collect(two_seeds))
    assert "| fusion fixed alpha (0.50, 0.51) | teacher |" in markdown
    assert "&#124;" not in markdown


def test_the_per_scenario_plot_gives_every_row_its_own_line(two_seeds, tmp_path):
    """One panel per scenario with one horizontal bar per row: the image grows with the rows, not into a
    4,104 x 660 px strip of 19 thin bars per scenario."""
    import struct

    from kdgat_train.pipeline.report_plots import plot_f1_per_scenario

    report = collect(two_seeds)
    [png, _] = sorted(plot_f1_per_scenario(report, tmp_path), key=lambda p: p.suffix != ".png")
    width, height = struct.unpack(">II", png.read_bytes()[16:24])
    assert height >= 120 * 0.28 * len(report.rows) and width / height < 4


def test_report_md_marks_an_f1_that_flagging_everything_matches(tmp_path, monkeypatch):
    """The all-attack row of the fixture is 0.1 + 0.01 s; a row planted at that F1 gets ‡, the others do not."""
    monkeypatch.setitem(ROWS, ("VGAE", "student"), (0.1, 0.1, 0.1))
    markdown = to_markdown(collect([_pipeline(tmp_path, 1, 0), _pipeline(tmp_path, 2, 1)]))
    line = {tuple(cell.strip() for cell in text.split("|")[1:3]): text for text in markdown.splitlines()
            if text.startswith("| ") and "|" in text[2:]}
    assert "‡" in line[("VGAE", "student")] and "‡" not in line[("all attack", "reference")]
    assert "‡" not in line[("GAT", "teacher")] and "‡ mean F1 not above the all-attack row" in markdown
