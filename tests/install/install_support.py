"""Paths and helpers shared by the installation tests (unit files, scripts, probes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SYSTEMD_DIR = REPO / "systemd"
UNIT_FILE = SYSTEMD_DIR / "printd.service"
INSTALLED_PRINTD = "/opt/printd/venv/bin/printd"


def render_unit(unit_text: str, printd_path: str) -> str:
    """The unit with its printd command pointed at an executable that exists here.

    `systemd-analyze verify` refuses a unit whose ExecStart binary is missing, and on a
    build machine /opt/printd does not exist: the venv's printd (or /bin/true before the
    console script is installed) stands in. Nothing else in the unit changes.
    """
    assert INSTALLED_PRINTD in unit_text, "the unit no longer runs the venv's printd"
    return unit_text.replace(INSTALLED_PRINTD, printd_path)


def stand_in_printd() -> str:
    """An executable that exists on this machine to put in ExecStart= for verify."""
    venv_printd = REPO / ".venv" / "bin" / "printd"
    if os.access(venv_printd, os.X_OK):
        return str(venv_printd)
    return "/bin/true"


def run_in_fresh_interpreter(*args: str) -> subprocess.CompletedProcess[str]:
    """This venv's Python in a new process (nothing imported yet), printd from the checkout."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
