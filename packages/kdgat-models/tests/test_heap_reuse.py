import os
import subprocess
import sys

import pytest
from kdgat_models.heap_reuse import allocator_tuned_by_user

# A step that allocates four 3 MiB blocks and frees them all, as a training step does with its tensors;
# prints the page faults per step after a warm-up.
STEP_FAULTS = """
import resource, sys
import numpy as np
from kdgat_models.heap_reuse import reuse_freed_memory
print(reuse_freed_memory() if sys.argv[1] == "reuse" else False)
def step():
    blocks = [np.ones(3 << 18, np.float32) for _ in range(4)]  # 3 MiB each: below numpy's huge-page size
    del blocks
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def step_faults(mode: str, **environ: str) -> tuple[bool, float]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("MALLOC_") and name != "KDGAT_HEAP_REUSE"} | environ
    lines = subprocess.run([sys.executable, "-c", STEP_FAULTS, mode], env=env, capture_output=True, text=True,
                           check=True).stdout.split()
    return lines[0] == "True", float(lines[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")
def test_freed_blocks_are_reused_instead_of_faulted_in_again():
    took, faults = step_faults("reuse")
    assert took and faults < 50  # the blocks come back from the heap: no fresh pages
    took, default_faults = step_faults("default")
    assert not took and default_faults > 1000  # glibc's default: 12 MiB of fresh pages, most of them faulted in


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")
def test_an_allocator_the_user_tuned_is_left_alone():
    assert allocator_tuned_by_user({"MALLOC_ARENA_MAX": "2"}) and allocator_tuned_by_user({"LD_PRELOAD": "/usr/lib/libjemalloc.so.2"})
    assert allocator_tuned_by_user({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"})
    assert not allocator_tuned_by_user({"PATH": "/usr/bin"})
    took, faults = step_faults("reuse", MALLOC_TRIM_THRESHOLD_="0")
    assert not took and faults > 1000
    took, faults = step_faults("reuse", KDGAT_HEAP_REUSE="0")  # the project's own switch
    assert not took and faults > 1000
