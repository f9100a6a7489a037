"""Model-size presets: family x size -> constructor arguments.

The published sizes ship inside this package (``model_sizes.toml`` next to this file), so the
presets work from a plain install; a project's ``configs/model_sizes.toml`` (or a file given
explicitly) overrides them table by table. Every key is checked against the real constructor
signature, so a preset can never name a parameter the model does not have.
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
from kdgat_models.window_mlp import WindowMLP

MODEL_CLASSES: dict[str, type[nn.Module]] = {"gat": GATWithJK, "vgae": GraphAutoencoderNeighborhood, "dqn": QNetwork,
                                             "mlp": WindowMLP}
PRESETS_RELATIVE_PATH = Path("configs") / "model_sizes.toml"


class PresetError(ValueError):
    """A presets file that does not parse or names an unknown family, size or argument."""


PACKAGED_PRESETS = Path(__file__).with_name("model_sizes.toml")


def find_presets_file(start: Path | None = None) -> Path | None:
    """``configs/model_sizes.toml`` of $KDGAT_CONFIG_ROOT (a cluster job's frozen snapshot), of
    $KDGAT_PROJECT_ROOT, or in the cwd or the nearest parent; None if none."""
    roots = [Path(os.environ[name]) for name in ("KDGAT_CONFIG_ROOT", "KDGAT_PROJECT_ROOT") if os.environ.get(name)]
    here = (start or Path.cwd()).resolve()
    for folder in (*roots, here, *here.parents):
        if (folder / PRESETS_RELATIVE_PATH).is_file():
            return folder / PRESETS_RELATIVE_PATH
    return None


def _read(path: Path) -> dict[str, dict[str, dict]]:
    try:
        presets = tomllib.loads(path.read_text())
    except OSError as error:
        raise PresetError(f"{path}: cannot read the size presets: {error.strerror}") from None
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


def load_presets(path: str | os.PathLike[str] | None = None) -> dict[str, dict[str, dict]]:
    """``{family: {size: kwargs}}``, validated against the constructors: the packaged presets with
    each ``[family.size]`` table of ``path`` (default: the project's configs/model_sizes.toml, if
    any) replacing the packaged table of that name."""
    presets = _read(PACKAGED_PRESETS)
    override = Path(path) if path is not None else find_presets_file()
    if override is not None:
        for family, sizes in _read(override).items():
            presets.setdefault(family, {}).update(sizes)
    return presets


def build_model(family: str, size: str, presets: dict[str, dict[str, dict]], num_ids: int | None = None, **overrides) -> nn.Module:
    """Instantiate ``family`` at ``size`` (``num_ids`` for the GAT and VGAE), with overrides on top."""
    if family not in presets or size not in presets[family]:
        known = ", ".join(f"{f}.{s}" for f, sizes in presets.items() for s in sizes)
        raise PresetError(f"no preset {family}.{size}; known: {known}")
    kwargs = {**presets[family][size], **overrides}
    if "num_ids" in inspect.signature(MODEL_CLASSES[family]).parameters:  # the graph models' vocabulary
        if num_ids is None:
            raise PresetError(f"{family} needs num_ids (the vocabulary size including UNK)")
        kwargs["num_ids"] = num_ids
    return MODEL_CLASSES[family](**kwargs)
