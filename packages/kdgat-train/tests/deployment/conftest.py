"""The student GAT, VGAE and DQN fusion runs of the first synthetic car's pipeline (the session's
`two_cars`), shared by the deployment tests, and the test capture they are replayed on."""

import json
from pathlib import Path

import pytest

STAGES = {"gat": "gat_student_no", "vgae": "vgae_student_no", "dqn": "dqn_student_no"}


@pytest.fixture(scope="package")
def student_runs(two_cars) -> dict[str, Path]:
    _, first, _ = two_cars
    stages = {s["stage"]: Path(s["run_dir"]) for s in json.loads((first / "pipeline.json").read_text())["stages"]}
    return {family: stages[key] for family, key in STAGES.items()}


@pytest.fixture(scope="package")
def dos_capture(project, student_runs) -> Path:
    """The DoS test scenario's one capture file (generated with the dataset by the pipeline)."""
    [capture] = sorted((project / "data" / "automotive" / "synthetic").glob("test_*dos*/*.csv"))
    return capture
