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
    # "balanced": 50 attack / 50 normal (all-attack F1 = 2/3); "only_attacks": one class
    flags_all = _run(tmp_path / "a", {**_scenario("balanced", 50, 50, f1=2 / 3, fpr=1.0, auroc=0.9),
                                      **_scenario("only_attacks", 40, 0, f1=1.0, fpr=float("nan")), "model/parameters": 5e4},
                     {"threshold_rule": "f1"})
    detects = _run(tmp_path / "b", {**_scenario("balanced", 50, 50, f1=0.9, fpr=0.05, auroc=0.97),
                                    **_scenario("only_attacks", 40, 0, f1=1.0)},
                   {"threshold_rule": "fpr:0.01", "threshold_fallback": "validation has 3 normal windows"},
                   {"stage_wall_s": 41.6, "train_windows_per_s": 3100.0})
    table = comparison_table([TableEntry("GAT", "student+KD", flags_all), TableEntry("GAT", "student", detects)])
    assert table.rows[0]["model"] == ALL_ATTACK and table.rows[0]["balanced/f1"] == 2 / 3
    assert table.windows == {"balanced": (50, 50), "only_attacks": (40, 0)}
    markdown = table.to_markdown()
    assert "- balanced: 100 windows (50 attack, 50 normal; attack share 50.0 %)" in markdown
    assert "- only_attacks: 40 windows (40 attack, 0 normal; attack share 100.0 %)" in markdown
    kd_line = next(line for line in markdown.splitlines() if "| student+KD |" in line)
    student_line = next(line for line in markdown.splitlines() if "| student |" in line)
    assert f"0.667 {NO_GAIN_MARK}" in kd_line  # F1 of flagging everything is not a detection
    assert "0.900" in student_line and NO_GAIN_MARK not in student_line and "fpr:0.01 (fallback)" in student_line
    assert "1.000" not in student_line  # the one-class scenario prints dashes, never F1 1.000
    assert all(table.value(row, "only_attacks", metric) is None for row in table.rows for metric in ("f1", "recall"))
    assert "only_attacks: fewer than 5 windows of a class" in markdown
    assert "windows/s" not in markdown.splitlines()[4]  # unpinned speed: in the CSV only, not a headline column
    assert markdown.splitlines()[4].startswith("| model | variant | params | cost |")
    assert "| 42 s |" in student_line and "| — |" in kd_line  # what the stage cost; a run without timings: a dash
    rows = list(csv.DictReader(table.to_csv().splitlines()))
    assert rows[1]["balanced/no_gain"] == "1" and rows[2]["balanced/no_gain"] == "0"
    assert rows[2]["only_attacks/f1"] == "" and rows[2]["balanced/windows"] == "100"
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
