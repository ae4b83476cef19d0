"""MemoryDenyWriteExecute=yes in printd.service does not break the raster, Pillow, pyusb or ctypes.

The daemon cannot run under systemd here, so the probe installs the same seccomp rule on
itself (see mdwe_probe.py) and exercises the native libraries the daemon loads.
"""

from __future__ import annotations

import platform
from pathlib import Path

import pytest
from install_support import run_in_fresh_interpreter

PROBE = Path(__file__).with_name("mdwe_probe.py")


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the probe's filter uses x86-64 numbers")
def test_native_stack_runs_under_memory_deny_write_execute() -> None:
    result = run_in_fresh_interpreter(str(PROBE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [
        "ok", "filter-active", "ok", "raster", "ok", "pillow", "ok", "ctypes-callback",
        "ok", "pyusb-libusb1", "ok", "stdlib-and-network",
    ]  # fmt: skip
