"""Fusion stage: DQN over frozen VGAE + GAT; predictions from the fused score; epsilon decays; comparators reported."""

import json

import pytest
import torch
from kdgat_schemas import RunRecord
from kdgat_train.api import train
from kdgat_train.stages.single_stage import build_stage
from mlflow.tracking import MlflowClient

from .conftest import FAST
from .test_config import _compose, settings_from

VGAE = "automotive_synthetic_unsupervised_vgae_student_no_normals_only"
GAT = "automotive_synthetic_supervised_gat_student_no_all_samples"
DQN = "automotive_synthetic_fusion_dqn_student_no_all_samples"


@pytest.fixture(scope="module")
def fused(project, tmp_path_factory):
    root = tmp_path_factory.mktemp("fusion_runs")
    common = [*FAST, f"runs_root={root}"]
    [vgae] = train([f"config_store={VGAE}", *common], project_root=project)
    [gat] = train([f"config_store={GAT}", *common], project_root=project)
    [dqn] = train([f"config_store={DQN}", *common, "training_config.epochs=3"], project_root=project)
    return root, vgae, gat, dqn


def test_fusion_stage_fuses_the_same_variant_and_reports_every_method(fused):
    root, vgae, gat, dqn = fused
    record = RunRecord.read(dqn)
    assert record.status == "COMPLETED"
    assert f"fusion of VGAE run {vgae} and GAT run {gat}" in (dqn / "train.log").read_text()
    results = json.loads((dqn / "metrics.json").read_text())
    rule = results.pop("threshold_rule")
    assert rule["configured"] == "f1" and rule["value"] == results["val"]["threshold"]
    assert set(results) == {"val", "test/dos", "test/fuzzing"}
    assert len({m["threshold"] for m in results.values()}) == 1  # chosen on validation, reused on the tests
    comparators = json.loads((dqn / "comparators.json").read_text())
    assert set(comparators["mlp"]) == {*results, "threshold_rule"} and 0 <= comparators["fixed_alpha"]["alpha"] <= 1
    for key in ("test/dos/f1", "mlp/test/dos/f1", "fixed_alpha/test/fuzzing/f1", "fixed_alpha/alpha",
                "model/parameters", "model/inference_windows_per_s"):
        assert key in record.metrics, key
    parts = [RunRecord.read(gat).metrics["model/parameters"], RunRecord.read(vgae).metrics["model/parameters"]]
    assert record.metrics["model/parameters"] > sum(parts)  # VGAE + GAT + the Q-network
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    assert client.get_run(record.mlflow_run_id).data.metrics["mlp/test/dos/f1"] == pytest.approx(comparators["mlp"]["test/dos"]["f1"])


def test_epsilon_decays_over_training(fused):
    root, *_, dqn = fused
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    history = [m.value for m in sorted(client.get_metric_history(RunRecord.read(dqn).mlflow_run_id, "train/epsilon"),
                                       key=lambda m: m.step)]
    assert len(history) == 3 and history[0] > history[1] > history[2]
    assert history[0] <= 1.0 and history[-1] < 0.5


def _fusion_stage(project, root, tmp_path, overrides=()):
    settings = settings_from(_compose(project, [f"config_store={DQN}", *FAST, f"runs_root={root}", *overrides]))
    return settings, build_stage(settings, tmp_path)


def test_predictions_come_from_the_fused_score_not_from_alpha(project, fused, tmp_path):
    from kdgat_train.evaluation.metrics import binary_metrics

    root, *_ = fused
    _, stage = _fusion_stage(project, root, tmp_path)
    module, inputs = stage.module, stage.datamodule.inputs("test/dos")
    with torch.no_grad():  # make the greedy policy pick alpha = 1 (> 0.5) for every window
        module.net.net[-1].weight.zero_()
        module.net.net[-1].bias.copy_(torch.arange(21, dtype=torch.float))
    scores = module.fused_scores(*inputs.tensors()[:3])
    assert torch.allclose(scores, inputs.p_attack)  # alpha = 1: the score is the GAT's probability
    labels = inputs.y.numpy()
    low, high = binary_metrics(scores.numpy(), labels, 0.05), binary_metrics(scores.numpy(), labels, 0.95)
    predicted_low = low["true_positives"] + low["false_positives"]
    predicted_high = high["true_positives"] + high["false_positives"]
    assert predicted_low != predicted_high  # the threshold decides
    assert predicted_high < len(labels)  # alpha > 0.5 everywhere, yet not everything is called an attack


# every field the fusion DQN uses, proved by test_every_fusion_field_lands (the DQN trains on one device
# by design, whatever device.devices / num_nodes a cluster job passes to every stage; the dataset fields
# reach it through the same cache as the graph stages, proved there: a DQN at another window needs
# a VGAE and a GAT trained at that window)
FUSION_FIELDS_PROVED = {
    "fusion.epsilon_start", "fusion.epsilon_end", "fusion.epsilon_decay", "fusion.gamma", "fusion.target_sync_every",
    "fusion.replay_capacity", "fusion.vgae_run", "fusion.gat_run", "fusion.alpha_grid", "threshold", "min_class_windows",
    "epochs", "batch_size", "learning_rate", "seed", "patience", "evaluation_batch_size",
    "name", "window", "stride", "validation_fraction", "accelerator", "precision", "devices", "num_nodes",
    "threads", "train_stride", "features",  # features: test_upstream_runs_of_other_features_are_refused
}


def test_every_fusion_field_lands(project, fused, tmp_path):
    from kdgat_train.fusion.fusion_evaluation import evaluate_fusion

    root, vgae, gat, _ = fused
    settings, stage = _fusion_stage(project, root, tmp_path, [
        "training_config.fusion.epsilon_start=0.9", "training_config.fusion.epsilon_end=0.1",
        "training_config.fusion.epsilon_decay=0.5", "training_config.fusion.gamma=0.3",
        "training_config.fusion.target_sync_every=7", "training_config.fusion.replay_capacity=999",
        f"training_config.fusion.vgae_run={vgae}", f"training_config.fusion.gat_run={gat}",
        "evaluation.threshold=youden", "evaluation.min_class_windows=2", "training_config.epochs=2", "training_config.batch_size=64",
        "training_config.fusion.alpha_grid=11", "training_config.learning_rate=0.02", "training_config.seed=9",
        "training_config.patience=4", "training_config.evaluation_batch_size=33", "device.precision=bf16-mixed",
        "device.threads=1", "dataset_config.train_stride=40",
    ])
    agent, data, trainer = stage.module.agent, stage.datamodule, stage.trainer
    early = [c for c in trainer.callbacks if type(c).__name__ == "EarlyStopping"][0]
    manifest = data.prepare().manifest
    assert (agent.num_actions, agent.alphas[1].item()) == (11, pytest.approx(0.1))
    assert agent.optimizer.param_groups[0]["lr"] == 0.02 and data.train_dataloader().generator.initial_seed() == 9
    assert early.patience == 4 and trainer.max_epochs == 2 and data.evaluation_batch_size == 33
    assert trainer.precision == "bf16-mixed" and type(trainer.accelerator).__name__ == "CPUAccelerator"
    assert torch.get_num_threads() == 1
    assert (manifest.window, manifest.stride) == (settings.dataset_config.window, settings.dataset_config.stride)
    assert manifest.train_stride == 40
    steps = 2 * -(-len(data.inputs("train")) // 64)
    assert (agent.epsilon.start, agent.epsilon.end) == (0.9, 0.1)
    assert agent.epsilon.decay_steps == pytest.approx(0.5 * steps)
    assert (agent.gamma, agent.target_sync_every, agent.buffer.capacity) == (0.3, 7, 999)
    assert stage.module.source_runs == {"vgae": str(vgae), "gat": str(gat)}
    youden = evaluate_fusion(stage.module, data, tmp_path, settings.training_config, settings.evaluation)
    assert youden.tags["threshold_rule"] == "youden" and "threshold_fallback" not in youden.tags, youden.tags
    # the rule lands: a fixed threshold is used as given, and Youden's is not that value (f1 and Youden
    # can pick the same cut on these few validation windows, so they are not compared with each other)
    fixed_rule = settings.evaluation.model_copy(update={"threshold": "fixed:0.123"})
    fixed = evaluate_fusion(stage.module, data, tmp_path, settings.training_config, fixed_rule)
    assert fixed.results["val"]["threshold"] == 0.123 != youden.results["val"]["threshold"]
    assert fixed.tags["threshold_rule"] == "fixed:0.123"
    strict = settings.evaluation.model_copy(update={"min_class_windows": 10**6})  # min_class_windows lands: fallback
    assert evaluate_fusion(stage.module, data, tmp_path, settings.training_config, strict).tags["threshold_rule"] == "fpr:0.01"


def test_missing_vgae_or_gat_prints_the_command_that_trains_it(project, tmp_path):
    with pytest.raises(SystemExit) as error:
        train([f"config_store={DQN}", *FAST, f"runs_root={tmp_path}"], project_root=project)
    assert f"uv run kdgat-train config_store={VGAE} dataset_config.name=synthetic" in str(error.value)
    assert not list(tmp_path.glob("**/run_*"))


def test_upstream_runs_of_other_features_are_refused(project, fused):
    """A fusion (or KD, curriculum) stage uses the features of the runs it loads: ``dynamics`` graphs
    on anchor-trained VGAE and GAT runs are refused before a run folder is made."""
    root, vgae, *_ = fused
    before = sorted(root.glob("**/run_*"))
    with pytest.raises(SystemExit, match=r"trained with dataset_config.features=\(the default\), this stage uses dynamics"):
        train([f"config_store={DQN}", *FAST, f"runs_root={root}", "dataset_config.features=dynamics"], project_root=project)
    assert sorted(root.glob("**/run_*")) == before
