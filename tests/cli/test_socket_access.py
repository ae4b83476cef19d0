"""The socket is the API's only door: mode 0660 and the operators' group decide who talks."""

from __future__ import annotations

import grp
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BIN, EXAMPLES, missing, require_tool

NOBODY = 65534
OPERATORS_GID = 1  # "daemon" on Debian: any group nobody is not in will do


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A socket folder every user may traverse, so only the socket's own mode is tested."""
    folder = Path(tempfile.mkdtemp(prefix="printd-sock-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _as_nobody(argv: list[str], groups: str | None) -> subprocess.CompletedProcess[str]:
    ids = ["--groups", groups] if groups else ["--clear-groups"]
    return subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", *ids, str(BIN / "printctl"), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"},
    )


def test_a_user_outside_the_socket_group_is_refused(make_daemon: Any, open_dir: Path) -> None:
    if os.geteuid() != 0:
        missing("root (printctl runs here as a second uid)", "run the tests as root")
    require_tool("setpriv", "util-linux")
    group = grp.getgrgid(OPERATORS_GID).gr_name
    daemon = make_daemon()
    sock = open_dir / "printd.sock"
    text = daemon.config.read_text().replace(
        'socket = "state/printd.sock"', f'socket = "{sock}"\nsocket_group = "{group}"'
    )
    daemon.config.write_text(text)
    daemon.socket = sock
    daemon.start()
    mode = sock.stat()
    assert stat.S_IMODE(mode.st_mode) == 0o660 and mode.st_gid == OPERATORS_GID

    refused = _as_nobody(["--socket", str(sock), "status"], groups=None)
    assert refused.returncode == 69, refused.stderr
    assert "not allowed to talk to printd" in refused.stderr
    assert "Traceback" not in refused.stderr

    # The same user in the operators' group gets in, and is the actor of what they do.
    allowed = _as_nobody(
        ["--socket", str(sock), "stock", "receive", "--blanks", "3"], groups=str(OPERATORS_GID)
    )
    assert allowed.returncode == 0, allowed.stderr
    assert daemon.ctl_json("report")["received"] == 3
    job = str(EXAMPLES / "example-0001.json")
    submitted = _as_nobody(["--socket", str(sock), "submit", job], groups=str(OPERATORS_GID))
    assert submitted.returncode == 0, submitted.stderr
    events = daemon.ctl_json("show", "example-0001")["job"]["events"]
    assert events[0]["actor"] == f"nobody({NOBODY})"
