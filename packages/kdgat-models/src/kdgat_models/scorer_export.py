"""Export a `WindowScorer` to ONNX, TorchScript or an AOTInductor package, and run every form the same way.

ONNX goes through torch's exporter (``torch.export``, dynamic nodes / edges / graphs) and runs with
onnxruntime; TorchScript is a trace (the scorers have no data-dependent Python control flow, and
their sizes come from input shapes, so the trace holds for any batch); ``aoti`` is the same
``torch.export`` program compiled ahead of time by Inductor into a ``.pt2`` package (a shared
library of fused C++ kernels: it needs a C++ compiler to export, only torch to run, and runs on
CPUs with the exporting machine's instruction set). `load_scorer` gives one callable for an
exported file, `EagerScorer` the same for the module itself: numpy arrays in,
``(score (G,), node_score (N,))`` numpy arrays out.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from kdgat_models.window_scorer import INPUT_NAMES, OUTPUT_NAMES, WindowScorer

FORMATS = {"onnx": "model.onnx", "torchscript": "model.pt", "aoti": "model.pt2"}


class ExportError(RuntimeError):
    """A scorer that could not be exported, or a file that is not an exported scorer."""


def export_scorer(scorer: WindowScorer, example: dict[str, torch.Tensor], path: Path, export_format: str) -> Path:
    """Write ``scorer`` to ``path`` as ``export_format`` (``onnx`` | ``torchscript`` | ``aoti``), traced on ``example``.

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
        if export_format == "aoti":
            return _export_aoti(scorer, args, shapes, path)
        try:
            torch.onnx.export(scorer, args, str(path), dynamo=True, dynamic_shapes=shapes, input_names=list(INPUT_NAMES),
                              output_names=list(OUTPUT_NAMES), verbose=False)
        except Exception as error:  # the exporter's own errors are many types; name the model and the cause
            raise ExportError(f"ONNX export of the {scorer.family} scorer failed: {type(error).__name__}: "
                              f"{str(error).splitlines()[0][:300]}") from error
    return path


def _export_aoti(scorer: WindowScorer, args: tuple, shapes: dict, path: Path) -> Path:
    """``torch.export`` with dynamic nodes / edges / graphs, compiled by AOTInductor into ``path`` (``.pt2``).
    torch.export specialises sizes 0 and 1, so the program holds for batches of at least two windows
    (`AotiScorer` pads a single window to two)."""
    shapes = {**shapes, "node_ptr": {0: torch.export.Dim("graphs_plus_one", min=MIN_AOTI_GRAPHS + 1)}}
    try:
        with _quiet_cuda_home_notice():
            from torch._inductor import aoti_compile_and_package

            program = torch.export.export(scorer, args, dynamic_shapes=shapes)
            aoti_compile_and_package(program, package_path=str(path))
    except Exception as error:  # the exporter's and the C++ compiler's errors are many types
        raise ExportError(f"AOTInductor export of the {scorer.family} scorer failed (it needs a C++ compiler): "
                          f"{type(error).__name__}: {str(error).splitlines()[0][:300]}") from error
    return path


@contextmanager
def _quiet_cuda_home_notice() -> Iterator[None]:
    """Inside the block, torch.utils.cpp_extension (used by Inductor) logs errors only: on a CPU-only
    machine it warns of a CUDA_HOME guess that says nothing to a user. The level is restored after."""
    logger = logging.getLogger("torch.utils.cpp_extension")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


MIN_AOTI_GRAPHS = 2  # windows per call an AOTInductor scorer is compiled for, at least


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


class AotiScorer:
    """An AOTInductor package (``model.pt2``): the scorer's kernels compiled ahead of time, run by torch.

    A call of one window is scored as two copies of it (the package is compiled for at least
    `MIN_AOTI_GRAPHS` windows, see `_export_aoti`) and the first copy's scores are returned.
    """

    def __init__(self, *, path: Path) -> None:
        try:
            with _quiet_cuda_home_notice(), warnings.catch_warnings():
                from torch._inductor import aoti_load_package

                warnings.simplefilter("ignore")
                self.module = aoti_load_package(str(path))
        except Exception as error:  # a missing, foreign or corrupt package: RuntimeError, zipfile errors
            raise ExportError(f"{path}: not an AOTInductor scorer package ({str(error).splitlines()[0][:200]})") from None

    def __call__(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        graphs, nodes = len(inputs["node_ptr"]) - 1, len(inputs["x"])
        if graphs < MIN_AOTI_GRAPHS:
            inputs = _doubled(inputs)
        with torch.no_grad():
            score, node_score = self.module(*(torch.from_numpy(inputs[name]) for name in INPUT_NAMES))
        return score.numpy()[:graphs], node_score.numpy()[:nodes]


def _doubled(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A batch of G windows followed by a copy of itself (2G windows; the copy's nodes and graph indices shifted)."""
    nodes, graphs = len(inputs["x"]), len(inputs["node_ptr"]) - 1
    return {
        "x": np.concatenate([inputs["x"]] * 2), "node_id": np.concatenate([inputs["node_id"]] * 2),
        "edge_index": np.concatenate([inputs["edge_index"], inputs["edge_index"] + nodes], axis=1),
        "edge_attr": np.concatenate([inputs["edge_attr"]] * 2),
        "batch": np.concatenate([inputs["batch"], inputs["batch"] + graphs]),
        "node_ptr": np.concatenate([inputs["node_ptr"], inputs["node_ptr"][1:] + nodes]),
    }


def load_scorer(path: Path):
    """The callable of an exported scorer file: ``.onnx`` -> `OnnxScorer`, ``.pt`` -> `TorchScriptScorer`,
    ``.pt2`` -> `AotiScorer` (TorchScript and AOTInductor run on torch's threads: ``torch.set_num_threads``)."""
    path = Path(path)
    if path.suffix == ".onnx":
        return OnnxScorer(path=path)
    if path.suffix == ".pt":
        return TorchScriptScorer(path=path)
    if path.suffix == ".pt2":
        return AotiScorer(path=path)
    raise ExportError(f"{path}: an exported scorer is model.onnx, model.pt or model.pt2")
