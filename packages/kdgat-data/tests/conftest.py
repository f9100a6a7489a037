from pathlib import Path

import pytest

SHARED_CAN = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "can"


@pytest.fixture(scope="session")
def shared_can() -> Path:
    """The real CAN captures beside the project; tests using them skip on a user's clone."""
    if not SHARED_CAN.is_dir():
        pytest.skip("../shared/data/can is absent")
    return SHARED_CAN.resolve()


@pytest.fixture(scope="session")
def tiny_synthetic(tmp_path_factory) -> Path:
    """A small synthetic dataset (all six attacks), generated once per session."""
    from kdgat_data.domains.automotive.synthetic.generator import generate_dataset

    root = tmp_path_factory.mktemp("synthetic") / "tiny"
    generate_dataset(root, frames=4000, seed=7)
    return root


@pytest.fixture
def write():
    """``write(path, text)``: create a small text file (and its folders), return its path."""

    def _write(path: Path, text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return _write
