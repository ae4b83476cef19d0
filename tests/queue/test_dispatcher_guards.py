"""The dispatcher's own decisions, one turn of its loop at a time, on a real store and the
simulated printer behind pyusb: its supplies guards before a blank is fed, and how many blanks a
job may spend before it fails.

Here the printer's hopper and ribbon are full whatever the ledger says, so the printer's own
refusal cannot stand in for printd's: only `Dispatcher._supplies_block` stops the feed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from printd.drivers.base import Outcome, PrintResult
from printd.drivers.status import Condition, PrinterState, describe_conditions
from printd.queue.dispatcher import ACTOR
from printd.queue.jobs import JobState
from tests.queue.station import MAX_ATTEMPTS, Station, station_on


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    with station_on(tmp_path) as built:
        yield built


def test_no_blank_is_fed_when_printds_count_says_the_hopper_is_empty(station: Station) -> None:
    station.service.ribbon_install("ymcko", None, station.name, "operator")
    station.submit("job-1")
    station.turn()
    runtime = station.dispatcher.runtime
    assert runtime.state is PrinterState.NEEDS_OPERATOR
    assert runtime.conditions == {Condition.HOPPER_EMPTY}
    assert "by our count" in runtime.reason and "blanks load" in runtime.reason
    assert station.state("job-1") is JobState.QUEUED
    assert station.cards_fed() == 0
    # Recording the load is all it takes: the next turn prints.
    station.service.blanks_load(1, station.name, "operator")
    station.turn()
    assert station.state("job-1") is JobState.PRINTED
    assert station.cards_fed() == 1


def test_no_blank_is_fed_without_a_recorded_ribbon(station: Station) -> None:
    station.service.blanks_load(5, station.name, "operator")
    station.submit("job-1")
    station.turn()
    assert station.dispatcher.runtime.conditions == {Condition.RIBBON_MISSING}
    assert station.state("job-1") is JobState.QUEUED
    assert station.cards_fed() == 0


def test_no_blank_is_fed_when_printds_count_says_the_ribbon_is_short(station: Station) -> None:
    station.service.blanks_load(5, station.name, "operator")
    station.service.ribbon_install("ymcko", 1, station.name, "operator")
    station.submit("job-1", sides=2)  # two prints on a YMCKO ribbon; one is left by our count
    station.turn()
    runtime = station.dispatcher.runtime
    assert runtime.conditions == {Condition.RIBBON_OUT}
    assert "1 prints left by our count" in runtime.reason
    assert station.state("job-1") is JobState.QUEUED
    assert station.cards_fed() == 0


def test_a_job_fails_after_max_attempts_spoiled_cards_and_never_takes_another_blank(
    station: Station,
) -> None:
    station.service.blanks_load(10, station.name, "operator")
    station.service.ribbon_install("ymcko", None, station.name, "operator")
    station.submit("job-1")
    logs: list[dict[str, object]] = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        station.built.hands.inject("reject")
        with structlog.testing.capture_logs() as captured:
            station.turn()
        logs += [e for e in captured if e["event"] == "job_spoiled"]
        assert station.cards_fed() == attempt
        job = station.store.get("job-1")
        assert job.attempts == attempt
        assert job.state is (JobState.FAILED if attempt == MAX_ATTEMPTS else JobState.QUEUED)
    station.turn()  # nothing left to print: the failed job takes no fourth blank
    assert station.cards_fed() == MAX_ATTEMPTS
    spoiled = station.store.db.execute(
        "SELECT sum(quantity) FROM ledger WHERE kind = 'spoiled' AND job_id = 'job-1'"
    ).fetchone()[0]
    assert spoiled == MAX_ATTEMPTS
    # What `printctl show` and the log tell the operator about each attempt.
    moves = [(e["to"], e["reason"]) for e in station.store.events("job-1") if e["kind"] == "job"]
    assert moves[1:] == [
        ("printing", "printing on counter-1"),
        ("spoiled", "card spoiled: rejected"),
        ("queued", "retrying on a new blank (attempt 2)"),
        ("printing", "printing on counter-1"),
        ("spoiled", "card spoiled: rejected"),
        ("queued", "retrying on a new blank (attempt 3)"),
        ("printing", "printing on counter-1"),
        ("spoiled", "card spoiled: rejected"),
        ("failed", "gave up after 3 spoiled cards"),
    ]
    assert [(e["reason"], e["attempts"], e["final"]) for e in logs] == [
        ("rejected", 1, False),
        ("rejected", 2, False),
        ("rejected", 3, True),
    ]
    assert station.store.total("hopper", station.name) == 10 - MAX_ATTEMPTS


def test_a_printed_card_is_booked_to_its_job_printer_and_ribbon(station: Station) -> None:
    station.service.blanks_load(5, station.name, "operator")
    station.service.ribbon_install("ymcko", None, station.name, "operator")
    station.submit("job-1", sides=2)
    with structlog.testing.capture_logs() as logs:
        station.turn()
    assert station.state("job-1") is JobState.PRINTED
    assert any(e["event"] == "job_printed" and e.get("job_id") == "job-1" for e in logs), logs
    rows = station.store.db.execute(
        "SELECT item, kind, quantity, printer FROM ledger WHERE job_id = 'job-1' ORDER BY seq"
    ).fetchall()
    name = station.name
    assert rows == [("blanks", "printed", 1, name), ("ribbon_prints", "used", 2, name)]
    assert station.store.total("ribbon_prints_used", name) == 2
    assert station.store.total("cards_printed", name) == 1
    moves = [(e["to"], e["reason"]) for e in station.store.events("job-1") if e["kind"] == "job"]
    assert moves[-1] == ("printed", "card left the printer")


def test_the_wait_reported_is_never_negative_and_counts_from_submit(station: Station) -> None:
    """submit → printed goes to the job-duration histogram; a station clock stepped back after
    the submit must not report a negative wait."""
    station.service.blanks_load(5, station.name, "operator")
    station.service.ribbon_install("ymcko", None, station.name, "operator")
    station.store.clock = lambda: time.time() + 1000  # submitted "in the future"
    station.submit("future")
    station.turn()
    station.store.clock = lambda: time.time() - 1000  # submitted long ago
    station.submit("past")
    station.turn()
    assert station.store.get("past").state is JobState.PRINTED
    future, past = station.jobs_done
    assert future == 0.0
    assert 1000 <= past < 1000 + 600  # the bound only catches nonsense, never a slow machine


def test_a_spoiled_card_without_a_reason_is_booked_as_rejected(station: Station) -> None:
    station.service.blanks_load(5, station.name, "operator")
    station.service.ribbon_install("ymcko", None, station.name, "operator")
    station.submit("job-1")
    job = station.store.transition("job-1", JobState.PRINTING, actor=ACTOR, printer=station.name)
    station.dispatcher._book(job, PrintResult(Outcome.SPOILED), structlog.get_logger())
    reasons = station.store.db.execute(
        "SELECT reason FROM ledger WHERE kind = 'spoiled' AND job_id = 'job-1'"
    ).fetchall()
    assert reasons == [("rejected",)]
    assert station.store.total("cards_spoiled", station.name, "rejected") == 1


def test_a_jammed_card_pauses_the_printer_with_the_reason(station: Station) -> None:
    station.service.blanks_load(5, station.name, "operator")
    station.service.ribbon_install("ymcko", None, station.name, "operator")
    station.submit("job-1")
    station.built.hands.inject("jam")
    with structlog.testing.capture_logs() as logs:
        station.turn()
    runtime = station.dispatcher.runtime
    assert runtime.state is PrinterState.NEEDS_OPERATOR
    assert runtime.conditions == {Condition.JAM}
    assert runtime.reason == f"card spoiled (jam); {describe_conditions({Condition.JAM})}"
    assert station.state("job-1") is JobState.QUEUED
    spoiled = [e for e in logs if e["event"] == "job_spoiled"]
    assert [(e["reason"], e["attempts"], e["final"]) for e in spoiled] == [("jam", 1, False)]


def test_an_unknown_outcome_is_left_to_the_operator_with_what_to_do(station: Station) -> None:
    station.service.blanks_load(5, station.name, "operator")
    station.service.ribbon_install("ymcko", None, station.name, "operator")
    station.submit("job-1")
    job = station.store.transition("job-1", JobState.PRINTING, actor=ACTOR, printer=station.name)
    with structlog.testing.capture_logs() as logs:
        station.dispatcher._book(job, PrintResult(Outcome.UNKNOWN), structlog.get_logger())
    assert station.state("job-1") is JobState.INTERRUPTED
    last = station.store.events("job-1")[-1]
    assert last["reason"] == (
        "outcome unknown; check the output and reject trays, then `printctl reconcile`"
    )
    assert [(e["event"], e["reason"]) for e in logs if e["log_level"] == "error"] == [
        ("job_interrupted", None)
    ]
    # The link is not trusted after a card it lost track of: the next turn connects afresh.
    with structlog.testing.capture_logs() as logs:
        station.turn()
    assert [e["event"] for e in logs if e["event"].startswith("printer_")][:1] == [
        "printer_connected"
    ]
    # The driver's own words lead the reason when it has them.
    station.store.transition("job-1", JobState.SPOILED, actor="operator")
    station.store.transition("job-1", JobState.QUEUED, actor="operator")
    job = station.store.transition("job-1", JobState.PRINTING, actor=ACTOR, printer=station.name)
    with structlog.testing.capture_logs() as logs:
        station.dispatcher._book(
            job, PrintResult(Outcome.UNKNOWN, "link lost mid-card"), structlog.get_logger()
        )
    assert station.store.events("job-1")[-1]["reason"].startswith("link lost mid-card; check")
    assert [e["reason"] for e in logs if e["event"] == "job_interrupted"] == ["link lost mid-card"]


def test_the_printers_own_empty_hopper_is_a_reason_too(station: Station) -> None:
    """Printd's count says blanks; the printer's level says none (a model that reports the
    level without raising a condition would get this far): no feed, and the operator is told."""
    station.service.blanks_load(5, station.name, "operator")
    station.service.ribbon_install("ymcko", None, station.name, "operator")
    station.submit("job-1")
    job = station.store.get("job-1")
    station.built.driver.connect()
    station.built.hands.unload_blanks(49)
    assert station.dispatcher._supplies_block(job, station.built.driver.status()) is None
    station.built.hands.unload_blanks(1)
    assert station.dispatcher._supplies_block(job, station.built.driver.status()) == (
        Condition.HOPPER_EMPTY,
        "the printer reports an empty hopper; load blanks",
    )
