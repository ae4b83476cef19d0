"""The store's transitions read back row by row: the audit event of every kind of move and of
every ledger entry, the job a move returns, the refusals an operator reads, the race guard
between two printers, the images a final state releases, and the transition hooks (the
intake's outbox) that write in the move's own transaction."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from printd.errors import ConflictError, NotFoundError
from printd.intake.outbox import Outbox, msg_id
from printd.queue.jobs import JobState
from printd.queue.ledger import Entry, Item, Kind
from printd.queue.store import INLINE_IMAGE_BYTES, JobSpec, Store, Transition
from tests.queue.station import Clock

HOLDER = {"nik": "9901010101900001", "name": "CONTOH"}
# Larger than the inline limit: the images live in the spool folder, where a release shows.
SPOOLED = b"\x89PNG" + b"\0" * INLINE_IMAGE_BYTES


def open_store(tmp_path: Path, *, retention_seconds: float = 0.0) -> Store:
    store = Store(tmp_path / "state", clock=Clock(), retention_seconds=retention_seconds)
    store.open()
    return store


def at(store: Store, now: float) -> None:
    """Set the store's clock: what follows happens at `now`."""
    clock = store.clock
    assert isinstance(clock, Clock)
    clock.now = now


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path)


def submit(store: Store, job_id: str, images: list[bytes] | None = None) -> None:
    spec = JobSpec(job_id, "ktp-el", HOLDER, 1)
    store.submit(spec, images or [b"front"], actor="operator")


def last_event(store: Store) -> dict[str, Any]:
    row = store.db.execute(
        "SELECT at, kind, job_id, printer, from_state, to_state, actor, reason, hash"
        " FROM events ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    keys = ("at", "kind", "job_id", "printer", "from", "to", "actor", "reason", "hash")
    return dict(zip(keys, row, strict=True))


def job_row(store: Store, job_id: str) -> tuple[Any, ...]:
    return tuple(
        store.db.execute(
            "SELECT state, printer, attempts, last_reason, updated_at FROM jobs WHERE id = ?",
            (job_id,),
        ).fetchone()
    )


def refusal(error: pytest.ExceptionInfo[BaseException]) -> str:
    return str(error.value)


# ---- the event and the returned job of every kind of move -----------------------------------


def test_a_claim_names_its_printer_and_the_state_it_left(store: Store) -> None:
    submit(store, "j")
    at(store, 2_000.0)
    job = store.transition(
        "j", JobState.PRINTING, actor="printd", printer="p1", expect=JobState.QUEUED
    )
    event = last_event(store)
    assert event == {
        "at": 2_000.0,
        "kind": "job",
        "job_id": "j",
        "printer": "p1",
        "from": "queued",
        "to": "printing",
        "actor": "printd",
        "reason": None,
        "hash": event["hash"],
    }
    assert (job.state, job.printer, job.attempts, job.last_reason, job.updated_at) == (
        JobState.PRINTING,
        "p1",
        0,
        None,
        2_000.0,
    )
    # What the move returns is what a caller reading the job again would get.
    assert job == store.get("j")


def test_a_move_without_a_printer_keeps_the_one_the_job_has(store: Store) -> None:
    submit(store, "j")
    store.transition("j", JobState.PRINTING, actor="printd", printer="p1")
    at(store, 2_000.0)
    job = store.transition(
        "j", JobState.QUEUED, actor="printd", reason="cover open", count_attempt=True
    )
    event = last_event(store)
    assert (event["printer"], event["from"], event["to"], event["reason"]) == (
        None,
        "printing",
        "queued",
        "cover open",
    )
    assert (job.state, job.printer, job.attempts, job.last_reason) == (
        JobState.QUEUED,
        "p1",
        1,
        "cover open",
    )
    assert job.updated_at == 2_000.0 == event["at"]
    assert job == store.get("j")
    assert job_row(store, "j") == ("queued", "p1", 1, "cover open", 2_000.0)


def test_a_second_printer_takes_the_job_over_in_what_the_move_returns(store: Store) -> None:
    submit(store, "j")
    store.transition("j", JobState.PRINTING, actor="printd", printer="p1")
    store.transition("j", JobState.QUEUED, actor="printd", reason="p1 lost")
    job = store.transition("j", JobState.PRINTING, actor="printd", printer="p2")
    assert job.printer == "p2"
    assert last_event(store)["printer"] == "p2"
    assert job == store.get("j")


def test_a_held_job_released_names_where_it_came_from(store: Store) -> None:
    submit(store, "j")
    store.transition("j", JobState.HELD, actor="operator", reason="wait for the photo")
    job = store.transition("j", JobState.QUEUED, actor="operator")
    event = last_event(store)
    assert (event["from"], event["to"], event["actor"], event["printer"]) == (
        "held",
        "queued",
        "operator",
        None,
    )
    assert job.last_reason is None and job.printer is None and job.attempts == 0
    assert job == store.get("j")


def test_several_moves_name_each_state_they_leave_and_the_printer(store: Store) -> None:
    submit(store, "j")
    store.transition("j", JobState.PRINTING, actor="printd")
    job = store.transitions(
        "j",
        [(JobState.SPOILED, "card jammed"), (JobState.QUEUED, "again on a new blank")],
        actor="printd",
        printer="p2",
    )
    events = store.events("j")[-2:]
    assert [(e["printer"], e["from"], e["to"], e["reason"]) for e in events] == [
        ("p2", "printing", "spoiled", "card jammed"),
        ("p2", "spoiled", "queued", "again on a new blank"),
    ]
    # No attempt counted unless asked for.
    assert (job.state, job.printer, job.attempts, job.last_reason) == (
        JobState.QUEUED,
        "p2",
        0,
        "again on a new blank",
    )
    assert job == store.get("j")


def test_several_moves_count_one_attempt_on_the_first_move_only(store: Store) -> None:
    submit(store, "one")
    store.transition("one", JobState.PRINTING, actor="printd")
    job = store.transitions("one", [(JobState.QUEUED, "busy")], actor="printd", count_attempt=True)
    assert job.attempts == 1 == store.get("one").attempts

    submit(store, "three")
    store.transition("three", JobState.PRINTING, actor="printd")
    job = store.transitions(
        "three",
        [(JobState.SPOILED, "jam"), (JobState.QUEUED, None), (JobState.PRINTING, None)],
        actor="printd",
        count_attempt=True,
    )
    assert job.attempts == 1 == store.get("three").attempts


# ---- refusals, word for word -------------------------------------------------------------------


def test_a_move_of_an_unknown_job_names_it_and_where_to_look(store: Store) -> None:
    with pytest.raises(NotFoundError) as error:
        store.transition("nope", JobState.CANCELLED, actor="operator")
    assert refusal(error) == "no job 'nope'; `printctl jobs` lists the jobs"


def test_a_forbidden_move_names_the_job(store: Store) -> None:
    submit(store, "j")
    with pytest.raises(ConflictError) as error:
        store.transition("j", JobState.PRINTED, actor="operator")
    assert refusal(error) == (
        "job j is queued; it cannot become printed (from queued: cancelled, held, printing)"
    )


def test_no_steps_is_refused_in_so_many_words(store: Store) -> None:
    submit(store, "j")
    with pytest.raises(ValueError) as error:
        store.transitions("j", [], actor="printd")
    assert refusal(error) == "transitions() needs at least one step"


def test_a_ribbon_without_office_stock_is_refused_with_the_command_to_run(store: Store) -> None:
    with pytest.raises(ConflictError) as error:
        store.install_ribbon("p1", "ymcko", 300, actor="operator")
    assert refusal(error) == (
        "office stock has no ribbon; record the delivery first with "
        "`printctl stock receive --ribbons N`"
    )


def test_an_orphan_found_at_start_is_interrupted_by_printd_with_the_trays_to_check(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path)
    submit(store, "j")
    store.transition("j", JobState.PRINTING, actor="printd", printer="p1")
    store.close()
    store = open_store(tmp_path)
    assert store.interrupt_orphans() == ["j"]
    event = last_event(store)
    assert (event["actor"], event["from"], event["to"], event["printer"]) == (
        "printd",
        "printing",
        "interrupted",
        None,
    )
    assert event["reason"] == (
        "printd stopped while this card was in the printer; check the output"
        " and reject trays, then `printctl reconcile`"
    )
    assert store.get("j").printer == "p1"


# ---- two printers, one job ------------------------------------------------------------------


def test_the_second_printer_to_claim_a_job_is_refused_and_changes_nothing(store: Store) -> None:
    submit(store, "j")
    store.transition("j", JobState.PRINTING, actor="printd", printer="p1", expect=JobState.QUEUED)
    events = store.events("j")
    with pytest.raises(ConflictError) as error:
        store.transition(
            "j", JobState.PRINTING, actor="printd", printer="p2", expect=JobState.QUEUED
        )
    assert refusal(error) == "job j is printing, not queued"
    assert store.get("j").printer == "p1"
    assert store.events("j") == events
    assert store.verify_chain() is None


# ---- images on a final state ------------------------------------------------------------------


def spool_of(store: Store, job_id: str) -> Path:
    return store.spool / job_id


def test_a_move_that_is_not_final_keeps_the_images(store: Store) -> None:
    submit(store, "j", [SPOOLED])
    store.transition("j", JobState.HELD, actor="operator")
    store.transition("j", JobState.QUEUED, actor="operator")
    store.transition("j", JobState.PRINTING, actor="printd")
    store.transitions("j", [(JobState.SPOILED, "jam"), (JobState.QUEUED, None)], actor="printd")
    assert (spool_of(store, "j") / "front.png").read_bytes() == SPOOLED


def test_a_final_move_releases_the_images(store: Store) -> None:
    submit(store, "one", [SPOOLED])
    store.transition("one", JobState.PRINTING, actor="printd")
    store.transition("one", JobState.PRINTED, actor="printd")
    assert not spool_of(store, "one").exists()

    submit(store, "two", [SPOOLED])
    store.transition("two", JobState.PRINTING, actor="printd")
    store.transitions(
        "two", [(JobState.SPOILED, "jam"), (JobState.FAILED, "no more tries")], actor="printd"
    )
    assert not spool_of(store, "two").exists()


def test_a_printed_card_keeps_its_images_for_the_retention(tmp_path: Path) -> None:
    store = open_store(tmp_path, retention_seconds=3_600)
    submit(store, "one", [SPOOLED])
    store.transition("one", JobState.PRINTING, actor="printd")
    store.transition("one", JobState.PRINTED, actor="printd")
    assert (spool_of(store, "one") / "front.png").read_bytes() == SPOOLED

    submit(store, "two", [SPOOLED])
    store.transition("two", JobState.PRINTING, actor="printd")
    store.transitions("two", [(JobState.PRINTED, None)], actor="printd")
    assert (spool_of(store, "two") / "front.png").read_bytes() == SPOOLED


# ---- the audit event of a ledger entry ------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "printer", "reason"),
    [
        (Entry(Item.BLANKS, Kind.RECEIVED, 20), None, "blanks received 20"),
        (
            Entry(Item.BLANKS, Kind.LOADED, 5, "p1", "new box"),
            "p1",
            "blanks loaded 5 (new box)",
        ),
        (
            Entry(Item.BLANKS, Kind.SPOILED, 1, "p1", "jam", job_id="j"),
            "p1",
            "blanks spoiled 1 (jam)",
        ),
    ],
)
def test_a_ledger_entry_leaves_an_event_with_every_field(
    store: Store, entry: Entry, printer: str | None, reason: str
) -> None:
    submit(store, "j")
    at(store, 2_000.0)
    store.book([entry], actor="operator")
    event = last_event(store)
    assert event == {
        "at": 2_000.0,
        "kind": "ledger",
        "job_id": entry.job_id,
        "printer": printer,
        "from": None,
        "to": None,
        "actor": "operator",
        "reason": reason,
        "hash": event["hash"],
    }
    assert store.verify_chain() is None


def test_a_card_printed_books_with_the_move_under_the_job(store: Store) -> None:
    submit(store, "j")
    store.transition("j", JobState.PRINTING, actor="printd", printer="p1")
    store.transition(
        "j",
        JobState.PRINTED,
        actor="printd",
        printer="p1",
        entries=[Entry(Item.BLANKS, Kind.PRINTED, 1, "p1", job_id="j")],
    )
    moved, booked = store.events("j")[-2:]
    assert (moved["kind"], moved["to"]) == ("job", "printed")
    assert booked == {
        "at": booked["at"],
        "kind": "ledger",
        "printer": "p1",
        "from": None,
        "to": None,
        "actor": "printd",
        "reason": "blanks printed 1",
    }


# ---- the ribbon on its installing row ---------------------------------------------------------


def test_an_installed_ribbon_is_named_on_its_ledger_row(store: Store) -> None:
    store.book([Entry(Item.RIBBONS, Kind.RECEIVED, 2)], actor="operator")
    first = store.install_ribbon("p1", "ymcko", 300, actor="operator")
    second = store.install_ribbon("p1", "kdo", 1000, actor="operator")
    assert first >= 1 and second > first
    assert (store.ribbon("p1") or {})["id"] == second
    rows = store.db.execute(
        "SELECT item, kind, printer, quantity, reason, job_id, ribbon_id, actor FROM ledger"
        " WHERE kind = 'installed' ORDER BY seq"
    ).fetchall()
    assert rows == [
        ("ribbons", "installed", "p1", 1, "ymcko:300", None, first, "operator"),
        ("ribbons", "installed", "p1", 1, "kdo:1000", None, second, "operator"),
    ]
    event = last_event(store)
    assert (event["printer"], event["reason"]) == ("p1", "ribbons installed 1 (kdo:1000)")


# ---- transition hooks: the intake's outbox -----------------------------------------------------


def from_intake(store: Store, job_id: str, images: list[bytes] | None = None) -> None:
    submit(store, job_id, images)
    with store.transaction() as db:
        db.execute(
            "INSERT INTO intake_jobs (job_id, ack_subject, received_at) VALUES (?, NULL, 0)",
            (job_id,),
        )


def outbox_rows(store: Store) -> list[tuple[str, str, float, dict[str, Any]]]:
    rows = store.db.execute("SELECT msg_id, job_id, at, body FROM outbox ORDER BY seq")
    return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


def test_a_printed_card_writes_exactly_its_outbox_row(store: Store) -> None:
    outbox = Outbox(store, "loket")
    outbox.attach()
    from_intake(store, "j")
    store.transition("j", JobState.PRINTING, actor="printd", printer="p1")
    assert outbox_rows(store) == []  # a claim is no outcome
    at(store, 2_000.0)
    store.transition("j", JobState.PRINTED, actor="printd", reason="good card")
    event = last_event(store)
    moved = Transition(
        "j", JobState.PRINTING, JobState.PRINTED, "good card", "p1", 2_000.0, event["hash"]
    )
    assert outbox_rows(store) == [
        (
            msg_id(moved),
            "j",
            2_000.0,
            {
                "id": "j",
                "outcome": "printed",
                "from": "printing",
                "station": "loket",
                "printer": "p1",
                "attempts": 0,
                "batch": None,
                "reprint_of": None,
                "at": 2_000.0,
                "reason": "good card",
                "reconciled": False,
            },
        )
    ]
    assert msg_id(moved).endswith(":" + event["hash"][:16])
    assert outbox.written == 1


def test_the_hook_sees_the_printer_named_by_the_move_over_the_jobs_own(store: Store) -> None:
    outbox = Outbox(store, "loket")
    outbox.attach()
    from_intake(store, "j")
    store.transition("j", JobState.PRINTING, actor="printd", printer="p1")
    store.transition("j", JobState.FAILED, actor="printd", printer="p2", reason="bad image")
    [(_, _, _, body)] = outbox_rows(store)
    assert (body["printer"], body["outcome"], body["from"]) == ("p2", "failed", "printing")


def test_a_hook_writes_in_the_moves_own_transaction(store: Store) -> None:
    seen: list[tuple[Transition, bool, int]] = []

    def hook(db: sqlite3.Connection, moved: Transition) -> None:
        # Inside the transaction: the job row already moved, the commit not yet made.
        state = db.execute("SELECT state FROM jobs WHERE id = ?", (moved.job_id,)).fetchone()[0]
        seen.append((moved, db.in_transaction, state))

    store.transition_hooks.append(hook)
    submit(store, "j")
    at(store, 2_000.0)
    store.transition("j", JobState.HELD, actor="operator", reason="photo")
    event = last_event(store)
    assert seen == [
        (
            Transition("j", JobState.QUEUED, JobState.HELD, "photo", None, 2_000.0, event["hash"]),
            True,
            "held",
        )
    ]


def test_a_move_rolled_back_leaves_no_outbox_row(store: Store) -> None:
    outbox = Outbox(store, "loket")
    outbox.attach()
    from_intake(store, "j")
    store.transition("j", JobState.PRINTING, actor="printd", printer="p1")
    events = store.events("j")
    with pytest.raises(ValueError, match="no ledger rule"):
        store.transition(
            "j",
            JobState.PRINTED,
            actor="printd",
            entries=[Entry(Item.RIBBONS, Kind.PRINTED, 1, "p1")],
        )
    assert outbox_rows(store) == []
    assert store.get("j").state is JobState.PRINTING
    assert store.events("j") == events
    # The next move chains on from the last committed event, and reports once.
    store.transition("j", JobState.PRINTED, actor="printd")
    assert [r[3]["outcome"] for r in outbox_rows(store)] == ["printed"]
    assert store.verify_chain() is None


def test_moves_that_are_no_outcome_write_no_outbox_row(store: Store) -> None:
    Outbox(store, "loket").attach()
    from_intake(store, "j")
    store.transition("j", JobState.HELD, actor="operator")
    store.transition("j", JobState.QUEUED, actor="operator")
    store.transition("j", JobState.PRINTING, actor="printd", printer="p1")
    store.transition("j", JobState.QUEUED, actor="printd", reason="cover open")
    assert outbox_rows(store) == []
    store.transition("j", JobState.PRINTING, actor="printd", printer="p1")
    store.transitions("j", [(JobState.SPOILED, "jam"), (JobState.QUEUED, None)], actor="printd")
    assert [(r[3]["outcome"], r[3]["from"], r[3]["reason"]) for r in outbox_rows(store)] == [
        ("spoiled", "printing", "jam")
    ]
