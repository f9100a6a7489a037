"""Exported scorers (ONNX through onnxruntime, TorchScript, AOTInductor packages) give eager PyTorch's
scores within 1e-4 on batches of another size than the one they were traced on, a single window
included; a wrong file is refused with its name.
(The fusion scorer's ONNX export is tested on a trained run in kdgat-train's deployment tests.)"""

import numpy as np
import pytest
import torch
from kdgat_models import GATWithJK, GraphAutoencoderNeighborhood
from kdgat_models.example_graphs import example_batch
from kdgat_models.fusion import STATE_DIM, QNetwork
from kdgat_models.scorer_export import FORMATS, EagerScorer, ExportError, export_scorer, load_scorer
from kdgat_models.self_loops import SelfLoops
from kdgat_models.window_mlp import WindowMLP
from kdgat_models.window_scorer import (
    INPUT_NAMES,
    FusionWindowScorer,
    GATWindowScorer,
    MLPWindowScorer,
    VGAEWindowScorer,
)

NUM_IDS = 60


def scorer(family: str):
    torch.manual_seed(1)
    gat = GATWithJK(num_ids=NUM_IDS, hidden_dim=8, heads=2, add_self_loops=False)
    vgae = GraphAutoencoderNeighborhood(NUM_IDS, hidden_dim=8, num_layers=1, latent_dim=4, add_self_loops=False)
    if family == "gat":
        return GATWindowScorer(gat=gat)
    if family == "vgae":
        return VGAEWindowScorer(vgae=vgae, window=60)
    if family == "mlp":
        return MLPWindowScorer(mlp=WindowMLP(num_ids=NUM_IDS, in_channels=10, hidden_dim=8))
    return FusionWindowScorer(vgae=vgae.eval(), gat=gat.eval(), q_network=QNetwork(state_dim=STATE_DIM, num_actions=21),
                              reference=torch.linspace(0, 3, 500), window=60)


def inputs(num_graphs: int, seed: int) -> dict[str, np.ndarray]:
    batch = SelfLoops()(example_batch(num_graphs, num_ids=NUM_IDS, seed=seed, max_nodes=50))
    tensors = dict(zip(INPUT_NAMES, (batch.x, batch.node_id, batch.edge_index, batch.edge_attr, batch.batch, batch.ptr),
                       strict=True))
    return {name: value.numpy() for name, value in tensors.items()}


@pytest.mark.slow
@pytest.mark.parametrize(("family", "export_format"), [("gat", "onnx"), ("vgae", "onnx"), ("gat", "torchscript"),
                                                       ("vgae", "torchscript"), ("dqn", "torchscript"), ("gat", "aoti"),
                                                       ("vgae", "aoti"), ("mlp", "onnx")])
def test_an_export_scores_like_eager_on_batches_it_was_not_traced_on(tmp_path, family, export_format):
    model = scorer(family)
    example = {name: torch.from_numpy(value) for name, value in inputs(4, seed=0).items()}
    path = export_scorer(model, example, tmp_path / FORMATS[export_format], export_format)
    exported, eager = load_scorer(path), EagerScorer(scorer=model)
    for num_graphs, seed in ((37, 1), (1, 2)):
        batch = inputs(num_graphs, seed)
        (score, node_score), (want, want_nodes) = exported(batch), eager(batch)
        assert score.shape == (num_graphs,) and node_score.shape == (len(batch["x"]),)
        np.testing.assert_allclose(score, want, atol=1e-4 + (1 / 500 if family == "dqn" else 0), rtol=0)
        np.testing.assert_allclose(node_score, want_nodes, atol=1e-4, rtol=0)
    batch = inputs(64, seed=3)
    first = exported(batch)[0]
    # repeated scoring: ONNX bit-identical (one thread: no racing ScatterND); torch's threads may only
    # reorder float sums (3e-8 measured with two)
    worst = max(float(np.abs(exported(batch)[0] - first).max()) for _ in range(30))
    assert worst == 0.0 if export_format == "onnx" else worst < 1e-6


def test_files_that_are_not_exported_scorers_are_refused(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ExportError, match="model.onnx: not an ONNX scorer"):
        load_scorer(tmp_path / "model.onnx")
    (tmp_path / "model.pt2").write_bytes(b"not a package")
    with pytest.raises(ExportError, match="model.pt2: not an AOTInductor scorer package"):
        load_scorer(tmp_path / "model.pt2")
    with pytest.raises(ExportError, match="model.onnx, model.pt or model.pt2"):
        load_scorer(tmp_path / "weights.bin")
    with pytest.raises(ExportError, match="format must be one of"):
        export_scorer(scorer("gat"), {}, tmp_path / "m", "tflite")
