"""Model-size presets from ``configs/model_sizes.toml``: family x size -> constructor arguments.

The sizes live in configuration; this module only reads them and checks every key against the
real constructor signature, so a preset can never name a parameter the model does not have.
"""

from __future__ import annotations

import inspect
import os
import tomllib
from pathlib import Path

from torch import nn

from kdgat_models.fusion.q_network import QNetwork
from kdgat_models.gat import GATWithJK
from kdgat_models.vgae import GraphAutoencoderNeighborhood

MODEL_CLASSES: dict[str, type[nn.Module]] = {"gat": GATWithJK, "vgae": GraphAutoencoderNeighborhood, "dqn": QNetwork}
PRESETS_RELATIVE_PATH = Path("configs") / "model_sizes.toml"


class PresetError(ValueError):
    """A presets file that does not parse or names an unknown family, size or argument."""


def find_presets_file(start: Path | None = None) -> Path:
    """``configs/model_sizes.toml`` in the cwd or the nearest parent (or $KDGAT_PROJECT_ROOT)."""
    roots = [Path(os.environ["KDGAT_PROJECT_ROOT"])] if os.environ.get("KDGAT_PROJECT_ROOT") else []
    here = (start or Path.cwd()).resolve()
    for folder in (*roots, here, *here.parents):
        if (folder / PRESETS_RELATIVE_PATH).is_file():
            return folder / PRESETS_RELATIVE_PATH
    raise PresetError(f"no {PRESETS_RELATIVE_PATH} in {here} or any parent folder; pass --presets")


def load_presets(path: str | os.PathLike[str] | None = None) -> dict[str, dict[str, dict]]:
    """``{family: {size: kwargs}}``, validated against the constructors."""
    path = Path(path) if path is not None else find_presets_file()
    try:
        presets = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise PresetError(f"{path}: not valid TOML: {error}") from None
    for family, sizes in presets.items():
        if family not in MODEL_CLASSES:
            raise PresetError(f"{path}: unknown model family [{family}]; expected one of {', '.join(MODEL_CLASSES)}")
        allowed = set(inspect.signature(MODEL_CLASSES[family]).parameters) - {"num_ids"}
        for size, kwargs in sizes.items():
            unknown = sorted(set(kwargs) - allowed)
            if unknown:
                raise PresetError(
                    f"{path}: [{family}.{size}] has unknown argument(s) {', '.join(unknown)}; "
                    f"{MODEL_CLASSES[family].__name__} takes {', '.join(sorted(allowed))}"
                )
    return presets


def build_model(family: str, size: str, presets: dict[str, dict[str, dict]], num_ids: int | None = None, **overrides) -> nn.Module:
    """Instantiate ``family`` at ``size`` (``num_ids`` for the GAT and VGAE), with overrides on top."""
    if family not in presets or size not in presets[family]:
        known = ", ".join(f"{f}.{s}" for f, sizes in presets.items() for s in sizes)
        raise PresetError(f"no preset {family}.{size}; known: {known}")
    kwargs = {**presets[family][size], **overrides}
    if family in ("gat", "vgae"):
        if num_ids is None:
            raise PresetError(f"{family} needs num_ids (the vocabulary size including UNK)")
        kwargs["num_ids"] = num_ids
    return MODEL_CLASSES[family](**kwargs)
