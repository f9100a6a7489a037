"""Reuse freed CPU memory inside the process instead of handing it back to the kernel (glibc malloc).

By default glibc gives large freed blocks straight back to the kernel: a block above its mmap
threshold (128 KiB at start) is unmapped on free, and free memory at the top of the heap above its trim
threshold is released. The next tensor of that size then starts on fresh pages and pays a page fault
for every 4 KiB it touches. A training or scoring step allocates and frees the same few-MiB tensors
many times a second, so on this project's VM (whose memory the hypervisor backs lazily, making faults
dearer still) page faults were about half of a VGAE student's scoring step. PyTorch's CPU tuning
guide recommends jemalloc or TCMalloc through ``LD_PRELOAD`` for the same reason; this needs nothing
installed and no environment set before the process starts.

`reuse_freed_memory` sets, through ``mallopt``: the mmap threshold to glibc's maximum (32 MiB on 64-bit),
so blocks below it come from the heap and are reused; the trim threshold to 1 GiB, so freed heap is
kept. The cost: the process holds up to 1 GiB of freed heap after a peak (its RSS does not shrink).
It changes nothing where malloc is not glibc's, where the user tuned the allocator (``MALLOC_*_`` or
``GLIBC_TUNABLES`` in the environment, or an allocator in ``LD_PRELOAD``), or with ``KDGAT_HEAP_REUSE=0``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest mmap threshold on 64-bit (4 MiB x sizeof(long))
TRIM_THRESHOLD = 1024 * 1024 * 1024


def allocator_tuned_by_user(environ: dict[str, str] | None = None) -> bool:
    """Whether the environment already chooses or tunes the allocator (then it is left alone)."""
    environ = os.environ if environ is None else environ
    return (any(name.startswith("MALLOC_") for name in environ) or "malloc" in environ.get("GLIBC_TUNABLES", "")
            or "malloc" in environ.get("LD_PRELOAD", ""))


def reuse_freed_memory() -> bool:
    """Set glibc malloc to keep freed blocks of up to 32 MiB for reuse (see the module docstring).

    Returns whether the settings took effect: False off glibc, where the user tuned the allocator, or with
    ``KDGAT_HEAP_REUSE=0``.
    """
    if os.environ.get("KDGAT_HEAP_REUSE", "1") == "0" or allocator_tuned_by_user():
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl without mallopt, Windows)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
