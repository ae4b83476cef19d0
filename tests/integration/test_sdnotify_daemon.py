"""The real daemon under a stand-in for systemd's notify socket: READY=1 once it is serving,
then WATCHDOG=1 at half the configured watchdog period, from the event loop."""

from __future__ import annotations

import socket
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
    # WATCHDOG_USEC=400 ms: a ping every 200 ms. The wait for each is only a hang bound: how
    # regular the pings are on a quiet machine is bench/bench_recovery.py's to measure.
    listener.settimeout(60)
    pings = 0
    while pings < 6:
        if "WATCHDOG=1" in listener.recv(4096).decode():
            pings += 1
    daemon.stop()
    listener.settimeout(2)
    tail: list[str] = []
    try:
        while not any("STOPPING=1" in m for m in tail):
            tail.append(listener.recv(4096).decode())
    except TimeoutError:
        pass
    assert any("STOPPING=1" in m for m in tail), tail
