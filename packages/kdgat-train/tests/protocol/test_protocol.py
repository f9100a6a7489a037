"""The quality protocol (``kdgat-runs protocol``, `kdgat_train.protocol`): its datasets, its goal check,
its variants and its command."""

import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from kdgat_train.protocol import datasets, protocol_run, runs, tables, variants
from kdgat_train.runs_cli import main as runs_cli


@pytest.fixture(scope="module")
def quality():
    """Every protocol module's names in one namespace, as the tests read them."""
    names = {}
    for module in (datasets, runs, tables, variants, protocol_run):
        names |= {name: getattr(module, name) for name in dir(module) if not name.startswith("__")}
    return SimpleNamespace(**names)


def test_road_folds_leave_one_capture_out_and_the_catalog_loads(quality, tmp_path):
    from kdgat_data.catalog import Catalog

    entries = quality.catalog_entries(tmp_path / "shared", tmp_path)
    folds = {key: entry for key, entry in entries.items() if key.startswith("road_") and not key.endswith("_idfree")}
    assert len(folds) == 4
    for entry in folds.values():
        [(scenario, [test_file])] = entry["test"].items()
        assert test_file == f"{scenario}.csv" and test_file not in entry["train"] and len(entry["train"]) == 3
    assert {next(iter(e["test"])) for e in folds.values()} == set(quality.ROAD_CAPTURES)
    quality.write_catalog(entries, tmp_path)
    catalog = Catalog.load(tmp_path / "configs" / "datasets.yaml")
    assert set(catalog.entries) == set(entries) and catalog.token_of("iot23_30s") == "iot23t30"


def test_the_dos_capture_splits_in_time_without_losing_a_row(quality, tmp_path):
    source = tmp_path / "shared" / "can" / "can-train-and-test-set01" / "DoS-1.csv"
    source.parent.mkdir(parents=True)
    rows = [f"{1000 + k}.0,1E5,00,{int(20 <= k < 60)}\n" for k in range(100)]  # attacks on rows 20-59
    source.write_text("timestamp,arbitration_id,data_field,attack\n" + "".join(rows))
    quality.split_dos_capture(tmp_path / "shared", tmp_path)
    head = (tmp_path / "data" / "can_dos" / "head.csv").read_text().splitlines(keepends=True)
    tail = (tmp_path / "data" / "can_dos" / "tail.csv").read_text().splitlines(keepends=True)
    assert head[0] == tail[0] == "timestamp,arbitration_id,data_field,attack\n"
    assert head[1:] + tail[1:] == rows and len(head) - 1 == 40  # cut in the middle of the attack period
    assert any(row.endswith(",1\n") for row in head) and any(row.endswith(",1\n") for row in tail)


def _row(model, variant, f1, fpr, auroc):
    cells = {f"s/{metric}": {"mean": value, "low": None, "high": None}
             for metric, value in (("f1", f1), ("fpr", fpr), ("auroc", auroc))}
    return {"model": model, "variant": variant, "parameters": None, "cells": cells}


def test_the_goal_check_counts_only_detections_at_five_percent(quality):
    report = {"scenarios": ["s"], "seeds": [0], "rows": [
        _row("baseline gbdt", "baseline", 0.95, 0.40, 0.9),  # F1 at FPR 0.40: not a detection at 5 %
        _row("baseline timing", "baseline", 0.50, 0.01, 0.8),
        _row("GAT", "teacher", 0.70, 0.02, 0.90), _row("GAT", "student", 0.65, 0.03, 0.85),
        _row("GAT", "student+KD", 0.60, 0.04, 0.885),
        _row("fusion DQN", "teacher", 0.9, 0.01, 0.99), _row("fusion DQN", "student", 0.4, 0.02, 0.9),
        _row("fusion DQN", "student+KD", 0.8, 0.08, 0.95),
    ]}
    gat, fusion = quality.goal_checks(report)
    assert gat["best_baseline"] == "baseline timing" and gat["best_baseline_f1"] == 0.50
    assert gat["beats"] and gat["close"] and not gat["kd_helps"]  # 0.885 >= 0.90 - 0.02; 0.60 < 0.65
    assert not fusion["beats"] and not fusion["close"] and fusion["kd_helps"]  # its FPR 0.08 > 5 %


def test_f1_at_five_percent_test_fpr_by_hand(quality, tmp_path):
    """40 normal windows (scores 0..39) and 10 attacks (scores 37.5..46.5): a cut may flag at most 2
    normals (5 % of 40); the best of the three such cuts flags 38, 39 and every attack."""
    import polars as pl

    normal, attack = list(range(40)), [37.5 + k for k in range(10)]
    pl.DataFrame({"split": ["test/s"] * 50 + ["val"], "label": [0] * 40 + [1] * 10 + [1],
                  "score": [float(v) for v in normal + attack] + [99.0]}).write_parquet(tmp_path / "scores.parquet")
    # cuts above 39, 38, 37: F1 16/18, 18/20, 20/22
    assert quality.f1_at_test_fpr(tmp_path, "s") == pytest.approx(2 * 10 / (12 + 10))
    separated = [50.0 + k for k in range(10)]  # every attack above every normal: F1 1, flagging no normal
    pl.DataFrame({"split": ["test/s"] * 50, "label": [0] * 40 + [1] * 10,
                  "score": [float(v) for v in normal] + separated}).write_parquet(tmp_path / "scores.parquet")
    assert quality.f1_at_test_fpr(tmp_path, "s") == 1.0
    pl.DataFrame({"split": ["test/s"] * 3, "label": [1, 1, 1], "score": [1.0, 2.0, 3.0]}).write_parquet(tmp_path / "scores.parquet")
    assert quality.f1_at_test_fpr(tmp_path, "s") != quality.f1_at_test_fpr(tmp_path, "s")  # one class: NaN


def test_another_threshold_rule_runs_and_reports_in_its_own_folders(quality, tmp_path):
    assert quality.runs_folder(tmp_path, quality.THRESHOLD) == tmp_path / "runs"
    other = quality.runs_folder(tmp_path, "f1@fpr:0.05")
    assert other == tmp_path / "runs" / "threshold-f1@fpr-0.05" and other != quality.runs_folder(tmp_path, "f1")


def test_the_unknown_vehicle_twins_are_id_free_and_the_test_vehicle_is_labelled_by_its_flood_id(quality, tmp_path):
    from kdgat_data.catalog import Catalog

    entries = quality.catalog_entries(tmp_path / "shared", tmp_path)
    quality.write_catalog(entries, tmp_path)
    catalog = Catalog.load(tmp_path / "configs" / "datasets.yaml")
    for training, test, _ in quality.UNKNOWN_VEHICLE_PAIRS:
        twin, based = entries[f"{training}_idfree"], entries[training]
        assert twin["entity_ids"] is False and twin["train"] == based["train"] and twin["test"] == based["test"]
        assert catalog.entries[f"{training}_idfree"].entity_ids is False and catalog.entries[training].entity_ids is True
        assert test in catalog.entries
    assert catalog.entries["j1939_dos"].attack_ids == ["00000000"]


def test_a_head_validation_block_needs_a_work_folder_of_its_own(quality, tmp_path):
    shared = tmp_path / "shared"
    (shared / "can" / "can-train-and-test-set01").mkdir(parents=True)
    (shared / "can" / "can-train-and-test-set01" / "DoS-1.csv").write_text(
        "timestamp,arbitration_id,data_field,attack\n" + "".join(f"{k}.0,1E5,00,{int(k == 5)}\n" for k in range(10)))
    arguments = ["protocol", "--shared", str(shared), "--work", str(tmp_path / "work"), "--gather"]
    done = CliRunner().invoke(runs_cli, [*arguments, "--validation-block", "head"])
    assert done.exit_code == 0, done.output
    assert "validation_block: head" in (tmp_path / "work" / "configs" / "datasets.yaml").read_text()
    refused = CliRunner().invoke(runs_cli, arguments)  # the default tail block in the same folder: refused
    assert refused.exit_code == 2 and "another validation block" in refused.output


def _pipeline_report(runs_root, number: int, seeds: list[int]):
    path = runs_root / "automotive" / "x" / "pipeline" / f"run_{number:03d}" / "report.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"seeds": seeds, "rows": [], "scenarios": []}))
    return path


def test_variants_share_a_runs_root_and_each_finds_its_own_report(quality, tmp_path):
    old = _pipeline_report(tmp_path, 1, [0, 1])  # written before variants were registered: the protocol's
    mlflow_copy = tmp_path / "mlartifacts" / "abc" / "artifacts" / "report.json"
    mlflow_copy.parent.mkdir(parents=True)
    mlflow_copy.write_text(old.read_text())
    assert quality.report_path(tmp_path, [0, 1]) == old
    assert quality.report_path(tmp_path, [0, 1], "sampling-balanced") is None
    balanced = _pipeline_report(tmp_path, 2, [0, 1])  # newer, same seeds: a variant's
    (tmp_path / "variants.json").write_text(json.dumps({"sampling-balanced seeds 0,1": str(balanced)}))
    assert quality.report_path(tmp_path, [0, 1], "sampling-balanced") == balanced
    assert quality.report_path(tmp_path, [0, 1]) == old  # a variant's report is never taken for the protocol's
    assert quality.report_path(tmp_path, [0, 1, 2]) is None


def test_kd_grid_points_are_named_by_their_settings_and_reach_the_config(quality):
    name, overrides = quality.kd_variant({"temperature": 8.0, "alpha": 0.9, "latent_weight": 3.0, "reconstruction_weight": 0.1})
    assert name == "kd-T8-a0.9-l3-r0.1"
    assert overrides == ("distillation_config.temperature=8", "distillation_config.alpha=0.9",
                         "distillation_config.latent_weight=3", "distillation_config.reconstruction_weight=0.1")
    assert len({quality.kd_variant(point)[0] for point in quality.KD_GRID}) == len(quality.KD_GRID)
    assert quality.KD_DEFAULT not in quality.KD_GRID


def test_the_kd_point_is_chosen_on_validation_auroc_only(quality, tmp_path):
    def report(variant: str, val_aurocs: list[float], test_f1: float) -> dict:
        runs = []
        for seed, value in enumerate(val_aurocs):
            run = tmp_path / variant / f"run_{seed}"
            run.mkdir(parents=True)
            (run / "run.json").write_text(json.dumps({"metrics": {"val/auroc": value}}))
            runs.append(str(run))
        row = {"model": "GAT", "variant": "student+KD", "cells": {"s/f1": {"mean": test_f1, "runs": runs}}}
        return {"scenarios": ["s"], "rows": [row]}

    reports = {quality.PROTOCOL: report("p", [0.80, 0.82], 0.9), "kd-a": report("a", [0.90, 0.88], 0.1),
               "kd-b": report("b", [0.85, float("nan")], 0.99)}
    chosen, scores = quality.kd_choice(reports, "GAT")
    assert chosen == "kd-a" and scores["kd-a"] == pytest.approx(0.89)  # the best test F1 (kd-b) plays no part
    assert scores["kd-b"] == pytest.approx(0.85)  # a seed without a validation AUROC is left out of the mean
    one_class = {quality.PROTOCOL: report("q", [float("nan")], 0.5), "kd-c": report("c", [float("nan")], 0.9)}
    assert quality.kd_choice(one_class, "GAT")[0] == quality.PROTOCOL  # nothing to choose on: the protocol's point


def test_a_variant_names_its_overrides_and_a_bad_one_is_refused(quality):
    assert quality.parse_variant("train-stride-50:dataset_config.train_stride=50,training_config.epochs=5") == (
        "train-stride-50", ("dataset_config.train_stride=50", "training_config.epochs=5"))
    for bad in ("no-overrides", "protocol:training_config.epochs=5", "x y:a=1", "name:notanoverride"):
        with pytest.raises(ValueError, match="--variant"):
            quality.parse_variant(bad)


def test_the_graph_less_student_is_checked_against_the_gat_teacher_it_learns_from(quality):
    report = {"scenarios": ["s"], "seeds": [0], "rows": [
        _row("baseline gbdt", "baseline", 0.50, 0.01, 0.8), _row("GAT", "teacher", 0.70, 0.02, 0.90),
        _row("graph-less MLP", "student", 0.60, 0.03, 0.87), _row("graph-less MLP", "student+KD", 0.65, 0.02, 0.885),
    ]}
    [mlp] = quality.goal_checks(report)
    assert mlp["family"] == "graph-less MLP" and mlp["teacher_auroc"] == 0.90  # the GAT teacher's: it has none of its own
    assert mlp["beats"] and mlp["close"] and mlp["kd_helps"]
