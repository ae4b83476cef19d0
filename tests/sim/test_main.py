"""``printd-sim`` as a real process: endpoints, printing, control, clean shutdown."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from _sim_streams import esc

from printd.sim.control import SimControlClient

PYTHON = str(Path(sys.prefix) / "bin" / "python")
REPO = Path(__file__).resolve().parents[2]


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PYTHON, "-m", "printd.sim", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def endpoints(process: subprocess.Popen[str]) -> dict[str, str]:
    assert process.stdout is not None
    found: dict[str, str] = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = process.stdout.readline().strip()
        if line == "ready":
            return found
        if not line:
            break
        kind, _, address = line.partition(" ")
        found[kind] = address
    process.kill()
    raise AssertionError(
        f"printd-sim did not get ready: {process.stderr.read() if process.stderr else ''}"
    )


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    process = start(
        "--tcp", "127.0.0.1:0", "--pty", "--control", str(tmp_path / "c.sock"),
        "--hopper", "5", "--ribbon", "kb:100:20", "--print-seconds", "0.1",
    )  # fmt: skip
    try:
        yield process, endpoints(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def test_prints_over_tcp_and_pty_and_stops_on_sigterm(
    sim: tuple[subprocess.Popen[str], dict[str, str]], captures: Path
) -> None:
    process, found = sim
    assert set(found) == {"tcp", "pty", "control"}
    host, port = found["tcp"].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as client:
        client.sendall((captures / "card-white").read_bytes())
        data = b""
        while data.count(b"\r") < 10:
            data += client.recv(256)
    assert data == b"OK\r" * 10
    with serial.Serial(found["pty"], 115200, timeout=2) as port_:
        port_.write(esc("Rco;l"))
        assert port_.read_until(b"\r") == b"19\r"
    with SimControlClient(found["control"]) as control:
        snap = control.snapshot()
        assert (snap.hopper, snap.cards_ejected, snap.ribbon_type) == (4, 1, "kb")
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert not Path(found["control"]).exists()


def test_sigint_stops_cleanly(sim: tuple[subprocess.Popen[str], dict[str, str]]) -> None:
    process, _ = sim
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0
    assert process.stderr is not None
    assert "Traceback" not in process.stderr.read()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to serve"),
        (["--tcp", "nowhere"], "is not HOST:PORT"),
        (["--pty", "--ribbon", "ymcko"], "TYPE:CAPACITY"),
        (["--pty", "--hopper", "-1"], "must not be negative"),
        (["--pty", "--ribbon", "kb:10:11"], "remaining=11"),
        (["--pty", "--firmware", "nope"], "invalid choice: 'nope'"),
    ],
)
def test_bad_arguments_are_named(args: list[str], message: str) -> None:
    process = start(*args)
    _, err = process.communicate(timeout=10)
    assert process.returncode == 2
    assert message in err


def test_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start("--tcp", f"127.0.0.1:{port}")
        _, err = process.communicate(timeout=10)
    assert process.returncode == 1
    assert "cannot open an endpoint" in err
    assert "Traceback" not in err


def test_firmware_profile_is_chosen_on_the_command_line() -> None:
    process = start("--pty", "--firmware", "no-pmi")
    try:
        found = endpoints(process)
        with serial.Serial(found["pty"], 115200, timeout=2) as port_:
            port_.write(esc("Pmi;F;s"))
            assert port_.read_until(b"\r") == b"ERROR CDE\r"
            port_.write(esc("Pcim;F"))
            assert port_.read_until(b"\r") == b"OK\r"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
