"""The daily reconciliation an office signs (`Service.report`): it balances to the card across
day boundaries in the station's own time zone, lists spoiled cards by reason, and each day's
closing is the next day's opening and, on the last day, what the store holds now."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from printd.config import load_config
from printd.errors import JobError
from printd.queue.jobs import JobState
from printd.queue.ledger import Entry, Item, Kind
from printd.queue.store import JobSpec, Store
from printd.service import Service
from tests.conftest import write_config

ZONE = "Asia/Jayapura"  # UTC+9: local midnight is 15:00 UTC, so a UTC day would split wrongly
TZ = ZoneInfo(ZONE)
PRINTER = "counter-1"
HOLDER = {"nik": "9901010101900001", "name": "CONTOH"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def at(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def station(tmp_path: Path) -> tuple[Service, Store, Clock]:
    path = write_config(tmp_path)
    path.write_text(
        path.read_text().replace('station = "test"', f'station = "test"\ntimezone = "{ZONE}"')
    )
    config = load_config(path)
    assert config.daemon.timezone == ZONE
    clock = Clock()
    store = Store(config.daemon.state_dir, clock=clock)
    store.open()
    return Service(config, store, list, asyncio.Event(), {}), store, clock


def print_card(store: Store, job_id: str, outcome: str, reason: str = "") -> None:
    """A card through the printer as the dispatcher books it."""
    store.submit(JobSpec(job_id, "ktp-el", HOLDER, 1), [b"front"], actor="t")
    store.transition(job_id, JobState.PRINTING, actor="printd", printer=PRINTER)
    if outcome == "printed":
        store.transition(
            job_id,
            JobState.PRINTED,
            actor="printd",
            entries=[Entry(Item.BLANKS, Kind.PRINTED, 1, PRINTER, job_id=job_id)],
        )
    else:
        store.transitions(
            job_id,
            [(JobState.SPOILED, reason), (JobState.FAILED, "given up")],
            actor="printd",
            entries=[Entry(Item.BLANKS, Kind.SPOILED, 1, PRINTER, reason, job_id)],
        )


def check_balance(report: dict) -> None:
    opening, closing = report["opening"]["total"], report["closing"]["total"]
    assert report["balance"] == 0
    assert opening + report["received"] - report["printed"] - report["spoiled_total"] == closing
    assert report["spoiled_total"] == sum(report["spoiled"].values())
    assert report["closing"]["stock"] + report["closing"]["hoppers"] == closing


def test_days_balance_and_chain_in_local_time(station: tuple[Service, Store, Clock]) -> None:
    service, store, clock = station
    clock.at("2026-11-26 09:00")
    service.stock_receive(500, 2, "operator")
    service.blanks_load(100, PRINTER, "operator")
    service.ribbon_install("ymcko", None, PRINTER, "operator")
    print_card(store, "a1", "printed")
    clock.at("2026-11-26 23:59:59.999")
    print_card(store, "a2", "spoiled", "jam")  # the last instant of the 26th, local time
    clock.at("2026-11-27 00:00:00")
    print_card(store, "b1", "spoiled", "rejected")  # the first instant of the 27th
    clock.at("2026-11-27 10:00")
    print_card(store, "b2", "printed")
    print_card(store, "b3", "printed")
    print_card(store, "b4", "spoiled", "rejected")
    print_card(store, "b5", "spoiled", "ribbon ended")
    service.blanks_unload(10, PRINTER, "operator")
    service.stock_receive(40, None, "operator")
    # 16:00 UTC on the 27th is 01:00 on the 28th at the station.
    clock.now = datetime(2026, 11, 27, 16, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    print_card(store, "c1", "printed")

    day1, day2, day3, day4 = (
        service.report(d) for d in ("2026-11-26", "2026-11-27", "2026-11-28", "2026-11-29")
    )
    for report in (day1, day2, day3, day4):
        check_balance(report)
        assert report["timezone"] == ZONE

    assert day1["opening"] == {"stock": 0, "hoppers": 0, "total": 0}
    assert (day1["received"], day1["printed"], day1["spoiled"]) == (500, 1, {"jam": 1})
    assert day1["closing"] == {"stock": 400, "hoppers": 98, "total": 498}

    assert day2["opening"] == day1["closing"]
    assert day2["printed"] == 2
    assert day2["spoiled"] == {"rejected": 2, "ribbon ended": 1}
    assert (day2["received"], day2["loaded"], day2["unloaded"]) == (40, 0, 10)
    assert day2["closing"] == {"stock": 450, "hoppers": 83, "total": 533}

    assert day3["opening"] == day2["closing"]
    assert (day3["printed"], day3["spoiled_total"]) == (1, 0)
    assert day4["opening"] == day4["closing"] == day3["closing"]

    # The last closing is what the store holds now, counted by its own running totals.
    assert day4["closing"]["stock"] == store.total("stock_blanks") == 450
    assert day4["closing"]["hoppers"] == store.total("hopper", PRINTER) == 82
    spoiled = {label: n for name, _p, label, n in store.totals() if name == "cards_spoiled"}
    assert spoiled == {"jam": 1, "rejected": 2, "ribbon ended": 1}


def test_a_day_without_moves_and_a_bad_day(station: tuple[Service, Store, Clock]) -> None:
    service, _store, clock = station
    clock.at("2026-11-20 12:00")
    service.stock_receive(30, None, "operator")
    quiet = service.report("2026-11-21")
    check_balance(quiet)
    assert quiet["opening"] == quiet["closing"] == {"stock": 30, "hoppers": 0, "total": 30}
    assert quiet["spoiled"] == {}
    with pytest.raises(JobError, match="not a date like"):
        service.report("27/11/2026")
