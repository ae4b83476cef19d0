"""The stock forecast, through the real collector over a real store whose clock replays months
of ledger history (no waiting).

Each scenario's expected date is worked out here from the scenario's own pace, walking the
calendar with the `holidays` data directly; the forecast must land within 10 % (in days) of it
and move by less than 10 % across a holiday week.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from prometheus_client import generate_latest

from printd.config import SuppliesConfig
from printd.queue.dispatcher import PrinterRuntime
from printd.queue.ledger import Entry, Item, Kind
from printd.queue.store import Store
from printd.telemetry.forecast import DAY, Forecast, closed_days
from printd.telemetry.metrics import PrintdCollector, build_registry
from tests.conftest import promtool_complaints

ZONE = ZoneInfo("Asia/Jakarta")
PACE = 100  # cards an ordinary working day
ON_HAND = 6_000


def national(day: date) -> bool:
    days = holidays.country_holidays("ID", years=day.year, categories=("public", "government"))
    return day in days


def working(day: date, closed: frozenset[date] = frozenset()) -> bool:
    return day.weekday() < 5 and not national(day) and day not in closed


def expected_runout(on_hand: int, pace: float, today: date, closed: frozenset[date]) -> date:
    """The scenario's own answer: `pace` a working day from today until nothing is left."""
    day, left = today, float(on_hand)
    while True:
        if working(day, closed):
            left -= pace
            if left <= 0:
                return day
        day += timedelta(1)


def at(day: date, hour: int) -> float:
    return datetime.combine(day, time(hour), ZONE).timestamp()


@dataclass
class Office:
    """A station's store with a clock, fed one day's printing at a time."""

    store: Store
    now: list[float]
    closed: frozenset[date] = frozenset()

    def collector(self) -> PrintdCollector:
        runtimes = [PrinterRuntime("p1")]
        supplies = SuppliesConfig(closed_days=self.closed)
        return PrintdCollector(
            self.store,
            lambda: runtimes,
            "st",
            supplies=supplies,
            timezone="Asia/Jakarta",
            clock=lambda: self.now[0],
        )

    def forecast(self, when: date) -> Forecast:
        self.now[0] = at(when, 17)
        return self.collector().forecasts()["blanks"]

    def print_day(self, day: date, cards: int) -> None:
        if cards:
            self.now[0] = at(day, 10)
            self.store.book([Entry(Item.BLANKS, Kind.PRINTED, cards, "p1")], actor="t")


def open_office(tmp_path: Path, first: date, closed: frozenset[date] = frozenset()) -> Office:
    now = [at(first, 8)]
    store = Store(tmp_path, clock=lambda: now[0])
    store.open()
    return Office(store, now, closed)


def replay(
    office: Office, first: date, last: date, cards: Callable[[date], int], on_hand: int = ON_HAND
) -> None:
    """Print `cards(day)` on each day from `first` to `last`, then take a delivery that
    leaves `on_hand` blanks (office stock plus the hopper; the printing is booked from a
    hopper the ledger lets run below zero, which only this replay does)."""
    day = first
    while day <= last:
        office.print_day(day, cards(day))
        day += timedelta(1)
    left = office.store.total("stock_blanks") + office.store.total("hopper", "p1")
    office.now[0] = at(last, 16)
    assert on_hand >= left
    office.store.book([Entry(Item.BLANKS, Kind.RECEIVED, on_hand - left)], actor="t")


def steady(closed: frozenset[date] = frozenset(), seed: int = 7) -> Callable[[date], int]:
    """About PACE every working day (80–120, the day-to-day wobble of a real counter)."""
    rng = random.Random(seed)
    return lambda day: rng.randint(80, 120) if working(day, closed) else 0


def within_ten_percent(got: Forecast, want: date, today: date) -> None:
    assert got.runs_out is not None, got
    want_days = (want - today).days
    assert abs((got.runs_out - today).days - want_days) <= 0.1 * want_days, (got, want)
    assert got.earliest is not None and got.latest is not None
    assert got.earliest <= got.runs_out <= got.latest


def test_steady_weeks(tmp_path: Path) -> None:
    office = open_office(tmp_path, date(2026, 8, 31))
    friday = date(2026, 11, 6)
    replay(office, date(2026, 8, 31), friday, steady())
    got = office.forecast(friday)
    within_ten_percent(got, expected_runout(ON_HAND, PACE, friday, frozenset()), friday)
    assert got.working_days >= 35 and 90 <= (got.pace or 0) <= 110


def test_christmas_and_its_cuti_bersama(tmp_path: Path) -> None:
    """2025: Christmas on Thursday, cuti bersama on Friday. On that Friday the old 7-day
    average said 140 days; the office has about 84."""
    office = open_office(tmp_path, date(2025, 10, 6))
    before, friday, after = date(2025, 12, 19), date(2025, 12, 26), date(2026, 1, 2)
    assert not working(date(2025, 12, 25)) and not working(date(2025, 12, 26))
    outlooks = {}
    for when in (before, friday, after):
        replay(office, office_next(office, when), when, steady())
        outlooks[when] = office.forecast(when)
        within_ten_percent(outlooks[when], expected_runout(ON_HAND, PACE, when, frozenset()), when)
    # The old figure, on hand over the last 7 calendar days' average (three days' printing),
    # said about 140 days; the working-day pace gives the calendar's answer, about 100.
    used = office.store.db.execute(
        "SELECT sum(quantity) FROM ledger WHERE kind = 'printed' AND at BETWEEN ? AND ?",
        (at(friday, 17) - 7 * DAY, at(friday, 17)),
    ).fetchone()[0]
    assert ON_HAND / (used / 7) > 120
    assert (outlooks[friday].days or 0) < 0.8 * ON_HAND / (used / 7)
    moved = abs((outlooks[friday].runs_out - outlooks[before].runs_out).days)  # type: ignore[operator]
    assert moved < 0.1 * (outlooks[before].runs_out - before).days  # type: ignore[operator]


def office_next(office: Office, until: date) -> date:
    """The first day not yet replayed: the day after the last printing booked."""
    last = office.store.db.execute("SELECT max(at) FROM ledger WHERE kind = 'printed'").fetchone()
    if last[0] is None:
        return datetime.fromtimestamp(office.now[0], ZONE).date()
    return datetime.fromtimestamp(last[0], ZONE).date() + timedelta(1)


def test_the_idul_fitri_week(tmp_path: Path) -> None:
    """2026: Nyepi and Idul Fitri with their cuti bersama close 18–24 March."""
    office = open_office(tmp_path, date(2026, 1, 5))
    before, during, after = date(2026, 3, 13), date(2026, 3, 20), date(2026, 3, 27)
    outlooks = {}
    for when in (before, during, after):
        replay(office, office_next(office, when), when, steady())
        outlooks[when] = office.forecast(when)
        within_ten_percent(outlooks[when], expected_runout(ON_HAND, PACE, when, frozenset()), when)
    span = (outlooks[before].runs_out - before).days  # type: ignore[operator]
    for when in (during, after):
        assert abs((outlooks[when].runs_out - outlooks[before].runs_out).days) < 0.1 * span  # type: ignore[operator]


def test_a_local_closure_from_the_config(tmp_path: Path) -> None:
    """A week closed for renovation, past and ahead: the past week is no slow week, and the
    closure ahead pushes the date out by its working days."""
    closed = closed_days(["2026-06-08..2026-06-12", "2026-07-06..2026-07-17"])
    office = open_office(tmp_path, date(2026, 4, 6), closed)
    friday = date(2026, 6, 12)
    replay(office, date(2026, 4, 6), friday, steady(closed))
    got = office.forecast(friday)
    within_ten_percent(got, expected_runout(ON_HAND, PACE, friday, closed), friday)
    ignored = Office(office.store, office.now).forecast(friday)  # the same office, no closures
    assert got.runs_out is not None and ignored.runs_out is not None
    assert (got.runs_out - ignored.runs_out).days >= 10  # the ten working days closed ahead


def test_a_week_of_mass_printing(tmp_path: Path) -> None:
    """A "jemput bola" week at schools prints four times the usual; the office's pace is
    still its ordinary one."""
    office = open_office(tmp_path, date(2026, 8, 3))
    mass = {date(2026, 10, 5) + timedelta(n) for n in range(5)}
    base = steady()
    friday = date(2026, 10, 16)
    replay(office, date(2026, 8, 3), friday, lambda d: 4 * PACE if d in mass else base(d))
    within_ten_percent(
        office.forecast(friday), expected_runout(ON_HAND, PACE, friday, frozenset()), friday
    )


def test_a_station_three_days_old_gives_no_date(tmp_path: Path) -> None:
    office = open_office(tmp_path, date(2026, 11, 2))
    replay(office, date(2026, 11, 2), date(2026, 11, 4), steady())
    got = office.forecast(date(2026, 11, 5))
    assert not got.enough_history and got.runs_out is None and got.days is None
    collector = office.collector()
    registry, _ = build_registry(
        office.store, lambda: [PrinterRuntime("p1")], "st", collector=collector
    )
    exposition = generate_latest(registry).decode()
    assert "printd_stock_days_remaining{" not in exposition
    assert "printd_stock_runout_timestamp_seconds{" not in exposition


def test_the_metrics_carry_the_date_and_its_range(tmp_path: Path) -> None:
    office = open_office(tmp_path, date(2026, 8, 31))
    friday = date(2026, 11, 6)
    replay(office, date(2026, 8, 31), friday, steady())
    got = office.forecast(friday)
    collector = office.collector()
    registry, _ = build_registry(
        office.store, lambda: [PrinterRuntime("p1")], "st", collector=collector
    )
    exposition = generate_latest(registry).decode()
    series = {}
    for line in exposition.splitlines():
        if line.startswith("printd_stock_runout_timestamp_seconds{") and 'item="blanks"' in line:
            bound = line.split('bound="')[1].split('"')[0]
            series[bound] = float(line.rsplit(" ", 1)[1])
    assert set(series) == {"expected", "earliest", "latest"}
    assert series["earliest"] <= series["expected"] + DAY and series["expected"] <= series["latest"]
    expected_day = datetime.fromtimestamp(series["expected"], ZONE).date()
    assert expected_day == got.runs_out
    assert abs(series["expected"] - office.now[0] - (got.days or 0) * DAY) < 1
    # A delivery shows at once, without waiting for the next ledger read.
    office.store.book([Entry(Item.BLANKS, Kind.RECEIVED, 3_000)], actor="t")
    later = collector.forecasts()["blanks"]
    assert later.runs_out is not None and later.runs_out > got.runs_out  # type: ignore[operator]


def test_closed_days_config_errors_name_the_entry() -> None:
    assert closed_days(["2026-12-31"]) == {date(2026, 12, 31)}
    assert len(closed_days(["2026-12-28..2026-12-31"])) == 4
    with pytest.raises(ValueError, match="31-12-2026"):
        closed_days(["31-12-2026"])
    with pytest.raises(ValueError, match="ends before it starts"):
        closed_days(["2026-12-31..2026-12-28"])


def test_every_series_at_once_passes_promtool_but_the_contracts_day_unit(tmp_path: Path) -> None:
    """With history behind it the collector exports every series, the forecast included.
    promtool's linter wants seconds where the metric contract names `stock_days_remaining` in
    days: that one finding is the contract's, and nothing else may join it."""
    office = open_office(tmp_path, date(2026, 8, 31))
    store = office.store
    store.book([Entry(Item.RIBBONS, Kind.RECEIVED, 2)], actor="t")
    store.install_ribbon("p1", "ymcko", 450, actor="t")
    replay(office, date(2026, 8, 31), date(2026, 9, 30), steady())
    store.book([Entry(Item.BLANKS, Kind.SPOILED, 1, "p1", "jam")], actor="t")
    store.record_retry("p1", "transport")
    runtimes = [PrinterRuntime("p1", up=True, snmp_up=True, snmp_poll_seconds=0.01)]
    collector = PrintdCollector(store, lambda: runtimes, "st", clock=lambda: office.now[0])
    registry, timings = build_registry(store, lambda: runtimes, "st", collector=collector)
    timings.job_done(42.0)
    timings.card_done(9.0)
    exposition = generate_latest(registry).decode()
    for name in (
        "stock_days_remaining",
        "stock_runout_timestamp_seconds",
        "cards_spoiled_total",
        "job_retries_total",
    ):
        assert f"printd_{name}{{" in exposition, name
    assert promtool_complaints(exposition) == [
        'printd_stock_days_remaining use base unit "seconds" instead of "days"'
    ]


MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus")
MONTHS_ID += ("September", "Oktober", "November", "Desember")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August")
MONTHS_EN += ("September", "October", "November", "December")


@pytest.mark.parametrize("language", ["en", "id"])
def test_status_and_report_say_the_date_in_the_operators_language(
    tmp_path: Path, language: str
) -> None:
    import asyncio

    from printd.cli import render
    from printd.cli.i18n import translations
    from printd.config import load_config
    from printd.service import Service
    from tests.conftest import write_config

    office = open_office(tmp_path, date(2026, 8, 31))
    friday = date(2026, 11, 6)
    replay(office, date(2026, 8, 31), friday, steady())
    office.now[0] = at(friday, 17)
    outlook = office.collector().forecasts()
    got = outlook["blanks"]
    assert got.runs_out and got.earliest and got.latest and got.earliest != got.latest
    config = load_config(write_config(tmp_path))
    service = Service(config, office.store, list, asyncio.Event(), {})
    status = service.status(outlook)
    t = translations(language)
    text = render.status(t, status)
    signed = {**service.report(friday.isoformat()), "forecast": status["stock"]["forecast"]}
    report = render.report(t, signed, "st")

    def said(day: date, year: bool = True) -> str:
        month = (MONTHS_ID if language == "id" else MONTHS_EN)[day.month - 1]
        return f"{day.day} {month}" + (f" {day.year}" if year else "")

    first, last = got.earliest, got.latest
    span = (
        f"{first.day}–{said(last, False)}"
        if first.month == last.month
        else f"{said(first, False)} – {said(last, False)}"
    )
    if language == "id":
        line = f"Blangko cukup sampai sekitar {said(got.runs_out)} (antara {span})"
    else:
        line = f"Blanks last until about {said(got.runs_out)} (between {span})"
    assert line in text, text
    assert line in report, report
    young = service.status(
        {"blanks": Forecast(enough_history=False), "ribbon_prints": Forecast(enough_history=False)}
    )
    words = "riwayat belum cukup" if language == "id" else "not enough history yet"
    assert words in render.status(t, young)
