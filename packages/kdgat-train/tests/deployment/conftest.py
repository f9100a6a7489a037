"""Three tiny student runs on the small synthetic car (GAT, VGAE, their DQN fusion), shared by the
deployment tests, and the test capture they are replayed on."""

from pathlib import Path

import pytest
from kdgat_train.api import train

from ..conftest import FAST

WINDOWS = ["dataset_config.window=50", "dataset_config.stride=25"]
STAGES = {
    "gat": "automotive_synthetic_supervised_gat_student_no_all_samples",
    "vgae": "automotive_synthetic_unsupervised_vgae_student_no_all_samples",
    "dqn": "automotive_synthetic_fusion_dqn_student_no_all_samples",
}


@pytest.fixture(scope="package")
def student_runs(project, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("deployment_runs")
    runs = {}
    for family, preset in STAGES.items():
        [runs[family]] = train([f"config_store={preset}", *FAST, *WINDOWS, f"runs_root={root}"], project_root=project)
    return runs


@pytest.fixture(scope="package")
def dos_capture(project, student_runs) -> Path:
    """The DoS test scenario's one capture file (generated with the dataset by the first run)."""
    [capture] = sorted((project / "data" / "automotive" / "synthetic").glob("test_*dos*/*.csv"))
    return capture
