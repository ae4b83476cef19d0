"""A real Prometheus server scrapes the daemon while it prints on the simulator: the figures it
stores match `printctl status`, the shipped alert rules load, and an empty hopper makes
PrinterNeedsOperator pending. Also: no synthetic NIK or name shows up in any label value."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from printd.sim.control import SimControlClient
from tests.conftest import REPO, free_port, require_tool
from tests.integration.test_faults import submit_copies


def query(port: int, expr: str) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def value(port: int, expr: str) -> float | None:
    result = query(port, expr)
    return float(result[0]["value"][1]) if result else None


@pytest.fixture
def prometheus(tmp_path: Path) -> Any:
    binary = require_tool("prometheus", "prometheus")
    started: list[subprocess.Popen[bytes]] = []

    def start(target_port: int) -> int:
        port = free_port()
        rules = tmp_path / "alerts.yml"
        shutil.copy(REPO / "config/prometheus/alerts.yml", rules)
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "rule_files: [alerts.yml]\n"
            "scrape_configs:\n"
            "  - job_name: printd\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]\n"
        )
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(proc)
        _wait_until_ready(proc, port)
        return port

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(10)


def _wait_until_ready(proc: subprocess.Popen[bytes], port: int, timeout: float = 60) -> None:
    """Queries made before the server listens are refused: wait for its readiness endpoint."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"prometheus exited with status {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=5):
                return
        except OSError:  # refused while starting, or 503 while it loads its storage
            time.sleep(0.2)
    pytest.fail(f"prometheus was not ready on port {port} within {timeout:.0f} s")


def wait(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_prometheus_sees_what_printctl_shows(make_daemon: Any, prometheus: Any, tmp_path) -> None:
    daemon = make_daemon(device="sim://primacy?print_seconds=0.05")
    daemon.start()
    daemon.stock_up(20)
    port = prometheus(daemon.metrics_port)  # scraping from the start, while cards print
    printer = 'printer="counter-1",station="test"'
    first = submit_copies(daemon, tmp_path, 2, "prom")
    daemon.wait_for(lambda: daemon.ctl_json("status")["queue"]["printed"] == 2, what="printed")
    # The third card stays in the printer for 20 s: Prometheus must see it there, mid-batch.
    sim = SimControlClient(str(daemon.state_dir / "sim-counter-1.sock"))
    sim.inject("slow", seconds=20)
    ids = first + submit_copies(daemon, tmp_path, 3, "prom-more")

    def mid_batch() -> bool:
        return (
            value(port, 'printd_queue_jobs{state="printing",station="test"}') == 1
            and value(port, f"printd_cards_printed_total{{{printer}}}") == 2
        )

    wait(mid_batch, 60, "a scrape while the third card prints")
    daemon.wait_for(
        lambda: daemon.ctl_json("status")["queue"]["printed"] == len(ids),
        what="printed",
        timeout=120,
    )
    status = daemon.ctl_json("status")["printers"][0]
    wait(lambda: value(port, f"printd_cards_printed_total{{{printer}}}") == 5, 30, "scrape")
    assert value(port, f"printd_hopper_blanks{{{printer}}}") == status["hopper"] == 15
    assert (
        value(port, f"printd_ribbon_prints_remaining{{{printer}}}")
        == status["ribbon"]["remaining"]
        == 445
    )

    # The hopper runs empty on the printer itself: the alert becomes pending (for: 2m).
    sim.unload_blanks(sim.snapshot().hopper)

    def pending() -> bool:
        alerts = query(port, 'ALERTS{alertname="PrinterNeedsOperator"}')
        return any(
            a["metric"].get("condition") == "hopper_empty"
            and a["metric"].get("alertstate") == "pending"
            for a in alerts
        )

    wait(pending, 30, "PrinterNeedsOperator pending")

    # Every label value Prometheus stored: none is a NIK or a holder's name.
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/api/v1/series?match[]=" + urllib.parse.quote('{job="printd"}'),
        timeout=5,
    ) as response:
        series = json.load(response)["data"]
    values = {v for s in series for v in s.values()}
    assert len(series) > 50
    for i in range(5):
        assert f"99010101019{i:05d}" not in values and f"CONTOH {i}" not in values
    assert not any(v.isdigit() and len(v) == 16 for v in values)
