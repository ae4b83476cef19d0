"""The stock forecast, through the real collector over a real store with a controlled clock."""

from __future__ import annotations

import math
from pathlib import Path

from prometheus_client import generate_latest

from printd.queue.dispatcher import PrinterRuntime
from printd.queue.ledger import Entry, Item, Kind
from printd.queue.store import Store
from printd.telemetry.forecast import DAY, days_remaining
from printd.telemetry.metrics import PrintdCollector, build_registry
from tests.conftest import promtool_complaints

START = 1_800_000_000.0


def test_days_remaining_rules() -> None:
    assert days_remaining(100, 10, None, START) is None  # no history at all
    assert days_remaining(100, 10, START - 0.5 * DAY, START) is None  # under a day: no guess
    assert days_remaining(100, 0, START - 3 * DAY, START) == math.inf  # quiet: not running out
    assert days_remaining(700, 70, START - 30 * DAY, START) == 70.0  # 10 a day over 7 days
    assert days_remaining(60, 60, START - 3 * DAY, START) == 3.0  # young station: 3-day window


def test_collector_forecasts_from_the_ledger(tmp_path: Path) -> None:
    now = [START]
    store = Store(tmp_path, clock=lambda: now[0])
    store.open()
    store.book([Entry(Item.BLANKS, Kind.RECEIVED, 800)], actor="t")
    store.book([Entry(Item.BLANKS, Kind.LOADED, 100, "p1")], actor="t")
    for day in range(10):  # ten days of printing 10 cards a day
        now[0] = START + day * DAY
        store.book([Entry(Item.BLANKS, Kind.PRINTED, 10, "p1")], actor="t")
    now[0] = START + 10 * DAY
    runtimes = [PrinterRuntime("p1")]
    collector = PrintdCollector(store, lambda: runtimes, "st", clock=lambda: now[0])
    forecast = collector.forecasts()
    # On hand: 700 in the store room + 0 in the hopper; the 7-day window [day 3, day 10)
    # holds days 3..9: 70 blanks, 10 a day.
    assert forecast["blanks"] == 700 / 10
    registry, _ = build_registry(store, lambda: runtimes, "st", collector=collector)
    exposition = generate_latest(registry).decode()
    assert 'printd_stock_days_remaining{item="blanks",station="st"}' in exposition
    # A delivery shows at once, without waiting for the next ledger read.
    store.book([Entry(Item.BLANKS, Kind.RECEIVED, 600)], actor="t")
    assert collector.forecasts()["blanks"] == 1300 / 10


def test_every_series_at_once_passes_promtool_but_the_contracts_day_unit(tmp_path: Path) -> None:
    """With history behind it the collector exports every series, the forecast included.
    promtool's linter wants seconds where DESIGN §6 names `stock_days_remaining` in days: that
    one finding is the contract's, and nothing else may join it."""
    now = [START]
    store = Store(tmp_path, clock=lambda: now[0])
    store.open()
    store.book(
        [Entry(Item.BLANKS, Kind.RECEIVED, 800), Entry(Item.RIBBONS, Kind.RECEIVED, 2)], actor="t"
    )
    store.book([Entry(Item.BLANKS, Kind.LOADED, 100, "p1")], actor="t")
    store.install_ribbon("p1", "ymcko", 450, actor="t")
    for day in range(3):
        now[0] = START + day * DAY
        store.book([Entry(Item.BLANKS, Kind.PRINTED, 10, "p1")], actor="t")
        store.book([Entry(Item.BLANKS, Kind.SPOILED, 1, "p1", "jam")], actor="t")
        store.record_retry("p1", "transport")
    runtimes = [PrinterRuntime("p1", up=True, snmp_up=True, snmp_poll_seconds=0.01)]
    collector = PrintdCollector(store, lambda: runtimes, "st", clock=lambda: now[0])
    registry, timings = build_registry(store, lambda: runtimes, "st", collector=collector)
    timings.job_done(42.0)
    timings.card_done(9.0)
    exposition = generate_latest(registry).decode()
    for name in ("stock_days_remaining", "cards_spoiled_total", "job_retries_total"):
        assert f"printd_{name}{{" in exposition, name
    assert promtool_complaints(exposition) == [
        'printd_stock_days_remaining use base unit "seconds" instead of "days"'
    ]
