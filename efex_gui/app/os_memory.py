"""Giving freed memory back to the operating system after a big task.

Python frees the traces a reading task or an extraction has read, but the C library
keeps the freed pages in its heaps (one per thread: the reading and extraction
workers each have theirs), so the window's resident size stays near its peak for the
rest of the day. glibc's ``malloc_trim(0)`` hands the free pages back (since glibc 2.8
from every heap), as long-running servers do after their big jobs. Where there is
no glibc (macOS, Windows, musl) nothing happens.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["give_back_free_memory"]

logger = logging.getLogger(__name__)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """Return glibc's ``malloc_trim``, or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trimmer: Callable[[int], int] = trim
    return trimmer


def give_back_free_memory() -> bool:
    """Return the C heaps' free pages to the system; whether any were returned.

    Call it after a task that allocated and freed much (reading every file, an
    extraction): it takes a few milliseconds and changes nothing the program holds.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    released = bool(trim(0))
    logger.debug("malloc_trim released memory: %s", released)
    return released
