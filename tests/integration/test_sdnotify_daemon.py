"""The real daemon under a stand-in for systemd's notify socket: READY=1 once it is serving,
then WATCHDOG=1 at half the configured watchdog period, from the event loop."""

from __future__ import annotations

import itertools
import socket
import time
from pathlib import Path
from typing import Any


def test_daemon_reports_ready_then_pings_the_watchdog(make_daemon: Any, tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.settimeout(10)
    daemon = make_daemon()
    daemon.env = {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "400000"}
    daemon.start()
    # What arrived while the daemon started: READY must come first.
    listener.settimeout(0.05)
    queued: list[str] = []
    while True:
        try:
            queued.append(listener.recv(4096).decode())
        except TimeoutError:
            break
    assert queued, "nothing was sent to NOTIFY_SOCKET"
    assert "READY=1" in queued[0] and "STATUS=" in queued[0], queued
    listener.settimeout(5)
    pings = []
    while len(pings) < 6:
        if "WATCHDOG=1" in listener.recv(4096).decode():
            pings.append(time.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    # WATCHDOG_USEC=400 ms: pings every 200 ms, never near the 400 ms deadline.
    assert all(0.1 <= gap < 0.4 for gap in gaps), gaps  # always inside the 400 ms deadline
    daemon.stop()
    listener.settimeout(2)
    tail: list[str] = []
    try:
        while not any("STOPPING=1" in m for m in tail):
            tail.append(listener.recv(4096).decode())
    except TimeoutError:
        pass
    assert any("STOPPING=1" in m for m in tail), tail
