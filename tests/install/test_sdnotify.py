"""printd.sdnotify against a real AF_UNIX datagram socket standing in for systemd."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from printd.errors import ConfigError
from printd.sdnotify import SystemdNotifier, watchdog_loop

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("notify_child.py")
WATCHDOG_USEC = 200_000  # 0.2 s: the child must ping every 0.1 s


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A bound datagram socket and its path (short: sun_path holds 108 bytes)."""
    directory = Path(tempfile.mkdtemp(prefix="sdn", dir="/tmp"))
    path = directory / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield sock, str(path)
    sock.close()
    path.unlink()
    directory.rmdir()


def fields(datagram: bytes) -> dict[str, str]:
    return dict(line.split("=", 1) for line in datagram.decode().split("\n"))


def receive_until_stopping(sock: socket.socket) -> list[tuple[float, dict[str, str]]]:
    messages = []
    while True:
        message = fields(sock.recv(4096))
        messages.append((time.monotonic(), message))
        if "STOPPING" in message:
            return messages


def run_child(path: str, *args: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC=str(WATCHDOG_USEC))
    env.pop("WATCHDOG_PID", None)
    env["PYTHONPATH"] = str(REPO)
    return subprocess.Popen([sys.executable, str(CHILD), *args], env=env)


def ping_gaps(messages: list[tuple[float, dict[str, str]]]) -> list[float]:
    times = [at for at, message in messages if message.get("WATCHDOG") == "1"]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


# --- the protocol, in process -------------------------------------------------------------


def test_everything_is_a_no_op_outside_systemd() -> None:
    notifier = SystemdNotifier(environ={})
    assert not notifier.enabled
    assert notifier.ready("up") is False
    assert notifier.watchdog() is False
    assert notifier.watchdog_interval() is None


def test_ready_sends_ready_and_status(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    assert SystemdNotifier(environ={"NOTIFY_SOCKET": path}).ready("2 printers online")
    assert sock.recv(4096) == b"READY=1\nSTATUS=2 printers online"


def test_each_message_kind(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = SystemdNotifier(environ={"NOTIFY_SOCKET": path})
    notifier.status("printing job 7 of 9")
    notifier.watchdog()
    notifier.stopping()
    notifier.extend_timeout(45)
    assert fields(sock.recv(4096)) == {"STATUS": "printing job 7 of 9"}
    assert fields(sock.recv(4096)) == {"WATCHDOG": "1"}
    assert fields(sock.recv(4096))["STOPPING"] == "1"
    assert fields(sock.recv(4096)) == {"EXTEND_TIMEOUT_USEC": "45000000"}


def test_reloading_carries_the_monotonic_clock(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    SystemdNotifier(environ={"NOTIFY_SOCKET": path}).reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    message = fields(sock.recv(4096))
    assert message["RELOADING"] == "1"
    assert before <= int(message["MONOTONIC_USEC"]) <= after


def test_abstract_socket_names_work() -> None:
    name = f"printd-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        SystemdNotifier(environ={"NOTIFY_SOCKET": "@" + name}).watchdog()
        assert sock.recv(4096) == b"WATCHDOG=1"


def test_a_newline_in_a_status_is_refused(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = SystemdNotifier(environ={"NOTIFY_SOCKET": path})
    with pytest.raises(ValueError, match="STATUS contains a newline"):
        notifier.status("ok\nREADY=1")
    sock.settimeout(0.05)
    with pytest.raises(TimeoutError):
        sock.recv(4096)


def test_a_relative_notify_socket_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="NOTIFY_SOCKET='run/notify'"):
        SystemdNotifier(environ={"NOTIFY_SOCKET": "run/notify"})


@pytest.mark.parametrize(
    ("env", "pid", "interval"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 42, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "42"}, 42, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "43"}, 42, None),  # for another pid
        ({"WATCHDOG_USEC": "0"}, 42, None),
        ({}, 42, None),
    ],
)
def test_watchdog_interval_is_half_the_period(
    env: dict[str, str], pid: int, interval: float | None
) -> None:
    assert SystemdNotifier(environ=env, pid=pid).watchdog_interval() == interval


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WATCHDOG_USEC": "30s"}, "WATCHDOG_USEC"),
        ({"WATCHDOG_USEC": "1", "WATCHDOG_PID": "x"}, "WATCHDOG_PID"),
    ],
)
def test_a_garbled_watchdog_variable_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        SystemdNotifier(environ=env)


def test_watchdog_loop_survives_send_failures(tmp_path: Path) -> None:
    gone = str(tmp_path / "nobody-listens")
    notifier = SystemdNotifier(environ={"NOTIFY_SOCKET": gone})
    errors: list[OSError] = []

    async def run_briefly() -> None:
        task = asyncio.create_task(watchdog_loop(notifier, 0.02, on_error=errors.append))
        await asyncio.sleep(0.15)
        task.cancel()

    asyncio.run(run_briefly())
    assert len(errors) >= 3, "the loop stopped after the first failed ping"
    assert all(isinstance(error, FileNotFoundError) for error in errors)


def test_watchdog_loop_refuses_a_zero_interval() -> None:
    with pytest.raises(ValueError, match="positive"):
        asyncio.run(watchdog_loop(SystemdNotifier(environ={}), 0))


# --- a real process, as systemd would see it ----------------------------------------------


def test_process_sends_ready_then_pings_at_half_the_period(
    listener: tuple[socket.socket, str],
) -> None:
    sock, path = listener
    child = run_child(path, "0.8")
    messages = receive_until_stopping(sock)
    assert child.wait(timeout=10) == 0
    assert messages[0][1] == {"READY": "1", "STATUS": "probe ready"}, "READY=1 must come first"
    gaps = ping_gaps(messages)
    assert len(gaps) >= 5
    assert 0.07 <= statistics.median(gaps) <= 0.15
    assert max(gaps) < WATCHDOG_USEC / 1e6, "a gap this long would get the daemon killed"


def test_a_blocked_event_loop_stops_the_pings(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    child = run_child(path, "0.8", "0.6")
    messages = receive_until_stopping(sock)
    assert child.wait(timeout=10) == 0
    gaps = ping_gaps(messages)
    assert max(gaps) >= 0.55, "pings kept coming while the loop was blocked"
    assert max(gaps) > WATCHDOG_USEC / 1e6  # systemd would have restarted it
    # and they resume once the loop runs again
    assert statistics.median(gaps) <= 0.15
