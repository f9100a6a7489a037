"""The comparison table cannot mislead: all-attack row, window counts, dashes for degenerate
scenarios, a mark on F1 that flagging everything matches."""

import csv

from kdgat_schemas import RunRecord
from kdgat_train.pipeline.comparison import ALL_ATTACK, NO_GAIN_MARK, TableEntry, comparison_table


def _run(folder, metrics, tags=None, timings=None):
    folder.mkdir(parents=True)
    RunRecord(name="automotive_x_supervised_gat_student_no_all_samples", run_dir=str(folder), seed=0,
              started_at="2026-12-02T00:00:00+00:00", status="COMPLETED", metrics=metrics, tags=tags or {},
              timings=timings or {}).write(folder)
    return str(folder)


def _scenario(name, attack, normal, **values):
    return {f"test/{name}/attack_windows": attack, f"test/{name}/normal_windows": normal,
            **{f"test/{name}/{key}": value for key, value in values.items()}}


def test_all_attack_row_counts_dashes_and_marks(tmp_path):
    # "balanced": 50 attack / 50 normal (all-attack F1 = 2/3); "few": 3 attack windows only (degenerate)
    flags_all = _run(tmp_path / "a", {**_scenario("balanced", 50, 50, f1=2 / 3, fpr=1.0, auroc=0.9),
                                      **_scenario("few", 3, 60, f1=1.0, fpr=0.0), "model/parameters": 5e4},
                     {"threshold_rule": "f1"})
    detects = _run(tmp_path / "b", {**_scenario("balanced", 50, 50, f1=0.9, fpr=0.05, auroc=0.97),
                                    **_scenario("few", 3, 60, f1=1.0, recall=1.0)},
                   {"threshold_rule": "fpr:0.01", "threshold_fallback": "validation has 3 normal windows"},
                   {"stage_wall_s": 41.6, "train_windows_per_s": 3100.0})
    table = comparison_table([TableEntry("GAT", "student+KD", flags_all), TableEntry("GAT", "student", detects)])
    assert table.rows[0]["model"] == ALL_ATTACK and table.rows[0]["balanced/f1"] == 2 / 3
    assert table.windows == {"balanced": (50, 50), "few": (3, 60)}
    markdown = table.to_markdown()
    assert "- balanced: 100 windows (50 attack, 50 normal; attack share 50.0 %)" in markdown
    assert "- few: 63 windows (3 attack, 60 normal; attack share 4.8 %)" in markdown
    kd_line = next(line for line in markdown.splitlines() if "| student+KD |" in line)
    student_line = next(line for line in markdown.splitlines() if "| student |" in line)
    assert f"0.667 {NO_GAIN_MARK}" in kd_line  # F1 of flagging everything is not a detection
    assert "0.900" in student_line and NO_GAIN_MARK not in student_line and "fpr:0.01 (fallback)" in student_line
    assert "1.000" not in student_line  # the degenerate scenario prints dashes, never F1 1.000
    assert all(table.value(row, "few", metric) is None for row in table.rows for metric in ("f1", "recall", "fpr"))
    assert "few: fewer than 5 windows of a class" in markdown
    assert "windows/s" not in markdown.splitlines()[4]  # unpinned speed: in the CSV only, not a headline column
    assert markdown.splitlines()[4].startswith("| model | variant | params | cost |")
    assert "| 42 s |" in student_line and "| — |" in kd_line  # what the stage cost; a run without timings: a dash
    rows = list(csv.DictReader(table.to_csv().splitlines()))
    assert rows[1]["balanced/no_gain"] == "1" and rows[2]["balanced/no_gain"] == "0"
    assert rows[2]["few/f1"] == "" and rows[2]["balanced/windows"] == "100"
    assert float(rows[0]["balanced/attack_share"]) == 0.5
    assert (rows[2]["cost_s"], rows[2]["train_windows_per_s"]) == ("41.6", "3100.0")


def test_a_fusion_reading_one_input_and_a_model_that_learned_nothing_are_marked(tmp_path):
    from kdgat_train.pipeline.comparison import LEARNED_NOTHING_MARK, ONE_INPUT_MARK

    validation = {"val/attack_windows": 65, "val/normal_windows": 416}
    fusion = _run(tmp_path / "dqn", {**_scenario("dos", 50, 50, f1=0.9, auroc=0.95), **validation, "val/auroc": 0.95,
                                     "val/gat_rank_agreement": 0.9998, "val/vgae_rank_agreement": -0.1, "fixed_alpha/alpha": 1.0,
                                     "fixed_alpha/val/auroc": 0.95, **{f"fixed_alpha/{k}": v for k, v in validation.items()},
                                     "fixed_alpha/test/dos/f1": 0.9})
    mixing = _run(tmp_path / "dqn2", {**_scenario("dos", 50, 50, f1=0.9), **validation, "val/auroc": 0.95,
                                      "val/gat_rank_agreement": 0.9991, "val/vgae_rank_agreement": 0.2, "fixed_alpha/alpha": 0.55})
    chance = _run(tmp_path / "gat", {**_scenario("dos", 50, 50, f1=0.1, auroc=0.45), **validation, "val/auroc": 0.47},
                  {"learned_nothing": "validation AUROC 0.470 is within noise of chance"})
    comparators = (("", "fusion DQN"), ("fixed_alpha/", "fusion fixed alpha"))
    table = comparison_table([TableEntry("fusion DQN", "student+KD", fusion, comparators),
                              TableEntry("fusion DQN", "student", mixing, comparators),
                              TableEntry("GAT", "student", chance)])
    lines = table.to_markdown().splitlines()
    dqn = next(line for line in lines if line.startswith("| fusion DQN") and "student+KD" in line)
    fixed = next(line for line in lines if line.startswith("| fusion fixed alpha 1.00"))
    assert f"fusion DQN {ONE_INPUT_MARK} (GAT only)" in dqn and f"{ONE_INPUT_MARK} (GAT only)" in fixed
    assert not any(ONE_INPUT_MARK in line for line in lines if "| student |" in line and "fusion" in line)
    gat = next(line for line in lines if line.startswith("| GAT"))
    assert f"GAT {LEARNED_NOTHING_MARK}" in gat
    assert any(line.startswith(f"{ONE_INPUT_MARK} one input only") for line in lines)
    assert any(line.startswith(f"{LEARNED_NOTHING_MARK} learned nothing") for line in lines)
    rows = {(row["model"], row["variant"]): row for row in csv.DictReader(table.to_csv().splitlines())}
    assert rows[("fusion DQN", "student+KD")]["one_input"] == "GAT" and rows[("GAT", "student")]["learned_nothing"] == "1"
    assert rows[("fusion DQN", "student")]["one_input"] == "" and rows[("fusion DQN", "student")]["learned_nothing"] == "0"


def test_one_class_sources_show_what_they_define_in_every_table_format(tmp_path):
    """A normal-only source (a parked car) shows FPR and false alarms per hour, an attack-only one (a flood capture)
    recall and detection delay: in comparison.md/.csv and report.md/.csv/.tex/.json, never blanks."""
    import json

    from kdgat_train.pipeline.report_files import write_report
    from kdgat_train.pipeline.seed_report import collect

    values = {**_scenario("parked", 0, 120, f1=0.0, fpr=0.025, false_alarms_per_hour=3.5, recall=float("nan")),
              **_scenario("flood", 80, 0, f1=0.95, recall=0.9, detection_delay_s_median=0.25, fpr=float("nan")),
              **_scenario("mixed", 20, 100, f1=0.8, fpr=0.02, auroc=0.95)}
    pipelines = []
    for seed in (0, 1):
        run = _run(tmp_path / f"gat{seed}", values)
        table = comparison_table([TableEntry("GAT", "student", run)])
        folder = tmp_path / f"pipeline{seed}"
        folder.mkdir()
        RunRecord(name="automotive_x_pipeline", run_dir=str(folder), seed=seed, started_at="2026-12-02T00:00:00+00:00",
                  status="COMPLETED").write(folder)
        table.write(folder)
        pipelines.append(folder)
    markdown = (pipelines[0] / "comparison.md").read_text()
    assert "- parked: 120 windows (0 attack, 120 normal; attack share 0.0 %): normal-only source" in markdown
    assert "| parked FPR (normal only) | parked false alarms/h (normal only) |" in markdown
    assert "| flood recall (attack only) | flood delay s (attack only) |" in markdown
    gat_line = next(line for line in markdown.splitlines() if line.startswith("| GAT |"))
    assert "| 0.900 | 0.25 | 0.800 |" in gat_line and gat_line.endswith("| 0.025 | 3.5 |")  # flood, mixed's F1 .. parked
    rows = list(csv.DictReader((pipelines[0] / "comparison.csv").read_text().splitlines()))
    assert (rows[1]["parked/fpr"], rows[1]["parked/false_alarms_per_hour"], rows[1]["parked/f1"]) == ("0.025", "3.5", "")
    assert (rows[1]["flood/recall"], rows[1]["flood/fpr"]) == ("0.9", "")

    write_report(collect(pipelines), tmp_path / "report", plots=False)
    report = (tmp_path / "report" / "report.md").read_text()
    assert "parked FPR (normal only)" in report and "flood recall (attack only)" in report
    assert "0.025" in next(line for line in report.splitlines() if line.startswith("| GAT"))
    report_csv = list(csv.DictReader((tmp_path / "report" / "report.csv").read_text().splitlines()))
    cells = {(r["model"], r["scenario"], r["metric"]): float(r["mean"]) for r in report_csv}
    assert cells[("GAT", "parked", "false_alarms_per_hour")] == 3.5 and cells[("GAT", "flood", "recall")] == 0.9
    assert ("GAT", "parked", "f1") not in cells
    tex = (tmp_path / "report" / "report.tex").read_text()
    assert r"parked FPR (normal only)" in tex and "0.025" in tex and "0.900" in tex
    document = json.loads((tmp_path / "report" / "report.json").read_text())
    gat = next(row for row in document["rows"] if row["model"] == "GAT")
    assert gat["cells"]["parked/fpr"]["mean"] == 0.025 and gat["cells"]["flood/recall"]["mean"] == 0.9


def test_a_threshold_that_fails_is_told_apart_from_a_model_that_does_not_rank(tmp_path):
    from kdgat_train.pipeline.comparison import THRESHOLD_OFF_MARK

    # all-attack F1 on "dos" (10 attack / 90 normal) is 0.182: both rows are no better at their threshold
    recalibrate = _run(tmp_path / "vgae", _scenario("dos", 10, 90, f1=0.18, fpr=1.0, auroc=0.97, f1_at_5pct_fpr=0.85))
    retrain = _run(tmp_path / "gat", _scenario("dos", 10, 90, f1=0.18, fpr=1.0, auroc=0.55, f1_at_5pct_fpr=0.15))
    table = comparison_table([TableEntry("VGAE", "student", recalibrate), TableEntry("GAT", "student", retrain)])
    markdown = table.to_markdown()
    vgae_line = next(line for line in markdown.splitlines() if line.startswith("| VGAE |"))
    gat_line = next(line for line in markdown.splitlines() if line.startswith("| GAT |"))
    assert f"0.180 {NO_GAIN_MARK}{THRESHOLD_OFF_MARK}" in vgae_line and "| 0.850 |" in vgae_line  # F1@5%FPR beside F1
    assert f"0.180 {NO_GAIN_MARK} |" in gat_line and THRESHOLD_OFF_MARK not in gat_line
    assert "Threshold, not model (†): VGAE student (dos)" in markdown and "GAT student" not in markdown.split("Threshold")[-1]
    rows = list(csv.DictReader(table.to_csv().splitlines()))
    assert (rows[1]["dos/threshold_off"], rows[2]["dos/threshold_off"]) == ("1", "0")
