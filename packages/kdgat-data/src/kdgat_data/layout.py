"""Which files of a dataset folder train and which test (the can-train-and-test layout).

- ``train_*`` folders (``train_01_attack_free``, ``train_02_with_attacks``) hold training files;
- each ``test_NN_<scenario>`` folder is one test scenario, reported on its own;
- a folder with neither holds training files only; explicit globs override discovery;
- files named as validation (catalog ``validation``) are whole validation sources, never trained
  on; they leave the training files whatever the training patterns say.

Byte-identical files are loaded once (the published datasets ship duplicated attack-free
files); a test file identical to a training file is dropped from the test set, since testing on
training data is leakage.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from kdgat_schemas import SourceFile

from kdgat_data.file_digests import FileDigests
from kdgat_data.readers.attack_names import scenario_of_folder
from kdgat_data.readers.text import CAPTURE_SUFFIXES, capture_suffix


@dataclass(frozen=True)
class DatasetFiles:
    """Training files and test scenarios of one dataset, before de-duplication."""

    root: Path
    train: list[Path]
    test: dict[str, list[Path]] = field(default_factory=dict)
    validation: list[Path] = field(default_factory=list)


def capture_files(folder: Path) -> list[Path]:
    """Capture files under ``folder`` (recursive, sorted), skipping READMEs and hidden files."""
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and capture_suffix(p) in CAPTURE_SUFFIXES and not p.name.startswith(".")
    )


def scenario_name(folder_name: str) -> str:
    """``test_01_DoS`` -> ``dos``; ``test_03_known_vehicle_unknown_attack`` -> ``known_vehicle_unknown_attack``."""
    return (scenario_of_folder(folder_name) or folder_name).lower()


def discover_files(
    root: str | Path, train: list[str] | None = None, test: dict[str, list[str]] | None = None,
    validation: list[str] | None = None,
) -> DatasetFiles:
    """Find the files of a dataset.

    Args:
        root: a dataset folder or a single capture file (which then is the only training file).
        train, test: glob patterns relative to ``root`` that override discovery.
        validation: glob patterns of whole validation files (taken out of the training files).
    """
    found = _discover(Path(root), train, test)
    if not validation:
        return found
    chosen = _glob(found.root, validation)
    for scenario, paths in found.test.items():
        both = sorted(set(paths) & set(chosen))
        if both:
            raise ValueError(f"{found.root}: {relative_path(both[0], found.root)} is both a validation file and a "
                             f"file of test scenario {scenario!r}; validation must not see test data")
    return replace(found, train=[p for p in found.train if p not in set(chosen)], validation=chosen)


def _discover(root: Path, train: list[str] | None, test: dict[str, list[str]] | None) -> DatasetFiles:
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such dataset file or folder")
    if root.is_file():
        return DatasetFiles(root.parent, [root], {})
    if train is not None or test is not None:
        return DatasetFiles(
            root,
            _glob(root, train or []),
            {name: _glob(root, patterns) for name, patterns in (test or {}).items()},
        )
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    train_folders = [p for p in folders if p.name.lower().startswith("train_")]
    test_folders = [p for p in folders if scenario_of_folder(p.name)]
    if not train_folders and not test_folders:
        return DatasetFiles(root, capture_files(root), {})
    return DatasetFiles(
        root,
        [f for folder in train_folders for f in capture_files(folder)],
        {scenario_name(folder.name): capture_files(folder) for folder in test_folders},
    )


def _glob(root: Path, patterns: list[str]) -> list[Path]:
    files: set[Path] = set()
    for pattern in patterns:
        matched = [p for p in root.glob(pattern) if p.is_file()]
        if not matched:
            raise FileNotFoundError(f"{root}: pattern {pattern!r} matches no file")
        files.update(matched)
    return sorted(files)


def dedupe_sources(files: DatasetFiles, digests: FileDigests | None = None) -> list[SourceFile]:
    """One `SourceFile` per file; repeats of earlier content get role ``duplicate``.

    Training files come first, then validation files, so a validation or test file identical to a
    training file is the duplicate. ``digests`` remembers each file's sha256 while it is unchanged
    (`FileDigests`); without it every file is hashed.
    """
    digests = digests or FileDigests()
    sources: list[SourceFile] = []
    first_with: dict[str, str] = {}
    ordered = [(p, "train", None) for p in files.train] + [(p, "validation", None) for p in files.validation]
    ordered += [(p, "test", scenario) for scenario, paths in sorted(files.test.items()) for p in paths]
    for path, role, scenario in ordered:
        digest = digests.sha256(path)
        relative = relative_path(path, files.root)
        kept = first_with.setdefault(digest, relative)
        duplicate = kept != relative
        sources.append(
            SourceFile(
                path=relative, sha256=digest, size_bytes=path.stat().st_size,
                role="duplicate" if duplicate else role, scenario=scenario,
                duplicate_of=kept if duplicate else None,
            )
        )
    return sources


def relative_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it, else as given (POSIX separators)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
