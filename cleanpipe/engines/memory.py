"""Keeping a long run's memory flat on glibc.

A run moves pages of tens to hundreds of kilobytes through the parent and the
workers (read, pickled, unpickled, spooled). glibc serves allocations above its
mmap threshold with their own mappings, returned to the system when freed, but
it raises that threshold each time such a block is freed, so later pages land
in the heap, where the holes they leave keep the resident size growing: the
parent of a run over a 1 GB WARC grew about 20 KB a page (700 MB at 28,500
pages) while its live Python objects stayed under 80 MB. Setting the threshold
explicitly turns that adjustment off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, kept fixed

_pinned = False


def pin_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold for this process (once); False where there is no glibc."""
    global _pinned
    if _pinned or not sys.platform.startswith("linux"):
        return _pinned
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other libcs: nothing to do
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _pinned = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return _pinned


def give_back_free_memory() -> bool:
    """Return the free memory at the top of glibc's heaps to the system (malloc_trim); False without glibc.

    For after a burst of short-lived objects, such as word lists read to build a smaller set: the
    heap keeps what they freed (about 10 MB after the names stage's lists) as resident memory
    for the rest of the run otherwise."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        malloc_trim = libc.malloc_trim
    except (OSError, AttributeError):
        return False
    malloc_trim.argtypes, malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    return bool(malloc_trim(0))
