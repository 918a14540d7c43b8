"""How the review's processes use memory: the allocator settings of its kernels and of its own process,
and giving freed memory back.

This module imports nothing but the standard library: the review's own process holds no pandas while its
kernels run (:func:`journeylib.review.run_review`).
"""
from __future__ import annotations

import os
import sys

__all__ = ["KERNEL_MEMORY", "PEAK_MEMORY_ENV", "allocate_as_the_kernels", "release_memory", "collect_and_release"]

#: Arrow allocates from glibc's malloc in a review's kernels, unless the environment says otherwise: its
#: default (mimalloc) kept freed pages that ``release_memory`` cannot return. Loading the 100,000-account
#: contract left 1.26 GB more resident with mimalloc, 1.07 GB with the system allocator (after
#: ``release_memory``), and every step of notebook 02 peaked about 0.2 GB lower.
#: glibc's malloc serves blocks of 4 MB and more from their own pages, given back when freed. By default
#: that size rises up to 32 MB with each such block freed, and the arrays below it, freed, stay in the heap,
#: which then grows during a cell by what its temporaries left scattered (notebook 04's backtest at 20,000
#: accounts: +0.24 GB, with the size fixed +0.14 GB). The same code with and without the setting: 20,000
#: accounts 1.65 GB instead of 1.80, 100,000 accounts 5.29 GB instead of 5.84, 8% and 4% slower (the pages
#: of a new block are zeroed when first touched).
KERNEL_MEMORY = {"ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_MMAP_THRESHOLD_": str(4 * 2**20)}


def allocate_as_the_kernels() -> bool:
    """Have this process's glibc malloc serve blocks of 4 MB and more from their own pages, as the kernels do
    (:data:`KERNEL_MEMORY`), unless the environment sets ``MALLOC_MMAP_THRESHOLD_``; True when it did.

    ``journey review`` calls it for its own process, which holds each executed notebook (plotly.js included,
    5 MB) and its HTML export while the kernels run: at 20,000 accounts it held 0.23 GB at the review's peak,
    0.20 GB with this. It holds for the rest of the process (the threshold no longer rises with freed
    blocks), so :func:`run_review` does not call it in a caller's Python session.
    """
    import ctypes

    if "MALLOC_MMAP_THRESHOLD_" in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        threshold = int(KERNEL_MEMORY["MALLOC_MMAP_THRESHOLD_"])
        return ctypes.CDLL("libc.so.6").mallopt(-3, threshold) == 1  # -3: glibc's M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc (musl)
        return False


def release_memory() -> None:
    """Give the memory that pandas, numpy and Arrow have freed back to the system.

    The allocators keep freed pages for reuse: after a step that needed a few GB, a kernel went on
    holding them, and two kernels of the review held each other's high points. Arrow's pool releases
    its unused memory, and glibc's ``malloc_trim`` the free pages of every arena (a no-op elsewhere).
    """
    import ctypes

    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to trim
            pass


def collect_and_release() -> None:
    """Collect reference cycles, then :func:`release_memory`: the loaded data are gone, but the allocators keep
    their pages (at 20,000 accounts the review's process held 0.90 GB after dropping the data, 0.26 GB after
    this)."""
    import gc

    gc.collect()
    release_memory()


#: Set by the review for its kernels: after every cell the kernel writes its peak resident memory so far to
#: ``OUTPUT_DIR/.kernels/NOTEBOOK.json``, which the runner moves into the manifest.
PEAK_MEMORY_ENV = "JOURNEYLIB_NOTE_PEAK_MEMORY"
