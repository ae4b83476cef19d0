"""Keep the daemon's resident memory at its working size (glibc's allocator; elsewhere no-ops).

A card goes through a few multi-megabyte buffers (a decoded side is 2.6 MB in Pillow) in
worker threads. glibc serves a buffer that large with its own mapping and unmaps it when it is
freed, but after the first such free it raises that threshold (up to 32 MiB) and serves later
buffers from its arenas, where freed pages stay: 5 MB more resident after the three examples.
So the daemon fixes the threshold at start-up (`keep_large_buffers_mapped`) at 1 MiB: whole
images come and go with their mappings, while the 658 KB single-band buffers of the raster are
still reused from the arenas (fixing it at glibc's default of 128 KiB doubled the host CPU time
per card with page faults). After each card `release_free_memory` returns what the arenas hold
free, so a station that runs for months does not sit at its peak.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_MMAP_THRESHOLD = -3  # <malloc.h>; setting it also stops glibc adjusting it
MMAP_THRESHOLD_BYTES = 1024 * 1024


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018  # present in glibc only: probe before relying on it
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def keep_large_buffers_mapped() -> None:
    """Serve every buffer over 1 MiB from its own mapping, returned to the system on free."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def release_free_memory() -> None:
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
