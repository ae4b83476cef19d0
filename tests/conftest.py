"""Shared fixtures: a real printd daemon process on a temporary state dir."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EXAMPLES = REPO / "examples"
# Shared research data lives beside the checkout (`../shared/`), as DEVELOPERS.md says;
# PRINTD_CAPTURES points elsewhere.
CAPTURES = Path(
    os.environ.get("PRINTD_CAPTURES") or REPO.parent / "shared" / "research" / "evolis" / "captures"
)


def missing(what: str, remedy: str) -> NoReturn:
    """The one policy for a tool or shared data a test needs and cannot find.

    Under CI (`CI=true`) it is a failure that says what to install: a skip there would let a
    green run hide tests that never ran. On a developer's machine it is a skip with the reason.
    """
    message = f"{what} is missing: {remedy}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_tool(name: str, debian_package: str) -> str:
    """The path of the command `name`, from Debian's `debian_package`; see `missing`."""
    path = shutil.which(name)
    if path is None:
        missing(
            f"the command {name}",
            f"install the Debian package {debian_package} (`make test` does, as root)",
        )
    return path


def require_python_tool(name: str, pypi_package: str) -> Path:
    """A console script of the development venv, from PyPI's `pypi_package`; see `missing`."""
    path = BIN / name
    if not path.exists():
        missing(f"{path}", f"install the PyPI package {pypi_package} (`make test` does)")
    return path


def require_captures() -> Path:
    """The vendor's recorded print streams (shared research data); see `missing`."""
    if not CAPTURES.is_dir():
        missing(
            f"the vendor captures at {CAPTURES}",
            "put the shared folder beside the checkout (../shared/research/evolis/captures) "
            "or point PRINTD_CAPTURES at the captures",
        )
    return CAPTURES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(
    folder: Path,
    *,
    device: str = "sim://primacy?print_seconds=0.05",
    printers: int = 1,
    extra: str = "",
) -> Path:
    port = free_port()
    printer_tables = "\n".join(
        f'[[printer]]\nname = "counter-{i + 1}"\ndevice = "{device}"\n' for i in range(printers)
    )
    text = f"""
[daemon]
station = "test"
state_dir = "state"
socket = "state/printd.sock"

[metrics]
listen = "127.0.0.1:{port}"

{printer_tables}

[queue]
max_attempts = 3
retry_initial_seconds = 0.05
poll_seconds = 0.1
drain_timeout_seconds = 10

[logging]
format = "json"
level = "info"
{extra}
"""
    path = folder / "printd.toml"
    path.write_text(text)
    return path


def promtool_complaints(metrics: str) -> list[str]:
    """Prometheus's own linter on an exposition (types, help, names and units): its findings."""
    promtool = require_tool("promtool", "prometheus")
    check = subprocess.run(
        [promtool, "check", "metrics"], input=metrics, capture_output=True, text=True
    )
    complaints = (check.stdout + check.stderr).splitlines()
    assert (check.returncode == 0) == (not complaints), complaints
    return complaints


def assert_promtool_accepts(metrics: str) -> None:
    assert promtool_complaints(metrics) == []


@dataclass
class DaemonProcess:
    config: Path
    state_dir: Path
    socket: Path
    metrics_port: int
    proc: subprocess.Popen[str] | None = None
    log_path: Path = field(default_factory=Path)
    env: dict[str, str] = field(default_factory=dict)

    def start(self, timeout: float = 15.0) -> None:
        self.log_path = self.config.parent / f"daemon-{time.monotonic_ns()}.log"
        log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [str(BIN / "printd"), "run", "--config", str(self.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"printd exited early:\n{self.log()}")
            if self.socket.exists():
                result = self.ctl("--json", "status", check=False)
                if result.returncode == 0:
                    return
            time.sleep(0.05)
        raise AssertionError(f"printd did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def log_events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                events.append(json.loads(line))
        return events

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN / "printctl"), "--socket", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"printctl {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def ctl_json(self, *args: str) -> Any:
        return json.loads(self.ctl("--json", *args).stdout)

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode())

    def wait_for(self, predicate: Any, timeout: float = 30.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}\n{self.log()[-4000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)

    def hands(self, printer: str = "counter-1") -> Any:
        """The operator's hands on a simulated printer: its control channel."""
        from printd.sim.control import SimControlClient

        return SimControlClient(str(self.state_dir / f"sim-{printer}.sock"))

    def _physical(self, printer: str) -> bool:
        """Whether recording a supply leaves the printer as it was, so a person must also do
        it: a simulated printer that does not follow printctl (`hands=printctl` is the demo's)."""
        sim = (self.state_dir / f"sim-{printer}.sock").exists()
        return sim and "hands=printctl" not in self.config.read_text()

    def load_blanks(self, count: int, printer: str | None = None, *extra: str) -> Any:
        """Put `count` blanks in the hopper, then record it, as an operator does."""
        if self._physical(printer or "counter-1"):
            self.hands(printer or "counter-1").load_blanks(count)
        chosen = ["--printer", printer] if printer else []
        return self.ctl("blanks", "load", str(count), *chosen, *extra)

    def install_ribbon(
        self, ribbon_type: str = "ymcko", printer: str | None = None, *extra: str
    ) -> Any:
        """Put a new ribbon in (rated 450 prints), then record it."""
        if self._physical(printer or "counter-1"):
            self.hands(printer or "counter-1").install_ribbon(ribbon_type, 450)
        chosen = ["--printer", printer] if printer else []
        return self.ctl("ribbon", "install", "--type", ribbon_type, *chosen, *extra)

    def stock_up(self, blanks: int = 100, printer: str | None = None) -> None:
        self.ctl("stock", "receive", "--blanks", str(blanks), "--ribbons", "2")
        self.load_blanks(blanks, printer)
        self.install_ribbon("ymcko", printer)


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator[Any]:
    started: list[DaemonProcess] = []

    def factory(**kwargs: Any) -> DaemonProcess:
        config = write_config(tmp_path, **kwargs)
        text = config.read_text()
        port = int(text.split('listen = "127.0.0.1:')[1].split('"')[0])
        daemon = DaemonProcess(config, tmp_path / "state", tmp_path / "state" / "printd.sock", port)
        started.append(daemon)
        return daemon

    yield factory
    for daemon in started:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.stop(signal.SIGKILL)
