"""Cross-dataset evaluation on two synthetic vehicles with different CAN IDs: every family and a
baseline scored on the other car with its own vocabulary (UNK share) and its own threshold; on its
own dataset the cross path reproduces the run's own test metrics; `kdgat-runs matrix` over both."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from kdgat_schemas import RunRecord
from kdgat_train.evaluation.cross_dataset import CrossEvaluationError, evaluate_on_dataset
from kdgat_train.runs_cli import main as runs_cli
from mlflow.tracking import MlflowClient


def _stage(pipeline_dir, key):
    stages = json.loads((pipeline_dir / "pipeline.json").read_text())["stages"]
    return next(s["run_dir"] for s in stages if s["stage"] == key)


@pytest.mark.slow
def test_a_run_on_another_car_reports_unk_share_and_metrics_with_its_own_threshold(two_cars):
    root, first, _ = two_cars
    gat = _stage(first, "gat_student_no")
    result = CliRunner().invoke(runs_cli, ["evaluate", gat, "--dataset", "car2"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(Path(gat, "cross", "car2", "metrics.json").read_text())
    own = json.loads(Path(gat, "metrics.json").read_text())
    assert metrics["threshold_rule"] == own["threshold_rule"]  # the run's own validation threshold, not refitted
    assert set(metrics) >= {"test/dos", "test/fuzzing"} and "val" not in metrics  # nothing of car2 chooses anything
    # 37 of car 2's 40 IDs are not car 1's (the speed, RPM and gear messages are shared)
    assert 0.5 < metrics["test/dos"]["unk_share"] < 1.0 and own["test/dos"]["f1"] >= 0
    assert 0 <= metrics["test/fuzzing"]["f1"] <= 1 and metrics["cross_dataset"]["scored_on"] == "car2"
    assert "UNK share" in result.output and "logged to MLflow run" in result.output
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    run_id = RunRecord.read(gat).mlflow_run_id
    assert client.get_run(run_id).data.metrics["cross/car2/dos/unk_share"] == pytest.approx(metrics["test/dos"]["unk_share"])
    assert {a.path.rsplit("/", 1)[-1] for a in client.list_artifacts(run_id, "cross/car2")} >= {"metrics.json", "scores.parquet"}


@pytest.mark.slow
@pytest.mark.parametrize("key", ["vgae_student_standard", "gat_teacher_no", "dqn_student_no", "baseline_gbdt"])
def test_every_family_scored_on_its_own_data_through_the_cross_path_reproduces_its_test_metrics(two_cars, key):
    _, first, _ = two_cars
    run_dir = _stage(first, key)
    done = evaluate_on_dataset(run_dir, "synthetic", say=lambda message: None)
    own = RunRecord.read(run_dir).metrics
    for scenario in ("dos", "fuzzing"):
        assert done.results[scenario]["unk_share"] < 0.1  # own IDs (a few attack IDs never seen in training)
        for metric in ("f1", "fpr", "auroc"):
            assert done.results[scenario][metric] == pytest.approx(own[f"test/{scenario}/{metric}"], abs=1e-6), (scenario, metric)


@pytest.mark.slow
def test_what_cannot_be_scored_is_refused_with_the_reason(two_cars):
    _, first, _ = two_cars
    gat = _stage(first, "gat_student_no")
    with pytest.raises(CrossEvaluationError, match="pipeline run"):
        evaluate_on_dataset(first, "car2", say=lambda message: None)
    with pytest.raises(CrossEvaluationError, match="--scenario masquerade: car2 has the test scenarios dos, fuzzing"):
        evaluate_on_dataset(gat, "car2", ["masquerade"], say=lambda message: None)
    with pytest.raises(CrossEvaluationError, match="the domains differ"):
        evaluate_on_dataset(gat, "water_synthetic", say=lambda message: None)


@pytest.mark.slow
def test_the_matrix_puts_own_results_on_the_diagonal_and_cross_results_off_it(two_cars, tmp_path):
    root, first, second = two_cars
    result = CliRunner().invoke(runs_cli, ["matrix", "--train", "synthetic,car2", "--test", "synthetic,car2",
                                           "--rows", "GAT | student", "--rows", "gbdt", "--root", str(root),
                                           "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "matrix.json").read_text())
    cells = {(c["row"], c["train"], c["test"]): c for c in document["cells"]}
    assert {row for row, _, _ in cells} == {"GAT | student", "GAT | student+KD", "baseline gbdt | baseline"}
    own = cells[("GAT | student", "synthetic", "synthetic")]
    gat = _stage(first, "gat_student_no")
    record = RunRecord.read(gat).metrics
    assert own["runs"] == [gat] and own["values"]["f1"] == [pytest.approx((record["test/dos/f1"] + record["test/fuzzing/f1"]) / 2)]
    across = cells[("GAT | student", "synthetic", "car2")]
    scored = json.loads(Path(gat, "cross", "car2", "metrics.json").read_text())
    assert across["values"]["auroc"] == [pytest.approx((scored["test/dos"]["auroc"] + scored["test/fuzzing"]["auroc"]) / 2)]
    assert across["unk_share"][0] > 0.5 and own["unk_share"] == [None]
    assert cells[("baseline gbdt | baseline", "car2", "synthetic")]["runs"] == [_stage(second, "baseline_gbdt")]
    latex = (tmp_path / "matrix.tex").read_text()
    assert latex.count(r"\begin{tabular}") == 1 and r"\toprule" in latex and "GAT \\textbar{} student+KD" in latex
    assert (tmp_path / "matrix_f1.png").stat().st_size > 1000 and "## F1" in result.output and "## FPR" in result.output
    assert "| GAT &#124; student | synthetic |" in result.output  # a pipe inside a cell would split the row
    again = CliRunner().invoke(runs_cli, ["matrix", "--train", "synthetic", "--test", "car2", "--rows", "GAT | student",
                                          "--root", str(root), "--out", str(tmp_path / "again")])
    assert again.exit_code == 0 and "scoring" not in again.output  # the cross results are read back, not recomputed
    unknown = CliRunner().invoke(runs_cli, ["matrix", "--train", "nosuch", "--test", "car2", "--root", str(root)])
    assert unknown.exit_code != 0 and "nosuch" in unknown.output


@pytest.mark.slow
def test_a_run_whose_checkpoint_is_refused_is_one_line_before_any_cache(two_cars, tmp_path):
    import shutil

    _, first, _ = two_cars
    run = Path(shutil.copytree(_stage(first, "gat_student_no"), tmp_path / "run_001"))
    shutil.rmtree(run / "cross", ignore_errors=True)  # what earlier tests scored
    best = run / "checkpoints" / "best.ckpt"
    best.write_bytes(best.read_bytes()[:200])  # truncated
    result = CliRunner().invoke(runs_cli, ["evaluate", str(run), "--dataset", "car2"])
    assert result.exit_code == 1 and f"{best}: not a readable checkpoint" in result.output
    assert "Traceback" not in result.output and "cache:" not in result.output  # refused before any cache step
    assert len(result.output.strip().splitlines()) == 1 and not (run / "cross").exists()
