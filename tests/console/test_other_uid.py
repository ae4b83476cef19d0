"""The console is open to exactly those the socket is open to, and names each of them.

Needs root: the test takes on other users' uids (a forked child drops to them), as two
operators at one station would be. Without root it is skipped with that reason.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from printd.cli.client import parse_response
from tests.conftest import DaemonProcess, missing
from tests.console.conftest import ledger_actors, post_form

OPERATORS_GROUP = "staff"  # any group that exists; its members are the operators here
REQUEST = (
    b"POST /v1/console/token HTTP/1.1\r\nHost: printd\r\nConnection: close\r\n"
    b"Content-Length: 0\r\n\r\n"
)


@pytest.fixture(autouse=True)
def _root() -> None:
    if os.geteuid() != 0:
        missing("root (the tests act as other users)", "run the tests as root")


def ask_as(uid: int, gid: int, groups: list[int], path: Path) -> tuple[int, dict[str, Any]]:
    """`POST /v1/console/token` from a process of `uid`: (HTTP status, body), or (0, {}) when
    the kernel refused the connection."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: another user from here on
        status = 1
        try:
            os.close(read_end)
            os.setgroups(groups)
            os.setgid(gid)
            os.setuid(uid)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(30)
                try:
                    sock.connect(str(path))
                except PermissionError:
                    os.write(write_end, b"EACCES")
                else:
                    sock.sendall(REQUEST)
                    while chunk := sock.recv(65536):
                        os.write(write_end, chunk)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        raw = pipe.read()
    _, code = os.waitpid(pid, 0)
    assert code == 0, raw
    if raw == b"EACCES":
        return 0, {}
    status, body = parse_response(raw)
    return status, json.loads(body)


@pytest.fixture
def shared_socket_dir() -> Iterator[Path]:
    # Under /tmp, outside pytest's private (0700) folders: other users must reach the socket.
    folder = Path(tempfile.mkdtemp(prefix="printd-console-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_another_uid_gets_in_only_through_the_socket_group(
    console_daemon: Any, shared_socket_dir: Path
) -> None:
    import grp

    operators = grp.getgrnam(OPERATORS_GROUP).gr_gid
    colleague = pwd.getpwnam("daemon")  # a second user of this machine, in the group below
    stranger = pwd.getpwnam("nobody")  # not in the operators' group
    sock = shared_socket_dir / "printd.sock"

    def configure(daemon: DaemonProcess) -> None:
        text = daemon.config.read_text().replace(
            'socket = "state/printd.sock"',
            f'socket = "{sock}"\nsocket_group = "{OPERATORS_GROUP}"',
        )
        daemon.config.write_text(text)
        daemon.socket = sock

    daemon = console_daemon(before_start=configure)
    assert sock.stat().st_gid == operators

    status, _ = ask_as(stranger.pw_uid, stranger.pw_gid, [], sock)
    assert status == 0, "a user outside the operators' group got an answer from the socket"

    status, body = ask_as(colleague.pw_uid, colleague.pw_gid, [operators], sock)
    assert status == 201, body
    import requests

    session = requests.Session()
    assert session.get(body["url"], allow_redirects=False, timeout=30).status_code == 303
    delivery = post_form(session, daemon, "/supplies", "/supplies/delivery", {"blanks": "3"})
    assert delivery.status_code == 303
    actor = f"{colleague.pw_name}({colleague.pw_uid}) via console"
    assert ledger_actors(daemon)[-1] == ("blanks", "received", actor)
