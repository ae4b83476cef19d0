"""The dispatcher's turns when the printer is not simply ready, one turn at a time on a real
store: the printer reporting a condition, the link lost and found again, a printer gone between
the status read and the feed, a crash after the card may have moved, and the printer-ready
files of a raw printer sent over a real TCP port."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from printd.drivers.status import Condition, PrinterState, describe_conditions
from printd.errors import TransportError
from printd.queue.dispatcher import ACTOR
from printd.queue.jobs import JobState
from tests.integration.test_raw_printer import PRINT_FILE, PrinterSink, job_file
from tests.queue.station import Station, station_on


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    with station_on(tmp_path) as built:
        yield built.stock()


def _last_move(station: Station, job_id: str) -> tuple[str, str, str, str]:
    last = station.store.events(job_id)[-1]
    return last["from"], last["to"], last["actor"], last["reason"]


# ---- the printer's own conditions, and an idle printer ----------------------------------------


def test_a_printer_condition_pauses_with_what_printd_lacks_too_and_feeds_nothing(
    tmp_path: Path,
) -> None:
    with station_on(tmp_path) as station:
        # Neither blanks nor a ribbon recorded: the operator is told of both at the same visit.
        station.submit("job-1")
        station.built.hands.open_cover()
        with structlog.testing.capture_logs() as logs:
            station.turn()
        runtime = station.dispatcher.runtime
        status = runtime.status
        assert status is not None and Condition.COVER_OPEN in status.conditions
        expected = set(status.conditions) | {Condition.HOPPER_EMPTY, Condition.RIBBON_MISSING}
        assert runtime.state is PrinterState.NEEDS_OPERATOR
        assert runtime.conditions == expected
        # The printer's own words follow.
        assert status.detail == "Rse;o: cover open"
        reason = f"{describe_conditions(expected)} (Rse;o: cover open)"
        assert runtime.reason == reason
        assert runtime.up is True
        assert runtime.printer_ribbon_remaining == status.supplies.ribbon_remaining.value
        assert runtime.printer_ribbon_remaining is not None
        assert f"needs_operator: {reason}" in station.printer_events()
        assert [e["state"] for e in logs if e["event"] == "printer_state"] == ["needs_operator"]
        assert station.cards_fed() == 0
        assert station.state("job-1") is JobState.QUEUED


def test_an_idle_printer_is_idle_with_no_reason(station: Station) -> None:
    station.built.hands.open_cover()
    station.turn()
    assert station.dispatcher.runtime.state is PrinterState.NEEDS_OPERATOR
    station.built.hands.close_cover()
    station.turn()
    runtime = station.dispatcher.runtime
    assert (runtime.state, runtime.conditions, runtime.reason) == (PrinterState.IDLE, set(), "")
    assert station.printer_events()[-1] == "idle: idle"


# ---- the link lost, and found again --------------------------------------------------------


def test_a_lost_link_takes_the_printer_offline_counts_a_retry_and_reconnects_when_back(
    station: Station,
) -> None:
    station.submit("job-1")
    station.turn()
    assert station.state("job-1") is JobState.PRINTED
    station.built.hands.unplug()
    with structlog.testing.capture_logs() as logs:
        station.turn()
    runtime = station.dispatcher.runtime
    (lost,) = [e for e in logs if e["event"] == "printer_lost"]
    assert lost["log_level"] == "warning"
    assert lost["printer"] == runtime.name == station.name  # every line names its printer
    assert (
        "the printer is gone (unplugged or powered off)" in lost["error"]
    )  # the transport's words
    assert runtime.up is False
    assert runtime.state is PrinterState.OFFLINE
    assert runtime.conditions == {Condition.OFFLINE}
    assert runtime.reason == f"connection lost: {lost['error']}"
    assert station.printer_events()[-1] == f"offline: connection lost: {lost['error']}"
    assert station.store.total("job_retries", station.name, "transport") == 1
    assert station.dispatcher._connected is False  # the next turn connects afresh
    assert station.dispatcher._losses_in_a_row == 1

    station.built.hands.replug()
    station.submit("job-2")
    with structlog.testing.capture_logs() as logs:
        station.turn()
    assert [e["event"] for e in logs if e["event"].startswith("printer_")][:1] == [
        "printer_connected"
    ]
    assert runtime.up is True
    assert runtime.status is not None
    assert station.dispatcher._losses_in_a_row == 0
    assert station.state("job-2") is JobState.PRINTED
    assert station.cards_fed() == 2


def test_the_wait_before_reconnecting_doubles_with_each_loss_up_to_the_cap(
    station: Station,
) -> None:
    dispatcher = station.dispatcher
    initial = dispatcher.queue.retry_initial_seconds
    cap = dispatcher.queue.reconnect_max_seconds
    assert initial * 8 < cap < initial * 2**10  # what the schedule below assumes
    assert dispatcher._reconnect_delay() == initial  # a new dispatcher has lost nothing yet
    station.turn()
    station.built.hands.unplug()
    with pytest.raises(TransportError) as lost:
        station.built.driver.status()
    waits = []
    for _ in range(10):
        waits.append(dispatcher._reconnect_delay())
        dispatcher.wake = asyncio.Event()
        dispatcher.wake.set()  # as a job arriving would: the wait itself is not what is tested
        asyncio.run(dispatcher._lost(lost.value))
    assert dispatcher._losses_in_a_row == 10
    assert waits[:4] == [initial, initial * 2, initial * 4, initial * 8]
    assert waits[-1] == cap
    assert station.store.total("job_retries", station.name, "transport") == 10
    # One status read that answers starts the count again.
    station.built.hands.replug()
    station.turn()
    assert dispatcher._losses_in_a_row == 0
    assert dispatcher._reconnect_delay() == initial


def test_a_stop_asked_while_connecting_takes_no_job(station: Station) -> None:
    station.submit("job-1")
    station.dispatcher._stopping = True
    with structlog.testing.capture_logs() as logs:
        station.turn()
    assert [e["event"] for e in logs if e["event"].startswith("printer_")] == ["printer_connected"]
    assert station.dispatcher.runtime.status is None  # not even a status read
    assert station.dispatcher.runtime.up is True  # but connected, and shown so
    assert station.state("job-1") is JobState.QUEUED
    assert station.cards_fed() == 0


# ---- the card's own turn -----------------------------------------------------------------------


def test_a_printer_gone_before_the_feed_keeps_the_job_first_and_goes_offline(
    station: Station,
) -> None:
    station.submit("job-1")
    station.built.driver.connect()
    station.dispatcher._connected = True
    job = station.store.get("job-1")
    station.built.hands.unplug()  # after the status read, before the card's first command
    with structlog.testing.capture_logs() as logs:
        asyncio.run(station.dispatcher._print(job))
    (requeued,) = [e for e in logs if e["event"] == "job_requeued"]
    error = requeued["reason"]
    assert error
    after = station.store.get("job-1")
    assert (after.state, after.attempts) == (JobState.QUEUED, 0)
    assert _last_move(station, "job-1") == (
        "printing",
        "queued",
        ACTOR,
        f"printer unreachable before the blank was fed: {error}",
    )
    runtime = station.dispatcher.runtime
    assert (runtime.state, runtime.reason) == (PrinterState.OFFLINE, f"connection lost: {error}")
    assert station.store.total("job_retries", station.name, "transport") == 1
    assert runtime.current_job is None
    assert station.cards_fed() == 0
    assert station.store.total("hopper", station.name) == 10


def test_a_crash_after_the_feed_is_never_guessed_the_operator_reconciles(
    station: Station,
) -> None:
    watched = station.watch()
    watched.after_print_fault = RuntimeError("a bug after the card")
    station.submit("job-1")
    with structlog.testing.capture_logs() as logs:
        station.turn()
    assert watched.inside == ["job-1"]
    assert station.cards_fed() == 1  # the card did leave the printer
    assert station.state("job-1") is JobState.INTERRUPTED
    assert _last_move(station, "job-1") == (
        "printing",
        "interrupted",
        ACTOR,
        (
            "internal error: a bug after the card; check the output and reject trays, then "
            "`printctl reconcile`"
        ),
    )
    (crash,) = [e for e in logs if e["event"] == "job_outcome_unknown"]
    assert crash["log_level"] == "error" and crash["exc_info"]
    # Nothing booked for a card whose fate is not known: the operator's reconcile books it.
    assert station.store.total("hopper", station.name) == 10
    assert station.dispatcher.runtime.current_job is None
    assert len(station.cards_done) == 1


# ---- printer-ready files on a raw printer ---------------------------------------------------


@pytest.fixture
def raw_station(tmp_path: Path) -> Iterator[tuple[Station, PrinterSink]]:
    port = PrinterSink(len(PRINT_FILE))
    try:
        with station_on(
            tmp_path, f"tcp://127.0.0.1:{port.port}", raw=True, printed_counter=lambda: port.cards
        ) as station:
            # A ribbon whose back prints on its own trailing K: one print a two-sided card.
            yield station.stock(ribbon="ymckok"), port
    finally:
        port.server.close()


def _submit_printer_ready(station: Station, job_id: str, sides: int) -> None:
    body = json.loads(job_file(station.store.state_dir, job_id, sides).read_text())
    station.service.submit(body, "operator")


def test_a_printer_ready_file_reaches_the_raw_printer_byte_for_byte_and_is_booked(
    raw_station: tuple[Station, PrinterSink],
) -> None:
    station, port = raw_station
    _submit_printer_ready(station, "raw-1", sides=2)
    station.turn()
    assert bytes(port.received) == PRINT_FILE
    assert station.state("raw-1") is JobState.PRINTED
    ribbon = station.store.ribbon(station.name)
    assert ribbon is not None
    # Booked by the recorded ribbon's type: two sides on a YMCKOK ribbon take one print.
    assert ribbon["used"] == 1
    assert station.store.total("hopper", station.name) == 9


def test_a_printer_ready_file_whose_spool_is_gone_fails_and_sends_nothing(
    raw_station: tuple[Station, PrinterSink],
) -> None:
    station, port = raw_station
    _submit_printer_ready(station, "raw-1", sides=1)
    path, _ = station.store.image_paths("raw-1")
    with station.store.transaction() as db:  # what a damaged disk leaves
        db.execute("DELETE FROM images WHERE job_id = 'raw-1'")
    path.unlink(missing_ok=True)
    with structlog.testing.capture_logs() as logs:
        station.turn()
    reason = "the file of job raw-1 is missing from the spool"
    assert _last_move(station, "raw-1") == ("printing", "failed", ACTOR, reason)
    assert [e["reason"] for e in logs if e["event"] == "job_failed"] == [reason]
    assert port.received == b""
    assert station.store.total("hopper", station.name) == 10


def test_a_printer_ready_file_is_refused_by_a_card_image_printer(station: Station) -> None:
    _submit_printer_ready(station, "raw-1", sides=1)
    station.turn()
    assert _last_move(station, "raw-1") == (
        "printing",
        "failed",
        ACTOR,
        (
            f"job raw-1 carries a printer-ready file, but printer {station.name} uses the evolis "
            'driver, which prints card images; send it to a printer configured with driver = "raw"'
        ),
    )
    assert station.cards_fed() == 0


# ---- the printer's state, told once a change ------------------------------------------------


def test_a_state_is_told_once_when_it_changes_and_again_when_its_conditions_do(
    station: Station,
) -> None:
    station.built.hands.open_cover()
    with structlog.testing.capture_logs() as logs:
        station.turn()
        station.turn()  # the same state, the same conditions: nothing new to tell
    told = [e for e in logs if e["event"] == "printer_state"]
    reason = "cover open: close the printer's cover (Rse;o: cover open)"
    assert [(e["state"], e["conditions"], e["reason"], e["log_level"]) for e in told] == [
        ("needs_operator", ["cover_open"], reason, "info")
    ]
    assert station.printer_events().count(f"needs_operator: {reason}") == 1
    station.built.hands.unload_blanks(50)  # the same state, one more condition
    with structlog.testing.capture_logs() as logs:
        station.turn()
    told = [e for e in logs if e["event"] == "printer_state"]
    assert [(e["state"], e["conditions"]) for e in told] == [
        ("needs_operator", ["cover_open", "hopper_empty"])
    ]
    assert station.printer_events()[-1].startswith("needs_operator: cover open: ")


def test_a_colour_card_is_not_fed_on_a_black_ribbon(tmp_path: Path) -> None:
    with station_on(tmp_path) as station:
        station.stock(ribbon="kb")
        station.submit("job-1")
        station.turn()
        runtime = station.dispatcher.runtime
        assert (runtime.state, runtime.conditions) == (
            PrinterState.NEEDS_OPERATOR,
            {Condition.RIBBON_WRONG},
        )
        assert runtime.reason == (
            f"job job-1 needs a colour ribbon and {station.name} has KB; "
            "install a colour ribbon (`printctl ribbon install --type ymcko`)"
        )
        assert station.cards_fed() == 0
