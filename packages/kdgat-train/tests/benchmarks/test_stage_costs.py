"""benchmarks/stage_costs.py: each stage's cost and the KD epoch ratio, read from a pipeline's run.json files."""

import json
from pathlib import Path

import pytest

from .conftest import load_benchmark


@pytest.fixture(scope="module")
def stage_costs():
    return load_benchmark("stage_costs")


def _pipeline(root: Path, train_s: dict[str, float]) -> Path:
    stages = []
    for key, seconds in train_s.items():
        run = root / key
        run.mkdir(parents=True)
        upstream = {"distillation_config.teacher_run": "t"} if key in ("gat_student_standard",) else {}
        if key == "dqn_student_standard":
            upstream = {"training_config.fusion.gat_run": "g"}
        timings = {"train_s": seconds, "epochs": 10.0, "train_windows_per_s": 1000.0, "stage_wall_s": seconds + 2}
        (run / "run.json").write_text(json.dumps({"timings": timings, "upstream_runs": upstream}))
        stages.append({"stage": key, "run_dir": str(run)})
    folder = root / "pipeline"
    folder.mkdir()
    (folder / "pipeline.json").write_text(json.dumps({"stages": stages}))
    return folder


def test_the_kd_ratio_divides_a_distilled_students_epoch_by_its_plain_twin(stage_costs, tmp_path, capsys):
    folder = _pipeline(tmp_path, {"gat_teacher_no": 60.0, "gat_student_no": 5.0, "gat_student_standard": 6.0,
                                  "dqn_student_no": 1.0, "dqn_student_standard": 2.0})
    costs = stage_costs.stage_costs(folder)
    assert costs["gat_teacher_no"]["train_s_per_epoch"] == 6.0 and costs["gat_student_no"]["stage_wall_s"] == 7.0
    assert stage_costs.kd_ratios(costs) == {"gat": pytest.approx(1.2)}  # the fusion of KD students is not distilled
    assert stage_costs.main([str(folder)]) == 0
    said = capsys.readouterr().out
    assert "| gat_student_standard | 0.60 | 1000 | 8.0 |" in said and "  gat: 1.20" in said
