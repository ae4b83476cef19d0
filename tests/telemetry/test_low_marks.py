"""`[supplies]` low marks: exported for the alert rules, shown by `printctl status`.

The alert rules compare each supply with the mark the station exports (alerts_test.yml checks
that with promtool); here the daemon, as a real process, exports what its printd.toml says and
marks what is low in its status.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from printd.cli import render
from printd.cli.i18n import translations
from printd.config import load_config
from printd.queue.store import Store
from printd.service import Service
from printd.telemetry.forecast import Forecast
from tests.conftest import assert_promtool_accepts, write_config

MARKS = "[supplies]\nhopper_low = 60\nribbon_low = 500\nstock_days_low = 90\n"


def _sample(metrics: str, name: str, labels: str) -> float:
    match = re.search(rf"^{name}\{{{labels}\}} (\S+)$", metrics, re.MULTILINE)
    assert match, f"{name}{{{labels}}} missing from /metrics"
    return float(match.group(1))


def test_the_daemon_exports_its_low_marks_and_flags_what_is_low(make_daemon: Any) -> None:
    daemon = make_daemon(extra=MARKS)
    daemon.start()
    daemon.stock_up(50)  # hopper 50 of 100 (mark 60), a fresh ribbon of 450 prints (mark 500)

    metrics = daemon.metrics()
    printer = 'printer="counter-1",station="test"'
    assert _sample(metrics, "printd_hopper_low_threshold_blanks", printer) == 60
    assert _sample(metrics, "printd_ribbon_low_threshold_prints", printer) == 500
    assert _sample(metrics, "printd_stock_low_threshold_seconds", 'station="test"') == 90 * 86400
    assert_promtool_accepts(metrics)

    assert daemon.ctl_json("status")["printers"][0]["low"] == ["hopper", "ribbon"]
    human = daemon.ctl("status").stdout
    assert "low: load blanks" in human and "low: have a new ribbon ready" in human
    indonesian = daemon.ctl("--lang", "id", "status").stdout
    assert "menipis: isi blangko" in indonesian

    daemon.ctl("stock", "receive", "--blanks", "50")
    daemon.load_blanks(50)  # hopper 100: above the mark again
    assert daemon.ctl_json("status")["printers"][0]["low"] == ["ribbon"]
    assert "low: load blanks" not in daemon.ctl("status").stdout


@pytest.mark.parametrize(
    ("forecast", "low"),
    [
        ({"blanks": 12.0, "ribbon_prints": None}, ["blanks"]),
        ({"blanks": 30.0, "ribbon_prints": 29.5}, ["ribbon_prints"]),
        ({"blanks": float("inf"), "ribbon_prints": 400.0}, []),
    ],
)
def test_stock_below_stock_days_low_is_flagged(
    tmp_path: Path, forecast: dict[str, float | None], low: list[str]
) -> None:
    config = load_config(write_config(tmp_path))
    assert config.supplies.stock_days_low == 30
    store = Store(config.daemon.state_dir)
    store.open()
    try:
        outlook = {
            item: Forecast(enough_history=days is not None, days=days)
            for item, days in forecast.items()
        }
        status = Service(config, store, list, asyncio.Event(), {}).status(outlook)
    finally:
        store.close()
    assert status["stock"]["low"] == low
    line = render.status(translations("en"), status)
    assert ("low: request a delivery" in line) is bool(low)
