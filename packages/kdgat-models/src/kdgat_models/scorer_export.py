"""Export a `WindowScorer` to ONNX or TorchScript, and run any of the three forms the same way.

ONNX goes through torch's exporter (``torch.export``, dynamic nodes / edges / graphs) and runs with
onnxruntime; TorchScript is a trace (the scorers have no data-dependent Python control flow, and
their sizes come from input shapes, so the trace holds for any batch). `load_scorer` gives one
callable for an exported file, `EagerScorer` the same for the module itself: numpy arrays in,
``(score (G,), node_score (N,))`` numpy arrays out.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from kdgat_models.window_scorer import INPUT_NAMES, OUTPUT_NAMES, WindowScorer

FORMATS = {"onnx": "model.onnx", "torchscript": "model.pt"}


class ExportError(RuntimeError):
    """A scorer that could not be exported, or a file that is not an exported scorer."""


def export_scorer(scorer: WindowScorer, example: dict[str, torch.Tensor], path: Path, export_format: str) -> Path:
    """Write ``scorer`` to ``path`` as ``export_format`` (``onnx`` | ``torchscript``), traced on ``example``.

    Args:
        example: the inputs of one batch (`INPUT_NAMES` -> tensor), with at least two graphs.
    """
    if export_format not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, got {export_format!r}")
    args = tuple(example[name] for name in INPUT_NAMES)
    path = Path(path)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # torch.jit's deprecation notice, the exporter's shape notes
        if export_format == "torchscript":
            torch.jit.save(torch.jit.trace(scorer, args, check_trace=False), str(path))
            return path
        nodes, edges, graphs = torch.export.Dim("nodes"), torch.export.Dim("edges"), torch.export.Dim("graphs_plus_one")
        shapes = {"x": {0: nodes}, "node_id": {0: nodes}, "edge_index": {1: edges}, "edge_attr": {0: edges},
                  "batch": {0: nodes}, "node_ptr": {0: graphs}}
        try:
            torch.onnx.export(scorer, args, str(path), dynamo=True, dynamic_shapes=shapes, input_names=list(INPUT_NAMES),
                              output_names=list(OUTPUT_NAMES), verbose=False)
        except Exception as error:  # the exporter's own errors are many types; name the model and the cause
            raise ExportError(f"ONNX export of the {scorer.family} scorer failed: {type(error).__name__}: "
                              f"{str(error).splitlines()[0][:300]}") from error
    return path


class EagerScorer:
    """A `WindowScorer` module behind the same call as an exported file."""

    def __init__(self, *, scorer: WindowScorer) -> None:
        self.scorer = scorer.eval()

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            score, node_score = self.scorer(*(torch.from_numpy(inputs[name]) for name in INPUT_NAMES))
        return score.numpy(), node_score.numpy()


class TorchScriptScorer:
    """An exported TorchScript scorer (``model.pt``)."""

    def __init__(self, *, path: Path) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # torch.jit's deprecation notice
                self.module = torch.jit.load(str(path), map_location="cpu").eval()
        except (RuntimeError, ValueError) as error:
            raise ExportError(f"{path}: not a TorchScript scorer ({str(error).splitlines()[0][:200]})") from None

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            score, node_score = self.module(*(torch.from_numpy(inputs[name]) for name in INPUT_NAMES))
        return score.numpy(), node_score.numpy()


class OnnxScorer:
    """An exported ONNX scorer (``model.onnx``) run by onnxruntime on the CPU, on one intra-op thread.

    One thread, always: with two, onnxruntime's accumulating ScatterND (the message sums) races on
    rows that several edges share, and the same batch scored 200 times differed by up to 0.015
    (measured with onnxruntime 1.32). Scale out with one detector process per core instead.
    """

    def __init__(self, *, path: Path) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise ExportError(f"{path}: running an ONNX export needs onnxruntime (pip install 'kdgat-models[export]')") from None

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own Fail / InvalidGraph types
            raise ExportError(f"{path}: not an ONNX scorer ({str(error).splitlines()[0][:200]})") from None
        names = tuple(i.name for i in self.session.get_inputs())
        if set(names) != set(INPUT_NAMES):
            raise ExportError(f"{path}: inputs {names}, expected {INPUT_NAMES}")

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        score, node_score = self.session.run(list(OUTPUT_NAMES), {name: inputs[name] for name in INPUT_NAMES})
        return score, node_score


def load_scorer(path: Path):
    """The callable of an exported scorer file: ``.onnx`` -> `OnnxScorer`, ``.pt`` -> `TorchScriptScorer`
    (TorchScript runs on torch's threads: ``torch.set_num_threads``)."""
    path = Path(path)
    if path.suffix == ".onnx":
        return OnnxScorer(path=path)
    if path.suffix == ".pt":
        return TorchScriptScorer(path=path)
    raise ExportError(f"{path}: an exported scorer is model.onnx or model.pt")
