"""The transactional outbox: every outcome of a job taken from the office's queue becomes a row
in the same transaction as the state change, so an outcome is never lost and never invented.
The drainer (drainer.py) publishes the rows in order and deletes them once the server has them.

Which outcomes: printed; spoiled (the job prints again on a new blank, or fails); failed;
cancelled; interrupted; and an interrupted job's reconciliation (printed, or spoiled).
Only jobs that came from the intake, and reprints of them (`reprint_of` names the office's job),
are reported: the office never published a job given to `printctl submit`, so its outcome would
name an id the central system does not know.

A result carries no holder name; the NIK only when `results_carry_nik` says so.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from printd.queue.jobs import JobState
from printd.queue.store import Store, Transition

REPORTED = frozenset(
    {
        JobState.PRINTED,
        JobState.SPOILED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.INTERRUPTED,
    }
)
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True, slots=True)
class Row:
    seq: int
    msg_id: str
    job_id: str
    at: float
    body: bytes


def msg_id(transition: Transition) -> str:
    """The transition's stable id, sent as `Nats-Msg-Id`: the server drops a second publish
    of it (a restart between its ack and our delete), and the central system can count by it."""
    return f"{transition.job_id}:{transition.to_state}:{transition.event_hash[:16]}"


class Outbox:
    def __init__(self, store: Store, station: str, *, carry_nik: bool = False) -> None:
        self.store = store
        self.station = station
        self.carry_nik = carry_nik
        self.written = 0  # rows written since start: the drainer's cue to look

    def attach(self) -> None:
        """Write outcome rows from now on (before any transition of this run, so the
        interruptions found at start-up are reported too)."""
        self.store.transition_hooks.append(self.record)

    def record(self, db: sqlite3.Connection, transition: Transition) -> None:
        """Inside the transition's own transaction."""
        if transition.to_state not in REPORTED:
            return
        row = db.execute(
            "SELECT j.attempts, j.batch, j.holder, j.reprint_of,"
            " EXISTS (SELECT 1 FROM intake_jobs WHERE job_id = j.id),"
            " EXISTS (SELECT 1 FROM intake_jobs WHERE job_id = j.reprint_of)"
            " FROM jobs j WHERE j.id = ?",
            (transition.job_id,),
        ).fetchone()
        # A reprint of an office job is reported too: the office learns of every card made.
        if row is None or not (row[4] or row[5]):
            return
        body: dict[str, object] = {
            "id": transition.job_id,
            "outcome": str(transition.to_state),
            "from": str(transition.from_state),
            "station": self.station,
            "printer": transition.printer,
            "attempts": row[0],
            "batch": row[1],
            "reprint_of": row[3],
            "at": transition.at,
            "reason": transition.reason,
            # Leaving `interrupted` is the operator's reconciliation after looking at the trays.
            "reconciled": transition.from_state is JobState.INTERRUPTED,
        }
        if self.carry_nik:
            body["nik"] = json.loads(row[2]).get("nik")
        db.execute(
            "INSERT INTO outbox (msg_id, job_id, at, body) VALUES (?, ?, ?, ?)",
            (msg_id(transition), transition.job_id, transition.at, _JSON.encode(body)),
        )
        self.written += 1

    def pending(self, limit: int) -> list[Row]:
        rows = self.store.db.execute(
            "SELECT seq, msg_id, job_id, at, body FROM outbox ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [Row(r[0], r[1], r[2], r[3], r[4].encode()) for r in rows]

    def delivered(self, rows: list[Row]) -> None:
        """The server has these: one commit for the lot."""
        with self.store.transaction() as db:
            db.executemany("DELETE FROM outbox WHERE seq = ?", [(r.seq,) for r in rows])
            self.store._bump(db, "outbox_published", len(rows))

    def depth(self) -> tuple[int, float | None]:
        """(rows waiting, the oldest one's time)."""
        row = self.store.db.execute("SELECT count(*), min(at) FROM outbox").fetchone()
        return int(row[0]), row[1]
