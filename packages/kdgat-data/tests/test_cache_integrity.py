"""A damaged graph cache is rebuilt, never reused; staging folders of killed builds are swept."""

import os
import socket

import numpy as np
from kdgat_data.cache import build_cache
from kdgat_data.catalog import resolve_dataset


def _build(tiny_synthetic, root, messages=None):
    return build_cache(resolve_dataset(str(tiny_synthetic)), window=50, stride=50, cache_root=root,
                       progress=(messages.append if messages is not None else lambda m: None))


def test_a_same_size_corruption_is_found_and_the_cache_rebuilt(tiny_synthetic, tmp_path):
    clean = _build(tiny_synthetic, tmp_path)
    assert clean.manifest.checksums["train/x.npy"] and "val/window_stats.npy" in clean.manifest.checksums
    x_path = clean.path / "train" / "x.npy"
    original = np.load(x_path).copy()
    raw = bytearray(x_path.read_bytes())
    raw[-8:] = bytes(8)  # same size, different values: nothing but a checksum can see it
    x_path.write_bytes(bytes(raw))
    messages = []
    rebuilt = _build(tiny_synthetic, tmp_path, messages)
    assert any("is damaged (train/x.npy does not match its checksum): rebuilding it" in m for m in messages)
    assert not rebuilt.reused and rebuilt.path == clean.path
    np.testing.assert_array_equal(np.load(x_path), original)
    assert rebuilt.manifest.content_hash() == clean.manifest.content_hash()
    messages.clear()
    assert _build(tiny_synthetic, tmp_path, messages).reused and any("reusing" in m for m in messages)
    (clean.path / "val" / "y.npy").unlink()  # a missing file is damage too
    messages.clear()
    _build(tiny_synthetic, tmp_path, messages)
    assert any("val/y.npy is missing" in m for m in messages)


def test_staging_folders_of_killed_builds_are_swept(tiny_synthetic, tmp_path):
    dataset_folder = tmp_path / resolve_dataset(str(tiny_synthetic)).name
    dataset_folder.mkdir(parents=True)
    dead = dataset_folder / f".0123456789abcdef.{socket.gethostname()}.999999999.x1y2z3"
    dead.mkdir()
    (dead / "x.npy").write_bytes(b"half written")
    live = dataset_folder / f".0123456789abcdef.{socket.gethostname()}.{os.getpid()}.a1b2c3"
    live.mkdir()
    messages = []
    _build(tiny_synthetic, tmp_path, messages)
    assert not dead.exists() and live.exists()  # a build still running here is left alone
    assert any(f"removed {dead}" in m for m in messages)
