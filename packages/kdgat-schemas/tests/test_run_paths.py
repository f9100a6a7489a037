import subprocess
import sys

from kdgat_schemas import ExperimentName, RunPaths

STAGE = ExperimentName.parse("automotive_synthetic_supervised_gat_student_no_all_samples")


def test_variant_dir_follows_the_run_tree(tmp_path):
    paths = RunPaths(tmp_path)
    expected = tmp_path / "automotive/synthetic/supervised/gat/student/no/all_samples"
    assert paths.variant_dir(STAGE) == expected
    assert paths.variant_dir(ExperimentName.parse("automotive_synthetic_pipeline")) == tmp_path / "automotive/synthetic/pipeline"
    assert paths.mlflow_uri == f"sqlite:///{tmp_path}/mlflow.db"


def test_allocation_numbers_runs_in_order(tmp_path):
    paths = RunPaths(tmp_path)
    first, second = paths.allocate_run_dir(STAGE), paths.allocate_run_dir(STAGE)
    assert (first.name, second.name) == ("run_001", "run_002")
    assert paths.existing_runs(STAGE) == [first, second]
    assert RunPaths.run_number(second) == 2


_ALLOCATE = """
import sys
from kdgat_schemas import ExperimentName, RunPaths
name = ExperimentName.parse("automotive_synthetic_supervised_gat_student_no_all_samples")
paths = RunPaths(sys.argv[1])
print("\\n".join(str(paths.allocate_run_dir(name)) for _ in range(10)))
"""


def test_concurrent_processes_never_share_a_run_folder(tmp_path):
    processes = [
        subprocess.Popen([sys.executable, "-c", _ALLOCATE, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    allocated = [line for p in processes for line in p.communicate(timeout=60)[0].split()]
    assert all(p.returncode == 0 for p in processes)
    assert len(allocated) == 40
    assert len(set(allocated)) == 40
    assert sorted(RunPaths.run_number(p) for p in allocated) == list(range(1, 41))
