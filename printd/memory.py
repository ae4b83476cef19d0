"""Give freed heap back to the system after each card.

A card's raster makes tens of megabytes of short-lived arrays in worker threads; glibc keeps
the freed pages in its arenas, so a station that runs for months would sit at its peak.
`malloc_trim` returns them. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _trimmer() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def release_free_memory() -> None:
    trim = _trimmer()
    if trim is not None:
        trim(0)
