"""What the dispatcher leaves behind on each path through one card, read back from the store,
the log and its runtime: the audit trail an operator reads with `printctl show`, the retries
the metrics count, and the printer's state `printctl status` shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from printd.drivers.status import Condition, PrinterState
from printd.queue.dispatcher import ACTOR
from printd.queue.jobs import JobState
from tests.queue.station import Station, station_on


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    with station_on(tmp_path) as built:
        yield built.stock()


def test_a_printed_card_leaves_its_printer_in_the_trail_and_the_runtime_free(
    station: Station,
) -> None:
    station.submit("job-1")
    with structlog.testing.capture_logs() as logs:
        station.turn()
    assert station.state("job-1") is JobState.PRINTED
    moves = [
        (e["from"], e["to"], e["printer"], e["actor"])
        for e in station.store.events("job-1")
        if e["kind"] == "job"
    ]
    assert moves[1:] == [
        ("queued", "printing", station.name, ACTOR),
        ("printing", "printed", None, ACTOR),
    ]
    assert "printing: printing job job-1" in station.printer_events()
    assert [e["attempt"] for e in logs if e["event"] == "job_printing"] == [1]
    runtime = station.dispatcher.runtime
    assert runtime.current_job is None
    (card_seconds,) = station.cards_done
    assert 0 <= card_seconds < 600  # the bound only catches nonsense, never a slow machine


def test_a_refusal_at_the_feed_keeps_the_job_first_and_says_the_printers_words(
    tmp_path: Path,
) -> None:
    device = "sim://primacy?print_seconds=0&hopper=50&ribbon=ymcko&firmware=output-hopper-full"
    with station_on(tmp_path, device) as station:
        station.stock()
        # One job at a time: each turn has its own event loop, and a card prepared ahead in
        # one loop cannot be awaited in the next.
        for number in range(1, 4):
            station.submit(f"job-{number}")
            station.turn()
        station.submit("job-4")
        assert station.cards_fed() == 3
        with structlog.testing.capture_logs() as logs:
            station.turn()
        assert station.cards_fed() == 3  # the printer refused: no blank moved
        job = station.store.get("job-4")
        assert job.state is JobState.QUEUED and job.attempts == 0
        last = station.store.events("job-4")[-1]
        assert (last["from"], last["to"], last["actor"]) == ("printing", "queued", ACTOR)
        assert "HOPPER FULL" in last["reason"]
        runtime = station.dispatcher.runtime
        assert runtime.state is PrinterState.NEEDS_OPERATOR
        (condition,) = runtime.conditions
        assert isinstance(condition, Condition)
        assert runtime.reason == last["reason"]
        assert station.store.total("job_retries", station.name, str(condition)) == 1
        assert [e["reason"] for e in logs if e["event"] == "job_requeued"] == [last["reason"]]
        assert station.store.total("hopper", station.name) == 10 - 3


def test_a_job_whose_images_are_gone_fails_with_the_reason_and_takes_no_blank(
    station: Station,
) -> None:
    station.submit("job-1")
    # What a damaged disk leaves: the job's row without its images.
    with station.store.transaction() as db:
        db.execute("DELETE FROM images WHERE job_id = 'job-1'")
    with structlog.testing.capture_logs() as logs:
        station.turn()
    assert station.state("job-1") is JobState.FAILED
    last = station.store.events("job-1")[-1]
    reason = "the images of job job-1 are missing from the spool"
    assert (last["from"], last["to"], last["actor"], last["reason"]) == (
        "printing", "failed", ACTOR, reason
    )  # fmt: skip
    assert [e["reason"] for e in logs if e["event"] == "job_failed"] == [reason]
    assert station.cards_fed() == 0
    assert station.dispatcher.runtime.current_job is None
