"""printd/memory.py against glibc itself: where a card-sized buffer is allocated after another
was freed. Each case runs in a fresh interpreter, since the allocator's state is per process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Frees one 2.6 MB buffer (a decoded card side in Pillow), allocates the next, and says whether
# it landed in the main heap (where freed pages stay) or in a mapping of its own.
PROBE = """
import ctypes, sys
from printd import memory
if sys.argv[1] == "fixed":
    memory.keep_large_buffers_mapped()
size = 1016 * 648 * 4
first = bytearray(size)
del first
second = bytearray(size)
address = ctypes.addressof((ctypes.c_char * size).from_buffer(second))
for line in open("/proc/self/maps"):
    span, *rest = line.split()
    low, high = (int(part, 16) for part in span.split("-"))
    if low <= address < high:
        print("heap" if line.rstrip().endswith("[heap]") else "mapping")
        break
memory.release_free_memory()
"""


def where_the_second_buffer_lands(mode: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        timeout=60,
    )
    return result.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_card_sized_buffer_keeps_its_own_mapping() -> None:
    assert where_the_second_buffer_lands("fixed") == "mapping"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_without_it_glibc_moves_the_buffer_into_the_heap() -> None:
    # The behaviour the setting exists for; if glibc stops doing this, the setting can go.
    assert where_the_second_buffer_lands("default") == "heap"
