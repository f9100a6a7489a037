"""Plans are validated before anything is submitted: names, overrides, products, DAG dependencies."""

import pytest
from kdgat_cluster.plan import (
    PlanError,
    ResourceRequest,
    known_datasets,
    plan_pipeline,
    plan_submit,
    plan_sweep,
)
from kdgat_cluster.profile import ClusterProfile
from kdgat_schemas import ExperimentNameError, UnsafeValueError

GAT = "automotive_synthetic_supervised_gat_student_no_all_samples"
CATALOG = {"synthetic": ("automotive", "synthetic"), "hcrl_ch": ("automotive", "hcrlch"),
           "water_synthetic": ("watertreatment", "synthetic")}
PROFILE = ClusterProfile(cpus_per_task=2, gpus=0, stages={"teacher": {"time": "08:00:00"}, "gat_teacher": {"memory": "64G"}})


@pytest.mark.parametrize("name", [
    "automotive_synthetic_supervised_gat_student_no_all_samples;rm -rf ~",
    "automotive_synthetic_supervised_gat_student_no_$(reboot)",
    "automotive_synthetic_supervised_gat_student_no_`id`",
    "automotive_synthetic_supervised_gat_student_no_all_samples\nreboot",
    "../../etc/passwd",
])
def test_hostile_names_are_refused(name):
    with pytest.raises((UnsafeValueError, ExperimentNameError)):
        plan_submit(name, [], PROFILE, ResourceRequest(), CATALOG)


@pytest.mark.parametrize("override", [
    "training_config.epochs=1;reboot", "dataset_config.name=$(id)", "training_config.seed=`id`",
    "training_config.epochs=1\nreboot", "runs_root=../../elsewhere", "distillation_config.teacher_run=/x/../y",
])
def test_hostile_overrides_are_refused(override):
    with pytest.raises(UnsafeValueError):
        plan_submit(GAT, [override], PROFILE, ResourceRequest(), CATALOG)


def test_overrides_must_be_key_value_and_not_the_managers():
    with pytest.raises(PlanError, match="KEY=VALUE"):
        plan_submit(GAT, ["--epochs"], PROFILE, ResourceRequest(), CATALOG)
    with pytest.raises(PlanError, match="run_dir is set by kdgat-cluster"):
        plan_submit(GAT, ["run_dir=/tmp/x"], PROFILE, ResourceRequest(), CATALOG)


def test_unknown_dataset_and_pipeline_names_are_explained():
    with pytest.raises(PlanError, match="not in configs/datasets.yaml; known: automotive_hcrlch, automotive_synthetic"):
        plan_submit("automotive_set01_supervised_gat_student_no_all_samples", [], PROFILE, ResourceRequest(), CATALOG)
    with pytest.raises(PlanError, match="kdgat-cluster pipeline synthetic"):
        plan_submit("automotive_synthetic_pipeline", [], PROFILE, ResourceRequest(), CATALOG)


def test_sweep_is_the_product_with_kd_students_after_their_teachers():
    said = []
    jobs = plan_sweep(["gat", "vgae"], ["student", "teacher"], ["no", "standard"], ["synthetic", "hcrl_ch"], [],
                      "automotive", ["training_config.epochs=1"], PROFILE, ResourceRequest(), CATALOG, say=said.append)
    assert len(jobs) == 2 * 2 * 3  # datasets x models x (student no, student standard, teacher no)
    assert "skipped 4 teacher x standard" in said[0]
    position = {job.key: index for index, job in enumerate(jobs)}
    kd = next(j for j in jobs if j.key == "automotive_hcrlch_supervised_gat_student_standard_all_samples")
    assert kd.after == ["automotive_hcrlch_supervised_gat_teacher_no_all_samples"]
    assert all(position[upstream] < position[job.key] for job in jobs for upstream in job.after)
    assert all(job.command[-1] == "training_config.epochs=1" for job in jobs)


def test_sweep_dependencies_follow_the_upstream_table(monkeypatch):
    from kdgat_schemas import UpstreamRule
    from kdgat_schemas import upstream_rules as table

    def plan():
        jobs = plan_sweep(["gat", "vgae"], ["student"], ["no"], ["synthetic"], ["all_samples", "normals_only"],
                          "automotive", [], PROFILE, ResourceRequest(), CATALOG)
        return {job.key: job.after for job in jobs}, [job.key for job in jobs]

    gat, vgae = GAT, "automotive_synthetic_unsupervised_vgae_student_no_normals_only"
    after, _ = plan()
    assert after[gat] == []
    extra = UpstreamRule(field="training_config.curriculum.vgae_run", role="extra VGAE", when={"model": ("gat",)},
                         becomes={"model": "vgae", "distillation": "no"}, modes=("normals_only",))
    monkeypatch.setattr(table, "UPSTREAM_RULES", (*table.UPSTREAM_RULES, extra))
    after, order = plan()
    assert after[gat] == [vgae] and order.index(vgae) < order.index(gat)


def test_sweep_refuses_modes_that_fit_no_model_and_unknown_sizes():
    with pytest.raises(PlanError, match="curriculm"):
        plan_sweep(["gat"], ["student"], ["no"], ["synthetic"], ["curriculm"], "automotive", [], PROFILE,
                   ResourceRequest(), CATALOG)
    with pytest.raises(PlanError, match="--sizes: huge"):
        plan_sweep(["gat"], ["huge"], ["no"], ["synthetic"], [], "automotive", [], PROFILE, ResourceRequest(), CATALOG)


def test_pipeline_is_one_job_per_stage_chained_by_the_dag_then_the_table():
    jobs = plan_pipeline("synthetic", "automotive", "normals_only", "curriculum", ["training_config.epochs=1"], PROFILE,
                         ResourceRequest(), CATALOG)
    assert len(jobs) == 12 and jobs[-1].key == "comparison_table"
    by_key = {job.key: job for job in jobs}
    assert by_key["gat_student_standard"].after == ["gat_teacher_no", "vgae_student_no"]
    assert by_key["dqn_student_no"].after == ["vgae_student_no", "gat_student_no"]
    assert by_key["mlp_student_standard"].after == ["gat_teacher_no"] and by_key["mlp_student_no"].after == []
    assert set(by_key["comparison_table"].after) == {job.key for job in jobs[:-1]}
    assert "pipeline.only=gat_student_standard" in by_key["gat_student_standard"].command
    assert "config_store=automotive_synthetic_pipeline" in by_key["gat_teacher_no"].command
    assert not any(a.startswith("pipeline.only") for a in by_key["comparison_table"].command)


def test_stage_resources_and_devices():
    [teacher] = plan_submit("automotive_synthetic_supervised_gat_teacher_no_all_samples", [], PROFILE,
                            ResourceRequest(gpus=2), CATALOG)
    assert (teacher.resources.time, teacher.resources.memory, teacher.resources.gpus_per_node) == ("08:00:00", "64G", 2)
    assert teacher.resources.ntasks_per_node == 2  # one srun task per GPU
    assert teacher.command[2:5] == ["device=cuda", "device.devices=2", "device.num_nodes=1"]
    [ddp_cpu] = plan_submit(GAT, ["device.devices=2"], PROFILE, ResourceRequest(), CATALOG)
    assert ddp_cpu.resources.ntasks_per_node == 2 and "device=cuda" not in ddp_cpu.command


def test_catalog_keys_domains_and_tokens_are_parsed_as_yaml(tmp_path):
    (tmp_path / "configs").mkdir()
    catalog = tmp_path / "configs" / "datasets.yaml"
    # flow style and other indentation: a line-by-line reader would fall back to automotive here
    catalog.write_text(
        "datasets:\n    synthetic: {domain: automotive, path: x}\n    iot_23:  # flows\n        domain: internet\n"
        "        path: y\n    water_synthetic:\n        {domain: watertreatment, token: synthetic, path: z}\n")
    assert known_datasets(tmp_path) == {"synthetic": ("automotive", "synthetic"), "iot_23": ("internet", "iot23"),
                                        "water_synthetic": ("watertreatment", "synthetic")}
    catalog.write_text("datasets:\n  road: {domain: automobile, path: x}\n")
    with pytest.raises(PlanError, match=r"datasets.yaml: datasets.road.domain: unknown domain 'automobile'"):
        known_datasets(tmp_path)
    catalog.unlink()
    with pytest.raises(PlanError, match="datasets.yaml: cannot read the dataset catalog"):
        known_datasets(tmp_path)


def test_a_domain_token_reaches_the_pipeline_of_that_domain():
    jobs = plan_pipeline("water_synthetic", "watertreatment", "normals_only", "all_samples", [], PROFILE,
                         ResourceRequest(), CATALOG)
    assert "config_store=watertreatment_synthetic_pipeline" in jobs[0].command


def test_pipeline_seeds_plan_one_chain_per_seed_then_one_job_for_the_tables_and_the_report():
    jobs = plan_pipeline("synthetic", "automotive", "normals_only", "all_samples", ["pipeline.seeds=[0, 3]"], PROFILE,
                         ResourceRequest(), CATALOG)
    by_key = {job.key: job for job in jobs}
    assert len(jobs) == 2 * 11 + 1 and jobs[-1].key == "comparison_tables_and_report"
    assert by_key["gat_student_standard_seed3"].after == ["gat_teacher_no_seed3"]
    assert by_key["dqn_student_no_seed0"].after == ["vgae_student_no_seed0", "gat_student_no_seed0"]
    assert "training_config.seed=3" in by_key["gat_teacher_no_seed3"].command
    assert not any(a.startswith("pipeline.seeds") for a in by_key["gat_teacher_no_seed0"].command)
    assert "pipeline.seeds=[0, 3]" in jobs[-1].command and set(jobs[-1].after) == {job.key for job in jobs[:-1]}
    with pytest.raises(PlanError, match="expected pipeline.seeds=\\[0,1,2\\]"):
        plan_pipeline("synthetic", "automotive", "normals_only", "all_samples", ["pipeline.seeds=0,1"], PROFILE,
                      ResourceRequest(), CATALOG)
    with pytest.raises(PlanError, match="both given"):
        plan_pipeline("synthetic", "automotive", "normals_only", "all_samples",
                      ["pipeline.seeds=[0,1]", "training_config.seed=4"], PROFILE, ResourceRequest(), CATALOG)
