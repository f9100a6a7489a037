"""The run tree of DESIGN.md §6 and atomic allocation of ``run_NNN`` folders."""

from __future__ import annotations

import os
import re
from pathlib import Path

from kdgat_schemas.experiment_name import ExperimentName

_RUN_DIR = re.compile(r"^run_(\d{3,})$")


class RunPaths:
    """Maps experiment names to folders under an ``experimentruns/`` root.

    Args:
        root: the ``experimentruns`` folder (created on demand).

    Example:
        >>> paths = RunPaths("experimentruns")
        >>> paths.variant_dir(ExperimentName.parse("automotive_synthetic_pipeline"))
        PosixPath('experimentruns/automotive/synthetic/pipeline')
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @property
    def mlflow_uri(self) -> str:
        return f"sqlite:///{(self.root / 'mlflow.db').as_posix()}"

    @property
    def artifacts_dir(self) -> Path:
        return self.root / "mlartifacts"

    def variant_dir(self, name: ExperimentName) -> Path:
        """``{domain}/{dataset}/{learning}/{model}/{size}/{distillation}/{mode}`` (or ``.../pipeline``,
        ``.../baseline/{method}``)."""
        if name.is_pipeline:
            return self.root / name.domain / name.dataset / "pipeline"
        if name.is_baseline:
            return self.root / name.domain / name.dataset / "baseline" / name.model
        return (
            self.root / name.domain / name.dataset / name.learning / name.model
            / name.size / name.distillation / name.mode
        )

    def existing_runs(self, name: ExperimentName) -> list[Path]:
        """Run folders of ``name`` sorted by number."""
        parent = self.variant_dir(name)
        if not parent.is_dir():
            return []
        runs = [(int(m.group(1)), p) for p in parent.iterdir() if (m := _RUN_DIR.match(p.name)) and p.is_dir()]
        return [p for _, p in sorted(runs)]

    def allocate_run_dir(self, name: ExperimentName) -> Path:
        """Create and return the next free ``run_NNN`` folder.

        ``os.mkdir`` is atomic, so two processes allocating at once always get different folders:
        the loser of a race sees ``FileExistsError`` and moves on to the next number.
        """
        parent = self.variant_dir(name)
        parent.mkdir(parents=True, exist_ok=True)
        existing = self.existing_runs(name)
        number = int(_RUN_DIR.match(existing[-1].name).group(1)) + 1 if existing else 1
        while True:
            candidate = parent / f"run_{number:03d}"
            try:
                os.mkdir(candidate)
            except FileExistsError:
                number += 1
                continue
            return candidate

    @staticmethod
    def run_number(run_dir: str | os.PathLike[str]) -> int:
        match = _RUN_DIR.match(Path(run_dir).name)
        if match is None:
            raise ValueError(f"{run_dir}: not a run folder (expected a name like run_001)")
        return int(match.group(1))
