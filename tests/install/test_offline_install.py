"""The offline install of docs/install.md, end to end: the wheelhouse built with the
documented command, installed by scripts/install.sh with `--no-index` (nothing from the
network), and the daemon started from that venv answering `printctl status`.

Building the wheelhouse needs PyPI, as it does on the technician's connected machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from install_support import REPO

from tests.conftest import missing, write_config

INSTALL_MD = REPO / "docs" / "install.md"


def documented(pattern: str) -> str:
    """The one command line of docs/install.md that matches `pattern`, as written there."""
    lines = [
        line.split("  #")[0].strip()
        for line in INSTALL_MD.read_text().splitlines()
        if re.search(pattern, line)
    ]
    assert len(lines) == 1, f"docs/install.md: expected one line matching {pattern!r}: {lines}"
    return lines[0]


def pypi_reachable(scratch: Path) -> bool:
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(scratch), "hatchling"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.timeout(900)  # a wheelhouse from PyPI, then a venv built from it
def test_the_documented_offline_install_runs_the_daemon(tmp_path: Path) -> None:
    if not pypi_reachable(tmp_path / "probe"):
        missing("PyPI", "the wheelhouse is built on a connected machine: give this one network")
    wheels, stage = tmp_path / "wheels", tmp_path / "stage"
    recipe = documented(r"pip wheel ")
    assert "hatchling" in recipe, "the wheelhouse must hold the build backend"
    build = subprocess.run(
        [
            "bash",
            "-c",
            recipe.replace("~/printd", str(REPO)).replace("/media/usb/wheels", str(wheels)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    assert sorted(wheels.glob("hatchling-*.whl")), "hatchling is not in the wheelhouse"

    install = documented(r'PRINTD_PIP_ARGS="--no-index')
    pip_args = re.search(r'PRINTD_PIP_ARGS="([^"]+)"', install)
    assert pip_args is not None and "scripts/install.sh" in install
    env = {
        **os.environ,
        "DESTDIR": str(stage),
        "PRINTD_PIP_ARGS": pip_args.group(1).replace("/media/usb/wheels", str(wheels)),
        "PRINTD_PYTHON": str(Path(sys.base_prefix) / "bin" / "python3"),
        # Nothing may come from an index: pip's own configuration is set aside too.
        "PIP_CONFIG_FILE": os.devnull,
    }
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS"):
        env.pop(name, None)
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "install.sh")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    venv_bin = stage / "opt/printd/venv/bin"
    assert (stage / "usr/local/bin/printctl").is_symlink()

    config = write_config(tmp_path)
    socket = tmp_path / "state" / "printd.sock"
    with (tmp_path / "daemon.log").open("w") as log:
        daemon = subprocess.Popen(
            [str(venv_bin / "printd"), "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        status = None
        while daemon.poll() is None:  # until it answers, or exits (then the log says why)
            if socket.exists():
                status = subprocess.run(
                    [str(venv_bin / "printctl"), "--socket", str(socket), "status"],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                )
                if status.returncode == 0:
                    break
            time.sleep(0.1)
        assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()
        assert status is not None and "Station test" in status.stdout, status
    finally:
        daemon.terminate()
        daemon.wait(60)
