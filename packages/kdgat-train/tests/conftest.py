"""A tiny kdgat project (catalog + model sizes + small synthetic data) shared by the training tests."""

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SHARED_ROAD = REPO / ".." / "shared" / "data" / "can" / "road"
TINY_CATALOG = """
datasets:
  synthetic:
    domain: automotive
    path: data/automotive/synthetic
    format: can_train_test
    synthetic: {seed: 3, frames: 4000, attacks: [dos, fuzzing]}
  car2:
    domain: automotive
    path: data/automotive/car2
    format: can_train_test
    synthetic: {seed: 4, frames: 4000, attacks: [dos, fuzzing], vehicle: 1}
  road:
    domain: automotive
    path: %s
    format: road
    train: [fuzzing_attack_3.csv]
    test: {fuzzing_attack_2: [fuzzing_attack_2.csv]}
  missing_set:
    domain: automotive
    path: data/automotive/missing_set
  water_synthetic:
    domain: watertreatment
    token: synthetic
    path: data/watertreatment/synthetic
    synthetic: {seed: 1, frames: 1500}
    window: 24
    stride: 12
  flows_synthetic:
    domain: internet
    token: synthetic
    path: data/internet/synthetic
    synthetic: {seed: 1, frames: 4000}
    window: 50
    stride: 25
"""


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    """A project root with its own configs/, data/ and experimentruns/ (KDGAT_PROJECT_ROOT points at it)."""
    root = tmp_path_factory.mktemp("project")
    (root / "configs").mkdir()
    (root / "configs" / "datasets.yaml").write_text(TINY_CATALOG % SHARED_ROAD.resolve())
    shutil.copy(REPO / "configs" / "model_sizes.toml", root / "configs" / "model_sizes.toml")
    mp = pytest.MonkeyPatch()
    mp.setenv("KDGAT_PROJECT_ROOT", str(root))
    yield root
    mp.undo()


FAST = ["training_config.epochs=1", "training_config.batch_size=64", "device=cpu"]

TINY_SIZES = [
    "model_sizes.vgae_teacher.hidden_dim=32", "model_sizes.vgae_teacher.latent_dim=8", "model_sizes.vgae_teacher.heads=1",
    "model_sizes.gat_teacher.hidden_dim=16", "model_sizes.gat_teacher.num_layers=2", "model_sizes.gat_teacher.heads=2",
    "model_sizes.dqn_teacher.hidden_dim=32",
]
WINDOWS = ["dataset_config.window=50", "dataset_config.stride=25"]


@pytest.fixture(scope="session")
def two_cars(project, tmp_path_factory):
    """One pipeline per synthetic car (same runs root, one MLflow database); shared by the cross-dataset and
    deployment tests."""
    from kdgat_train.api import train

    root = tmp_path_factory.mktemp("cross_runs")
    common = [*FAST, *TINY_SIZES, *WINDOWS, f"runs_root={root}"]
    [first] = train(["config_store=automotive_synthetic_pipeline", *common], project_root=project)
    [second] = train(["config_store=automotive_car2_pipeline", *common], project_root=project)
    return root, first, second


GAT_TEACHER = "automotive_synthetic_supervised_gat_teacher_no_all_samples"
VGAE_TEACHER = "automotive_synthetic_unsupervised_vgae_teacher_no_all_samples"


@pytest.fixture(scope="session")
def kd_runs(project, tmp_path_factory):
    """``(runs root, common overrides, GAT teacher run, VGAE teacher run)``: two small teachers trained once."""
    from kdgat_train.api import train

    root = tmp_path_factory.mktemp("kd_runs")
    common = [*FAST, f"runs_root={root}"]
    [gat_teacher] = train([f"config_store={GAT_TEACHER}", *common, "model_size_config.hidden_dim=16",
                           "model_size_config.num_layers=2"], project_root=project)
    [vgae_teacher] = train([f"config_store={VGAE_TEACHER}", *common, "model_size_config.hidden_dim=32",
                            "model_size_config.latent_dim=12"], project_root=project)
    return root, common, gat_teacher, vgae_teacher
