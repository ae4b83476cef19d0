"""The dispatcher's whole loop in one event loop, as the daemon runs it, on a real store and the
simulated printer behind pyusb: the connect that waits for a printer to come back, the next
card prepared while one prints, a stop that lets the card finish, and a turn that fails or
crashes without stopping the printer for good."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from printd.drivers.status import Condition, PrinterState
from printd.errors import PrintdError, TransportError
from printd.queue.jobs import JobState
from tests.queue.station import Station, station_on

HANG = 120.0  # seconds: only a hang check, never a speed limit


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    with station_on(tmp_path) as built:
        yield built.stock()


async def until(condition: Callable[[], bool]) -> None:
    """Wait for `condition`, giving the loop under test its turns."""
    async with asyncio.timeout(HANG):
        while not condition():
            await asyncio.sleep(0.005)


def run_loop(station: Station, body: Callable[[asyncio.Task[None]], Awaitable[None]]) -> None:
    """`Dispatcher.run` in one event loop while `body` acts on it, as the daemon runs it."""

    async def main() -> None:
        station.dispatcher.wake = asyncio.Event()
        task = asyncio.create_task(station.dispatcher.run())
        try:
            await body(task)
        finally:
            if not task.done():
                await station.dispatcher.stop(HANG)
                async with asyncio.timeout(HANG):
                    await task

    asyncio.run(main())


def test_the_connect_waits_for_the_printer_and_says_why_meanwhile(station: Station) -> None:
    station.built.hands.unplug()
    station.submit("job-1")
    dispatcher = station.dispatcher

    async def body(task: asyncio.Task[None]) -> None:
        await until(lambda: dispatcher.runtime.reason.startswith("not reachable: "))
        runtime = dispatcher.runtime
        assert (runtime.state, runtime.conditions, runtime.up) == (
            PrinterState.OFFLINE,
            {Condition.OFFLINE},
            False,
        )
        assert "no USB printer" in runtime.reason and "is attached" in runtime.reason
        assert station.printer_events()[-1] == f"offline: {runtime.reason}"
        station.built.hands.replug()
        await until(lambda: station.state("job-1") is JobState.PRINTED)
        assert runtime.up is True
        assert runtime.identity is not None and runtime.identity.model == "Primacy"

    with structlog.testing.capture_logs() as logs:
        run_loop(station, body)
    assert [e["model"] for e in logs if e["event"] == "printer_connected"] == ["Primacy"]
    assert station.cards_fed() == 1


def test_a_stop_while_the_printer_is_away_ends_the_connect(station: Station) -> None:
    station.built.hands.unplug()
    dispatcher = station.dispatcher

    async def body(task: asyncio.Task[None]) -> None:
        await until(lambda: dispatcher.runtime.reason.startswith("not reachable: "))
        await dispatcher.stop(HANG)
        async with asyncio.timeout(HANG):
            await task

    with structlog.testing.capture_logs() as logs:
        run_loop(station, body)
    # The connect gives up with the transport's own error: a failed turn, and the loop ends.
    failed = [e for e in logs if e["event"] == "dispatcher_step_failed"]
    assert [e["error"] for e in failed][-1:] and "no USB printer" in failed[-1]["error"]
    assert dispatcher._connected is False


def test_the_next_card_is_prepared_while_one_prints_and_is_the_one_printed(
    station: Station,
) -> None:
    watched = station.watch()
    for number in range(1, 4):
        station.submit(f"job-{number}")

    async def body(task: asyncio.Task[None]) -> None:
        await until(lambda: station.store.total("jobs_state", "", JobState.PRINTED) == 3)

    run_loop(station, body)
    assert [card.job_id for card in watched.printed] == ["job-1", "job-2", "job-3"]
    assert [card.job_id for card in watched.prepared] == ["job-2", "job-3"]
    # The cards printed second and third are the very ones prepared ahead, not made again.
    assert watched.printed[1] is watched.prepared[0]
    assert watched.printed[2] is watched.prepared[1]
    assert all(card.ribbon_type == "ymcko" for card in watched.printed)
    assert station.cards_fed() == 3


def test_a_stop_lets_the_card_inside_finish_then_closes_the_printer(station: Station) -> None:
    station.built.hands.inject("slow", seconds=1)
    station.submit("job-1")
    dispatcher = station.dispatcher

    async def body(task: asyncio.Task[None]) -> None:
        # The slow card is inside for a second; should this loop miss it, stop still holds.
        await until(
            lambda: (
                dispatcher.runtime.current_job == "job-1"
                or station.state("job-1") is JobState.PRINTED
            )
        )
        await dispatcher.stop(HANG)
        assert station.state("job-1") is JobState.PRINTED  # finished before stop returned
        async with asyncio.timeout(HANG):
            await task

    run_loop(station, body)
    assert dispatcher._connected is False  # closed on the way out
    assert station.cards_fed() == 1


def test_a_stop_waits_no_longer_than_its_drain_timeout(station: Station) -> None:
    station.built.hands.inject("slow", seconds=3)
    station.submit("job-1")
    dispatcher = station.dispatcher

    async def body(task: asyncio.Task[None]) -> None:
        await until(lambda: dispatcher.runtime.current_job == "job-1")
        await dispatcher.stop(0.01)  # returns, without raising, with the card still inside
        assert station.state("job-1") is JobState.PRINTING
        async with asyncio.timeout(HANG):
            await task  # the loop itself still ends only after the card

    run_loop(station, body)
    assert station.state("job-1") is JobState.PRINTED


def test_the_card_is_made_for_the_ribbon_recorded_not_the_configured_one(tmp_path: Path) -> None:
    with station_on(tmp_path) as station:
        station.stock(ribbon="ymckok")  # [[printer]] says ymcko
        watched = station.watch()
        station.submit("job-1", sides=2)
        station.submit("job-2", sides=2)

        async def body(task: asyncio.Task[None]) -> None:
            await until(lambda: station.store.total("jobs_state", "", JobState.PRINTED) == 2)

        run_loop(station, body)
        # Made now (job-1) and prepared ahead (job-2), both for the ribbon in the printer.
        assert [(c.job_id, c.ribbon_type) for c in watched.printed] == [
            ("job-1", "ymckok"),
            ("job-2", "ymckok"),
        ]
        assert watched.printed[1] is watched.prepared[0]


def print_one_after_a_fault(
    station: Station, fault: BaseException, *, at_connect: bool = False
) -> list[Any]:
    """One job through the loop, the first status read (or connect) raising `fault`; the log
    lines."""
    watched = station.watch()
    if at_connect:
        watched.connect_fault = fault
    else:
        watched.status_fault = fault
    station.submit("job-1")

    async def body(task: asyncio.Task[None]) -> None:
        await until(lambda: station.state("job-1") is JobState.PRINTED)

    with structlog.testing.capture_logs() as logs:
        run_loop(station, body)
    return logs


@pytest.mark.parametrize(
    ("fault", "event", "level"),
    [
        (PrintdError("the store is busy"), "dispatcher_step_failed", "warning"),
        (RuntimeError("a bug in a status read"), "dispatcher_step_crashed", "error"),
    ],
)
def test_a_turn_that_fails_is_logged_and_the_loop_goes_on(
    station: Station, fault: BaseException, event: str, level: str
) -> None:
    logs = print_one_after_a_fault(station, fault)
    (failed,) = [e for e in logs if e["event"] == event]
    assert failed["log_level"] == level
    if isinstance(fault, PrintdError):
        assert failed["error"] == "the store is busy"
    else:
        assert failed["exc_info"]
    assert station.cards_fed() == 1


def test_only_a_transport_fault_is_retried_by_the_connect(station: Station) -> None:
    """A printer that answers the connect with something else than a lost link is not
    reached again and again as if it were away: the turn fails with its words."""
    fault = PrintdError("the printer answered in another language")
    logs = print_one_after_a_fault(station, fault, at_connect=True)
    failed = [e["error"] for e in logs if e["event"] == "dispatcher_step_failed"]
    assert failed == ["the printer answered in another language"]
    assert not [e for e in logs if "not reachable" in str(e.get("reason", ""))]


def test_a_transport_fault_in_a_status_read_is_a_lost_link_not_a_failed_turn(
    station: Station,
) -> None:
    logs = print_one_after_a_fault(station, TransportError("the cable moved"))
    assert [e["error"] for e in logs if e["event"] == "printer_lost"] == ["the cable moved"]
    assert not [e for e in logs if e["event"].startswith("dispatcher_step")]
    assert station.store.total("job_retries", station.name, "transport") == 1


def test_a_printer_condition_adds_only_what_printds_records_lack(tmp_path: Path) -> None:
    with station_on(tmp_path) as station:
        station.stock(blanks=1)  # one blank by printd's count, and a ribbon recorded
        station.built.hands.open_cover()
        station.turn()
        assert station.dispatcher.runtime.conditions == {Condition.COVER_OPEN}
