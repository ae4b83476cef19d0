"""How near any queue design can come to the durable-queue targets on this disk.

`bench_queue.py` measures printd's store against raw SQLite and persist-queue. This script
measures, beside the same yardsticks and in the same run, the cheapest designs that still
keep a submitted job durable, so the gap can be read as the store's or as the disk's:

- journal append: a submit is one row in an append-only table (the whole job: id, holder,
  content hash, image) and one commit. Everything else a queue owes its users (the id index
  that makes a resubmit idempotent, the queue order, the hash-chained event, the running
  totals) is left for later and not measured: the best case of a write-behind design;
- journal + fold: the same, with that bookkeeping folded in batches by a background thread
  (job row and its indexes, chained event, totals; one transaction per batch) and the clock
  stopped only when the fold has caught up;
- job row only: a submit writes the job row with its id and queue-order indexes, no event,
  no totals: the cheapest design that answers "is this id taken?" and "what is next?"
  from disk;
- job row + chained event + one total: the least a submit can write and still keep the
  queue's other promises in the same commit (every transition an event row in the hash
  chain, counters that never scan history), as bare SQL without printd's checks;
- the two "conforming" subjects again on 1 KiB pages instead of SQLite's 4 KiB default:
  the sync of a commit costs by the byte here, and a commit that touches many B-trees
  writes one page of each;
- one commit per card: dispatch + complete folded into one durable update per card (the
  card's completion and the next card's claim in one transaction), the cheapest a
  dispatcher that commits at all can be; and the same with what the two transitions owe
  (two chained events, two ledger rows, the running totals).

Informational: exits 0. `python bench/bench_queue_ceiling.py [--rounds N] [--rows N]`.
"""

from __future__ import annotations

import hashlib
import json
import queue
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench_queue import (
    HOLDER,
    TINY_IMAGE,
    ackq_get_ack_rate,
    ackq_put_rate,
    raw_insert_rate,
    raw_two_commit_rate,
    round_arguments,
)

ENCODE = json.JSONEncoder(separators=(",", ":")).encode
JOB_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL, priority INTEGER NOT NULL, document TEXT NOT NULL,
    holder TEXT NOT NULL, content_hash TEXT NOT NULL, image BLOB, submitted_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, priority DESC, seq);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, at REAL NOT NULL,
    job_id TEXT, to_state TEXT, actor TEXT NOT NULL, reason TEXT, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_job ON events (job_id);
CREATE TABLE IF NOT EXISTS ledger (seq INTEGER PRIMARY KEY, at REAL NOT NULL,
    item TEXT NOT NULL, kind TEXT NOT NULL, quantity INTEGER NOT NULL, job_id TEXT);
CREATE INDEX IF NOT EXISTS ledger_by_time ON ledger (at);
CREATE TABLE IF NOT EXISTS totals (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS folded (upto INTEGER NOT NULL);
"""


def _db(path: Path, page_size: int = 4096) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # Only takes effect on a new file: each page a commit touches is a page it syncs.
    db.execute(f"PRAGMA page_size={page_size}")
    assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=5000")
    db.executescript(JOB_SCHEMA)
    return db


def _job_body(job_id: str) -> str:
    content = hashlib.sha256(ENCODE([job_id, "ktp-el", HOLDER, 1, 0]).encode())
    content.update(hashlib.sha256(TINY_IMAGE).digest())
    return ENCODE(
        {
            "op": "submit",
            "id": job_id,
            "document": "ktp-el",
            "holder": HOLDER,
            "priority": 0,
            "hash": content.hexdigest(),
            "image": TINY_IMAGE.hex(),
            "at": time.time(),
            "actor": "uid:1000",
        }
    )


class Fold:
    """Applies journal rows to the job, event and totals tables, in batches, on a thread."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.inbox: queue.SimpleQueue[tuple[int, str] | None] = queue.SimpleQueue()
        self.last_hash = "0" * 64
        self.error: sqlite3.Error | None = None
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        try:
            self._loop()
        except sqlite3.Error as error:  # reported by the measuring thread
            self.error = error

    def _loop(self) -> None:
        done = False
        while not done:
            batch = [self.inbox.get()]
            while not self.inbox.empty() and len(batch) < 512:
                batch.append(self.inbox.get())
            if batch[-1] is None:
                done = True
                batch.pop()
            if batch:
                self._apply([item for item in batch if item is not None])

    def _apply(self, batch: list[tuple[int, str]]) -> None:
        jobs, events = [], []
        for _, body in batch:
            job = json.loads(body)
            jobs.append(
                (
                    job["id"],
                    job["priority"],
                    job["document"],
                    ENCODE(job["holder"]),
                    job["hash"],
                    bytes.fromhex(job["image"]),
                    job["at"],
                )
            )
            fields = [job["at"], job["id"], "queued", job["actor"], "submitted"]
            digest = hashlib.sha256(ENCODE([self.last_hash, *fields]).encode()).hexdigest()
            events.append((*fields, digest))
            self.last_hash = digest
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO jobs (id, state, priority, document, holder, content_hash, image,"
            " submitted_at) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?)",
            jobs,
        )
        db.executemany(
            "INSERT INTO events (at, job_id, to_state, actor, reason, hash)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            events,
        )
        for name in ("jobs_submitted", "jobs_queued"):
            db.execute(
                "INSERT INTO totals VALUES (?, ?) ON CONFLICT DO UPDATE"
                " SET value = value + excluded.value",
                (name, len(batch)),
            )
        db.execute("DELETE FROM folded")
        db.execute("INSERT INTO folded VALUES (?)", (batch[-1][0],))
        db.execute("DELETE FROM journal WHERE seq <= ?", (batch[-1][0],))
        db.execute("COMMIT")


def journal_rate(folder: Path, rows: int, *, fold: bool) -> float:
    db = _db(folder / "journal.sqlite3")
    folding = Fold(_db(folder / "journal.sqlite3")) if fold else None
    start = time.perf_counter()
    for i in range(rows):
        body = _job_body(f"j-{time.monotonic_ns()}-{i}")
        db.execute("BEGIN")
        cursor = db.execute("INSERT INTO journal (body) VALUES (?)", (body,))
        db.execute("COMMIT")
        if folding is not None:
            folding.inbox.put((int(cursor.lastrowid or 0), body))
    if folding is not None:
        folding.inbox.put(None)
        folding.thread.join()
    elapsed = time.perf_counter() - start
    db.close()
    if folding is not None:
        folding.db.close()
        if folding.error is not None:
            raise folding.error
    return rows / elapsed


def job_row_rate(folder: Path, rows: int) -> float:
    db = _db(folder / "rows.sqlite3")
    start = time.perf_counter()
    for i in range(rows):
        job_id = f"r-{time.monotonic_ns()}-{i}"
        db.execute("BEGIN")
        db.execute(
            "INSERT INTO jobs (id, state, priority, document, holder, content_hash, image,"
            " submitted_at) VALUES (?, 'queued', 0, 'ktp-el', ?, ?, ?, ?)",
            (job_id, ENCODE(HOLDER), hashlib.sha256(job_id.encode()).hexdigest(), TINY_IMAGE, 0.0),
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return rows / elapsed


def conforming_rate(folder: Path, rows: int, page_size: int = 4096) -> float:
    """The least a submit may write and keep every demand on the queue: the job row with its
    indexes, its hash-chained event and one running total, in one transaction."""
    db = _db(folder / "conforming.sqlite3", page_size)
    last_hash = "0" * 64
    start = time.perf_counter()
    for i in range(rows):
        job_id = f"c-{time.monotonic_ns()}-{i}"
        at = time.time()
        fields = [at, job_id, "queued", "uid:1000", "submitted"]
        last_hash = hashlib.sha256(ENCODE([last_hash, *fields]).encode()).hexdigest()
        db.execute("BEGIN")
        db.execute(
            "INSERT INTO jobs (id, state, priority, document, holder, content_hash, image,"
            " submitted_at) VALUES (?, 'queued', 0, 'ktp-el', ?, ?, ?, ?)",
            (job_id, ENCODE(HOLDER), hashlib.sha256(job_id.encode()).hexdigest(), TINY_IMAGE, at),
        )
        db.execute(
            "INSERT INTO events (at, job_id, to_state, actor, reason, hash)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (*fields, last_hash),
        )
        db.execute(
            "INSERT INTO totals VALUES ('jobs_queued', 1) ON CONFLICT DO UPDATE"
            " SET value = value + 1"
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return rows / elapsed


def one_commit_per_card_rate(
    folder: Path, rows: int, *, books: bool = False, page_size: int = 4096
) -> float:
    """Each card: one transaction marks it printed and claims the next (two updates); with
    `books`, also what those transitions owe: two chained events, the blank and the ribbon
    print in the ledger, the running totals."""
    db = _db(folder / "cards.sqlite3", page_size)
    last_hash = "0" * 64
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO jobs (id, state, priority, document, holder, content_hash, submitted_at)"
        " VALUES (?, 'queued', 0, 'ktp-el', '{}', 'h', 0)",
        [(f"c-{i}",) for i in range(rows + 1)],
    )
    db.execute("COMMIT")
    start = time.perf_counter()
    for seq in range(1, rows + 1):
        db.execute("BEGIN")
        db.execute("UPDATE jobs SET state = 'printed' WHERE seq = ?", (seq,))
        db.execute("UPDATE jobs SET state = 'printing' WHERE seq = ?", (seq + 1,))
        if books:
            at = time.time()
            for job, state in ((seq, "printed"), (seq + 1, "printing")):
                fields = [at, f"c-{job - 1}", state, "printd", None]
                last_hash = hashlib.sha256(ENCODE([last_hash, *fields]).encode()).hexdigest()
                db.execute(
                    "INSERT INTO events (at, job_id, to_state, actor, reason, hash)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (*fields, last_hash),
                )
            db.executemany(
                "INSERT INTO ledger (at, item, kind, quantity, job_id) VALUES (?, ?, ?, 1, ?)",
                [(at, "blanks", "printed", f"c-{seq - 1}"), (at, "ribbon", "used", f"c-{seq - 1}")],
            )
            db.executemany(
                "INSERT INTO totals VALUES (?, 1) ON CONFLICT DO UPDATE SET value = value + 1",
                [("cards_printed",), ("ribbon_prints_used",), ("jobs_printed",)],
            )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return rows / elapsed


def main() -> int:
    args = round_arguments(__doc__.splitlines()[0])
    base = Path(tempfile.mkdtemp(prefix="bench-ceiling-", dir=args.dir))
    results: dict[str, list[float]] = {}
    subjects: dict[str, Callable[[Path, int], float]] = {
        "raw_insert": raw_insert_rate,
        "journal": lambda f, n: journal_rate(f, n, fold=False),
        "ackq_put": ackq_put_rate,
        "journal_fold": lambda f, n: journal_rate(f, n, fold=True),
        "job_row": job_row_rate,
        "conforming": conforming_rate,
        "raw_two_commits": raw_two_commit_rate,
        "one_commit_per_card": one_commit_per_card_rate,
        "one_commit_per_card_booked": lambda f, n: one_commit_per_card_rate(f, n, books=True),
        "conforming_1k": lambda f, n: conforming_rate(f, n, page_size=1024),
        "one_commit_per_card_booked_1k": lambda f, n: one_commit_per_card_rate(
            f, n, books=True, page_size=1024
        ),
        "ackq_get_ack": ackq_get_ack_rate,
    }
    try:
        for r in range(args.rounds):
            for key, subject in subjects.items():
                results.setdefault(key, []).append(subject(base / f"{key}-{r}", args.rows))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    m = {k: statistics.median(v) for k, v in results.items()}
    raw, put = m["raw_insert"], m["ackq_put"]
    print(f"medians of {args.rounds} rounds, {args.rows} durable operations each, in {base.parent}")
    print(f"  raw SQLite insert, 1 commit/row        {raw:8.0f} rows/s")
    print(f"  persist-queue SQLiteAckQueue.put       {put:8.0f} items/s  ({put / raw:.2f}× raw)")
    for label, key in (
        ("journal append, bookkeeping not done", "journal"),
        ("journal + fold on a thread, drained", "journal_fold"),
        ("job row with its two indexes only", "job_row"),
        ("job row + chained event + one total", "conforming"),
        ("the same, 1 KiB pages", "conforming_1k"),
    ):
        print(
            f"  {label:38s}{m[key]:8.0f} jobs/s   ({m[key] / raw:.2f}× raw,"
            f" {m[key] / put:.2f}× persist-queue)"
        )
    two, pq = m["raw_two_commits"], m["ackq_get_ack"]
    print(f"  raw SQLite, 2 commits/row              {two:8.0f} rows/s")
    print(f"  persist-queue get + ack                {pq:8.0f} items/s  ({pq / two:.2f}× raw)")
    for label, key in (
        ("one commit per card (two updates)", "one_commit_per_card"),
        ("the same + events, ledger, totals", "one_commit_per_card_booked"),
        ("the same, 1 KiB pages", "one_commit_per_card_booked_1k"),
    ):
        print(
            f"  {label:38s}{m[key]:8.0f} cards/s  ({m[key] / two:.2f}× raw two commits,"
            f" {m[key] / pq:.2f}× persist-queue get + ack)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
