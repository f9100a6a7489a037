"""The pipeline: the whole DAG in-process on tiny data, the comparison table, and exact reuse."""

import csv
import json
import re
from pathlib import Path

import pytest
import yaml
from kdgat_schemas import ExperimentName, RunPaths, RunRecord
from kdgat_train.api import train
from kdgat_train.config.run_settings import RunSettings
from kdgat_train.pipeline.completed_runs import identical_completed_run
from mlflow.tracking import MlflowClient

from .conftest import FAST

TINY_SIZES = [
    "model_sizes.vgae_teacher.hidden_dim=32", "model_sizes.vgae_teacher.latent_dim=8", "model_sizes.vgae_teacher.heads=1",
    "model_sizes.gat_teacher.hidden_dim=16", "model_sizes.gat_teacher.num_layers=2", "model_sizes.gat_teacher.heads=2",
    "model_sizes.dqn_teacher.hidden_dim=32",
]


@pytest.fixture(scope="module")
def pipeline_runs(project, tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline_runs")
    # W=50, S=25: enough windows of each class per test scenario (>= 5) for the table to print metrics
    overrides = ["config_store=automotive_synthetic_pipeline", *FAST, *TINY_SIZES, "dataset_config.window=50",
                 "dataset_config.stride=25", f"runs_root={root}"]
    [first] = train(overrides, project_root=project)
    [second] = train(overrides, project_root=project)
    [forced] = train([*overrides, "pipeline.force=true"], project_root=project)
    return root, first, second, forced


def _stages(pipeline_dir):
    return json.loads((pipeline_dir / "pipeline.json").read_text())["stages"]


@pytest.mark.slow
def test_pipeline_trains_every_stage_in_dependency_order(pipeline_runs):
    _, first, *_ = pipeline_runs
    stages = _stages(first)
    assert [s["stage"] for s in stages] == ["vgae_teacher_no", "gat_teacher_no", "vgae_student_no", "gat_student_no",
                                            "vgae_student_standard", "gat_student_standard",
                                            "mlp_student_no", "mlp_student_standard", "dqn_teacher_no", "dqn_student_no", "dqn_student_standard",
                                            "baseline_gbdt", "baseline_timing", "baseline_iforest"]
    assert not any(s["reused"] for s in stages)
    runs = {s["stage"]: s["run_dir"] for s in stages}
    assert all(RunRecord.read(run).status == "COMPLETED" for run in runs.values())
    config = lambda key: yaml.safe_load(Path(runs[key], "config.yaml").read_text())  # noqa: E731
    assert config("gat_student_standard")["distillation_config"]["teacher_run"] == runs["gat_teacher_no"]
    assert config("vgae_student_standard")["distillation_config"]["teacher_run"] == runs["vgae_teacher_no"]
    assert config("gat_student_no")["distillation_config"]["teacher_run"] is None
    assert config("mlp_student_standard")["distillation_config"]["teacher_run"] == runs["gat_teacher_no"]
    assert config("dqn_student_standard")["training_config"]["fusion"]["vgae_run"] == runs["vgae_student_standard"]
    assert config("dqn_student_standard")["training_config"]["fusion"]["gat_run"] == runs["gat_student_standard"]
    assert config("gat_teacher_no")["model_size_config"]["hidden_dim"] == 16  # the pipeline's model_sizes reach the stage
    assert RunRecord.read(first).status == "COMPLETED"


@pytest.mark.slow
def test_comparison_table_has_a_row_per_model_and_variant(pipeline_runs):
    root, first, *_ = pipeline_runs
    rows = list(csv.DictReader((first / "comparison.csv").read_text().splitlines()))
    assert (rows[0]["model"], rows[0]["variant"]) == ("all attack", "reference")
    assert [(r["model"].split(" 0")[0].split(" 1")[0], r["variant"]) for r in rows][4:15] == [
        *((model, variant) for model in ("VGAE", "GAT") for variant in ("teacher", "student", "student+KD")),
        ("graph-less MLP", "student"), ("graph-less MLP", "student+KD"),
        *(("fusion DQN", variant) for variant in ("teacher", "student", "student+KD"))]
    assert len(rows) == 21  # + the MLP and fixed-alpha comparators of each fusion variant, + 3 baselines
    assert [r["model"] for r in rows[1:4]] == ["baseline gbdt", "baseline timing", "baseline iforest"]
    for scenario in ("dos", "fuzzing"):
        for metric in ("f1", "precision", "recall", "fpr", "auroc", "auprc"):
            assert all(r[f"{scenario}/{metric}"] != "" for r in rows[1:]), (scenario, metric)
        assert int(rows[0][f"{scenario}/windows"]) > 0 and 0 < float(rows[0][f"{scenario}/attack_share"]) < 1
    assert all(r["threshold_rule"] for r in rows)
    gat_student = next(r for r in rows if r["model"] == "GAT" and r["variant"] == "student")
    assert float(gat_student["dos/f1"]) == pytest.approx(RunRecord.read(gat_student["run"]).metrics["test/dos/f1"])
    assert float(gat_student["parameters"]) > 0 and float(gat_student["windows_per_s"]) > 0
    markdown = (first / "comparison.md").read_text()
    assert sum(line.startswith("| ") for line in markdown.splitlines()) == 22
    assert re.search(r"\| fusion DQN( § \((GAT|VGAE) only\))? \| student\+KD \|", markdown)  # § when it reads one input
    assert "Test scenarios:" in markdown and "- dos: " in markdown
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    run = client.get_run(RunRecord.read(first).mlflow_run_id)
    assert run.info.status == "FINISHED"
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"comparison.md", "comparison.csv", "pipeline.json",
                                                                         "report.md", "report.tex", "roc_pr.png", "roc_pr.pdf"}
    assert run.data.metrics["GAT_student/dos/f1"] == pytest.approx(float(gat_student["dos/f1"]))


@pytest.mark.slow
def test_second_run_reuses_every_completed_stage(pipeline_runs):
    _, first, second, _ = pipeline_runs
    assert second != first
    assert all(s["reused"] for s in _stages(second))
    assert [s["run_dir"] for s in _stages(second)] == [s["run_dir"] for s in _stages(first)]
    assert (second / "comparison.md").read_text() == (first / "comparison.md").read_text()


@pytest.mark.slow
def test_reuse_needs_an_identical_config(pipeline_runs):
    _, first, *_ = pipeline_runs
    run_dir = _stages(first)[0]["run_dir"]
    settings = RunSettings.model_validate(yaml.safe_load(Path(run_dir, "config.yaml").read_text()))
    found = identical_completed_run(settings)  # the latest identical run (the forced rerun made a newer one)
    assert found is not None and (found / "config.yaml").read_text() == Path(run_dir, "config.yaml").read_text()
    changed = settings.model_copy(update={"training_config": settings.training_config.model_copy(update={"seed": 7})})
    assert identical_completed_run(changed) is None
    # a run saved before a field existed (here: training_config.sampling) is reused at that field's default ...
    saved_configs = {p: (p / "config.yaml").read_text() for p in RunPaths(settings.runs_root).existing_runs(settings.name)}
    try:
        for folder in saved_configs:
            config = yaml.safe_load((folder / "config.yaml").read_text())
            del config["training_config"]["sampling"]
            (folder / "config.yaml").write_text(yaml.safe_dump(config))
        assert identical_completed_run(settings) == found
        balanced = settings.model_copy(update={"training_config": settings.training_config.model_copy(
            update={"sampling": "balanced"})})
        assert identical_completed_run(balanced) is None  # ... and only at its default
    finally:
        for folder, text in saved_configs.items():
            (folder / "config.yaml").write_text(text)
    # the same config trained on other data (an edited capture, an older cache layout) is stale
    record_files = [p / "run.json" for p in RunPaths(settings.runs_root).existing_runs(settings.name)]
    saved = {path: path.read_text() for path in record_files}
    try:
        for path in record_files:
            RunRecord.read(path.parent).model_copy(update={"data_manifest_hash": "other-data"}).write(path.parent)
        assert identical_completed_run(settings) is None
    finally:
        for path, text in saved.items():
            path.write_text(text)
    assert identical_completed_run(settings) == found


@pytest.mark.slow
def test_force_retrains_every_stage(pipeline_runs):
    _, first, _, forced = pipeline_runs
    assert not any(s["reused"] for s in _stages(forced))
    assert not {s["run_dir"] for s in _stages(forced)} & {s["run_dir"] for s in _stages(first)}


@pytest.mark.slow
def test_the_watertreatment_pipeline_runs_on_its_synthetic_plant(project, tmp_path):
    [pipeline] = train(["config_store=watertreatment_synthetic_pipeline", *FAST, *TINY_SIZES, f"runs_root={tmp_path}"],
                       project_root=project)
    assert RunRecord.read(pipeline).status == "COMPLETED"
    rows = list(csv.DictReader((pipeline / "comparison.csv").read_text().splitlines()))
    assert len(rows) == 21 and {r["model"] for r in rows} >= {"baseline gbdt", "baseline pca", "baseline iforest"}
    assert {"level_spoofing/f1", "pump_manipulation/f1", "level_drift/f1"} <= set(rows[0])
    gat = next(r for r in rows if r["model"] == "GAT" and r["variant"] == "teacher")
    config = yaml.safe_load(Path(gat["run"], "config.yaml").read_text())
    assert (config["dataset_config"]["window"], config["dataset_config"]["stride"]) == (24, 12)  # the catalog's defaults


@pytest.mark.slow
def test_the_internet_pipeline_runs_without_an_entity_vocabulary(project, tmp_path):
    [pipeline] = train(["config_store=internet_synthetic_pipeline", *FAST, *TINY_SIZES, f"runs_root={tmp_path}"],
                       project_root=project)
    rows = list(csv.DictReader((pipeline / "comparison.csv").read_text().splitlines()))
    assert len(rows) == 20 and {"port_scan/f1", "ddos/f1", "c2_beacon/f1", "exfiltration/f1"} <= set(rows[0])
    vgae = next(r for r in rows if r["model"] == "VGAE" and r["variant"] == "student")
    size = yaml.safe_load(Path(vgae["run"], "config.yaml").read_text())["model_size_config"]
    assert size["id_embedding_dim"] == 0 and size["decode_ids"] is False  # hosts: no ID table, no ID decoders
    mlp = next(r for r in rows if r["model"] == "graph-less MLP" and r["variant"] == "student+KD")
    assert yaml.safe_load(Path(mlp["run"], "config.yaml").read_text())["model_size_config"]["id_embedding_dim"] == 0


@pytest.mark.slow
def test_a_pipeline_writes_its_report_and_a_second_seed_gives_intervals(project, pipeline_runs, tmp_path):
    from click.testing import CliRunner
    from kdgat_train.runs_cli import main as runs_cli

    root, first, _, _ = pipeline_runs
    assert "1 seed (42)" in (first / "report.md").read_text()  # the pipeline ends with its (one-seed) report
    overrides = ["config_store=automotive_synthetic_pipeline", *FAST, *TINY_SIZES, "dataset_config.window=50",
                 "dataset_config.stride=25", f"runs_root={root}", "training_config.seed=1"]
    [second_seed] = train(overrides, project_root=project)
    assert {s["reused"] for s in _stages(second_seed)} == {False}  # another seed retrains every stage
    result = CliRunner().invoke(runs_cli, ["report", str(first), str(second_seed), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "report.json").read_text())
    assert document["seeds"] == [42, 1]
    gat = next(row for row in document["rows"] if row["model"] == "GAT" and row["variant"] == "student")
    f1 = next(cell for key, cell in gat["cells"].items() if key.endswith("/f1") and cell["values"][0] is not None)
    assert len(f1["values"]) == 2 and f1["interval"] in ("t-interval", "identical over seeds")
    assert any(test["label"] == "KD gain: GAT" and test["pairs"] > 0 for test in document["tests"])
    assert (tmp_path / "roc_pr.png").stat().st_size > (tmp_path / "f1_per_scenario.png").stat().st_size / 4
    # the report reaches MLflow, attached to the last seed's pipeline run
    run_id = RunRecord.read(second_seed).mlflow_run_id
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    logged = {Path(a.path).name for a in client.list_artifacts(run_id, "report_seeds_42-1")}
    assert {"report.md", "report.json", "f1_vs_parameters.pdf", "roc_pr.png"} <= logged
    assert client.get_run(run_id).data.tags["report_seeds"] == "42,1"
    assert f"logged to MLflow run {run_id}" in result.output


@pytest.mark.slow
def test_pipeline_seeds_runs_each_seed_reusing_what_completed_and_ends_with_the_report(project, pipeline_runs, capsys):
    root, first, _, _ = pipeline_runs
    overrides = ["config_store=automotive_synthetic_pipeline", *FAST, *TINY_SIZES, "dataset_config.window=50",
                 "dataset_config.stride=25", f"runs_root={root}", "pipeline.seeds=[42,7]"]
    [last] = train(overrides, project_root=project)
    said = capsys.readouterr().out
    assert "=== seed 42 (1/2) ===" in said and "=== seed 7 (2/2) ===" in said and "KD gain: GAT" in said
    assert RunRecord.read(last).seed == 7 and yaml.safe_load((last / "config.yaml").read_text())["pipeline"]["seeds"] is None
    assert {s["reused"] for s in _stages(last)} == {False}  # seed 7 is new: every stage trained
    folders = RunPaths(root).existing_runs(ExperimentName.parse(RunRecord.read(first).name))
    seed_42 = next(f for f in reversed(folders) if f != last and RunRecord.read(f).seed == 42)
    assert {s["reused"] for s in _stages(seed_42)} == {True}  # seed 42 had completed: every stage reused
    document = json.loads((last / "report.json").read_text())
    assert document["seeds"] == [42, 7] and (last / "f1_per_scenario.pdf").is_file()
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    logged = {Path(a.path).name for a in client.list_artifacts(RunRecord.read(last).mlflow_run_id, "report_seeds_42-7")}
    assert {"report.md", "report.tex", "roc_pr.png"} <= logged


@pytest.mark.parametrize(("extra", "message"), [
    (["pipeline.seeds=[1,1]"], "distinct seeds"), (["pipeline.seeds=[]"], "distinct seeds"),
    (["pipeline.seeds=[0,1]", "pipeline.only=gat_teacher_no"], "cannot be combined with pipeline.only"),
])
def test_pipeline_seeds_are_checked_before_anything_runs(project, tmp_path, extra, message):
    with pytest.raises(BaseException, match=message):  # a SystemExit for a config error
        train(["config_store=automotive_synthetic_pipeline", f"runs_root={tmp_path}", *extra], project_root=project)
    assert not list(tmp_path.rglob("run.json"))
