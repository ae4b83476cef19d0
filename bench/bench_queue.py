"""The durable queue against its yardsticks, measured side by side in the same run.

Every figure is a median over ROUNDS rounds; in each round the subject and its yardstick run
back to back on the same disk, so a noisy neighbour or a busy disk hits both alike.

- raw SQLite (WAL, synchronous=FULL, one commit per row): the physical limit of a durable row;
- `Store.submit` with tiny images (the job row, its event and totals: one durable commit)
  against that limit and against persist-queue's `SQLiteAckQueue.put`, and flat with depth
  (1,000 vs 100,000 queued jobs);
- the image spool write reported on its own (a real card PNG, front and back);
- dispatch + complete (queued → printing → printed, two durable transitions with the ledger
  entries the dispatcher books) against raw SQLite's two commits per row and persist-queue's
  get + ack;
- one `/metrics` read (`PrintdCollector.collect`) over a store holding 100,000 finished jobs;
- why the ratios are what they are: the pages each durable operation writes to the WAL.

Exit status 1 when a target is missed. `python bench/bench_queue.py [--rounds N] [--rows N]`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import persistqueue

from printd.queue.jobs import JobState
from printd.queue.ledger import Entry, Item, Kind
from printd.queue.store import JobSpec, Store
from printd.telemetry.metrics import PrintdCollector

REPO = Path(__file__).resolve().parents[1]
HOLDER = {"nik": "9901010101900001", "name": "CONTOH"}
TINY_IMAGE = b"\x89PNG\r\n\x1a\n tiny"
PRINTER = "counter-1"
# Prefilled jobs' ids sort before every measured job's, at either depth: the measured submits
# then append to the id index in both stores, and the two differ in depth alone (an id landing
# mid-index splits pages where an append does not).
PREFILL = "0-prefill-"
DAY = 86_400.0


# ---- yardsticks ------------------------------------------------------------------------------


def _raw_db(folder: Path) -> sqlite3.Connection:
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
    assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS rows (seq INTEGER PRIMARY KEY, id TEXT NOT NULL,"
        " state TEXT NOT NULL, payload TEXT NOT NULL)"
    )
    return db


def _raw_inserts(db: sqlite3.Connection, rows: int) -> None:
    for i in range(rows):
        db.execute("BEGIN")
        db.execute(
            "INSERT INTO rows (id, state, payload) VALUES (?, 'queued', ?)",
            (f"raw-{time.monotonic_ns()}-{i}", json.dumps(HOLDER)),
        )
        db.execute("COMMIT")


def _raw_two_commits(db: sqlite3.Connection, first: int, rows: int) -> None:
    for seq in range(first, first + rows):
        for state in ("printing", "printed"):
            db.execute("BEGIN")
            db.execute("UPDATE rows SET state = ? WHERE seq = ?", (state, seq))
            db.execute("COMMIT")


def raw_insert_rate(folder: Path, rows: int) -> float:
    db = _raw_db(folder)
    start = time.perf_counter()
    _raw_inserts(db, rows)
    elapsed = time.perf_counter() - start
    db.close()
    return rows / elapsed


def raw_two_commit_rate(folder: Path, rows: int) -> float:
    db = _raw_db(folder)
    db.execute("BEGIN")
    first = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM rows").fetchone()[0]
    db.executemany(
        "INSERT INTO rows (id, state, payload) VALUES (?, 'queued', '{}')",
        [(f"two-{first + i}",) for i in range(rows)],
    )
    db.execute("COMMIT")
    start = time.perf_counter()
    _raw_two_commits(db, first, rows)
    elapsed = time.perf_counter() - start
    db.close()
    return rows / elapsed


def _ack_queue(folder: Path) -> persistqueue.SQLiteAckQueue:
    # Durable as its docs say: auto_commit=True commits every put/get/ack; multithreading is the
    # safe setting for a daemon. Its SQLite default synchronous is already FULL; make it explicit.
    queue = persistqueue.SQLiteAckQueue(
        str(folder / "ackq"), multithreading=True, auto_commit=True, auto_resume=False
    )
    for conn in (queue._putter, queue._getter):
        if conn is not None:
            conn.execute("PRAGMA synchronous=FULL")
    return queue


def ackq_put_rate(folder: Path, rows: int) -> float:
    queue = _ack_queue(folder)
    start = time.perf_counter()
    for i in range(rows):
        queue.put({"id": f"pq-{i}", "document": "ktp-el", "holder": HOLDER, "sides": 1})
    elapsed = time.perf_counter() - start
    queue.close()
    return rows / elapsed


def ackq_get_ack_rate(folder: Path, rows: int) -> float:
    queue = _ack_queue(folder)
    for i in range(rows):
        queue.put({"id": f"pq-{i}", "document": "ktp-el", "holder": HOLDER, "sides": 1})
    start = time.perf_counter()
    for _ in range(rows):
        item = queue.get(block=False, raw=True)
        queue.ack(id=item["pqid"])
    elapsed = time.perf_counter() - start
    queue.close()
    return rows / elapsed


# ---- the store -------------------------------------------------------------------------------


def _store(folder: Path) -> Store:
    store = Store(folder)
    store.open()
    return store


def prefill_queued(folder: Path, count: int) -> None:
    """`count` queued jobs written the way submit writes them, in one bulk transaction."""
    store = _store(folder)
    now = time.time()
    db = store.db
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO jobs (id, state, priority, document, holder, sides, content_hash,"
        " submitted_at, updated_at) VALUES (?, 'queued', 0, 'ktp-el', ?, 1, 'h', ?, ?)",
        [(f"{PREFILL}{i}", json.dumps(HOLDER), now, now) for i in range(count)],
    )
    db.executemany(
        "INSERT INTO events (at, kind, job_id, to_state, actor, reason, hash)"
        " VALUES (?, 'job', ?, 'queued', 'bench', 'submitted', 'x')",
        [(now, f"{PREFILL}{i}") for i in range(count)],
    )
    db.execute(
        "INSERT INTO totals (name, printer, label, value) VALUES ('jobs_state', '', 'queued', ?)",
        (count,),
    )
    db.execute("COMMIT")
    store.close()


def submit_rate(folder: Path, rows: int, images: list[bytes], tag: str) -> float:
    store = _store(folder)
    start = time.perf_counter()
    for i in range(rows):
        spec = JobSpec(f"{tag}-{i}", "ktp-el", HOLDER, len(images))
        store.submit(spec, images, actor="bench")
    elapsed = time.perf_counter() - start
    store.close()
    return rows / elapsed


def _dispatch_setup(store: Store, rows: int) -> int:
    """Blanks, a ribbon and `rows` queued jobs; returns the ribbon's id."""
    store.book(
        [Entry(Item.BLANKS, Kind.RECEIVED, rows), Entry(Item.RIBBONS, Kind.RECEIVED, 1)],
        actor="bench",
    )
    store.book([Entry(Item.BLANKS, Kind.LOADED, rows, PRINTER)], actor="bench")
    ribbon_id = store.install_ribbon(PRINTER, "ymcko", rows + 1, actor="bench")
    for i in range(rows):
        store.submit(JobSpec(f"dc-{i}", "ktp-el", HOLDER, 1), [TINY_IMAGE], actor="bench")
    return ribbon_id


def _dispatch_complete(store: Store, rows: int, ribbon_id: int) -> None:
    for _ in range(rows):
        job = store.next_queued()
        assert job is not None
        store.transition(
            job.id, JobState.PRINTING, actor="printd", printer=PRINTER, expect=JobState.QUEUED
        )
        store.transition(
            job.id,
            JobState.PRINTED,
            actor="printd",
            reason="card left the printer",
            entries=[
                Entry(Item.BLANKS, Kind.PRINTED, 1, PRINTER, job_id=job.id),
                Entry(
                    Item.RIBBON_PRINTS, Kind.USED, 1, PRINTER, job_id=job.id, ribbon_id=ribbon_id
                ),
            ],
        )


def dispatch_complete_rate(folder: Path, rows: int) -> float:
    store = _store(folder)
    ribbon_id = _dispatch_setup(store, rows)
    start = time.perf_counter()
    _dispatch_complete(store, rows, ribbon_id)
    elapsed = time.perf_counter() - start
    store.close()
    return rows / elapsed


def prefill_finished(folder: Path, count: int) -> Store:
    """A station a year on: `count` printed jobs and their ledger spread over 365 days."""
    store = _store(folder)
    store.book([Entry(Item.RIBBONS, Kind.RECEIVED, 1)], actor="bench")
    store.install_ribbon(PRINTER, "ymcko", 450, actor="bench")
    now = time.time()
    db = store.db
    db.execute("BEGIN")
    stamps = [now - 365 * DAY + i * (365 * DAY / count) for i in range(count)]
    db.executemany(
        "INSERT INTO jobs (id, state, priority, document, holder, sides, content_hash, printer,"
        " attempts, submitted_at, updated_at) VALUES (?, 'printed', 0, 'ktp-el', ?, 1, 'h', ?,"
        " 1, ?, ?)",
        [(f"done-{i}", json.dumps(HOLDER), PRINTER, at, at) for i, at in enumerate(stamps)],
    )
    ledger = []
    for i, at in enumerate(stamps):
        ledger.append((at, "blanks", "printed", PRINTER, 1, "", f"done-{i}", None, "printd"))
        ledger.append((at, "ribbon_prints", "used", PRINTER, 1, "", f"done-{i}", 1, "printd"))
    db.executemany(
        "INSERT INTO ledger (at, item, kind, printer, quantity, reason, job_id, ribbon_id,"
        " actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ledger,
    )
    for name, printer, label, value in (
        ("jobs_state", "", "printed", count),
        ("jobs_completed", "", "printed", count),
        ("jobs_submitted", "", "", count),
        ("cards_printed", PRINTER, "", count),
        ("blanks_loaded", PRINTER, "", count + 50),
        ("hopper", PRINTER, "", 50),
        ("ribbon_prints_used", PRINTER, "", count),
        ("stock_blanks", "", "", 900),
    ):
        db.execute(
            "INSERT INTO totals (name, printer, label, value) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name, printer, label) DO UPDATE SET value = value + excluded.value",
            (name, printer, label, value),
        )
    db.execute("COMMIT")
    return store


def collect_seconds(store: Store) -> tuple[float, float]:
    """(cold, warm): a fresh collector per scrape computes its forecast; a warm one reuses it."""

    def once(collector: PrintdCollector) -> float:
        start = time.perf_counter()
        families = list(collector.collect())
        elapsed = time.perf_counter() - start
        assert families
        return elapsed

    cold = once(PrintdCollector(store, list, "bench"))
    warm_collector = PrintdCollector(store, list, "bench")
    once(warm_collector)
    warm = once(warm_collector)
    return cold, warm


# ---- why: pages written per durable commit -----------------------------------------------------

FRAMES_OPS = 30  # few enough that no automatic checkpoint resets a write-ahead log mid-count
WAL_FRAME = 4096 + 24  # SQLite's default page plus the frame header


def _wal_size(database: Path) -> int:
    wal = database.with_name(database.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def _frames(database: Path, work: Callable[[], object], ops: int) -> float:
    # Measured while the connections are open: the last one to close checkpoints the log away.
    before = _wal_size(database)
    work()
    return (_wal_size(database) - before) / WAL_FRAME / ops


def wal_frames_per_op(folder: Path) -> dict[str, float]:
    """Pages each durable operation appends to the write-ahead log: what a commit costs here
    beyond its fdatasync (every page is one more write, synced with the commit)."""
    n = FRAMES_OPS
    frames: dict[str, float] = {}
    raw = _raw_db(folder / "raw")
    raw.execute("PRAGMA wal_autocheckpoint=0")

    raw_file = folder / "raw" / "raw.sqlite3"
    frames["raw_insert"] = _frames(raw_file, lambda: _raw_inserts(raw, n), n)
    frames["raw_two_commits"] = _frames(raw_file, lambda: _raw_two_commits(raw, 1, n), n)
    raw.close()

    queue = _ack_queue(folder / "pq")
    queue_file = folder / "pq" / "ackq" / "data.db"

    def puts() -> None:
        for i in range(n):
            queue.put({"id": f"pq-{i}", "document": "ktp-el", "holder": HOLDER, "sides": 1})

    def gets_and_acks() -> None:
        for _ in range(n):
            item = queue.get(block=False, raw=True)
            queue.ack(id=item["pqid"])

    frames["ackq_put"] = _frames(queue_file, puts, n)
    frames["ackq_get_ack"] = _frames(queue_file, gets_and_acks, n)
    queue.close()

    store = _store(folder / "store")
    store.db.execute("PRAGMA wal_autocheckpoint=0")
    ribbon_id = _dispatch_setup(store, n)

    def submits() -> None:
        for i in range(n):
            store.submit(JobSpec(f"f-{i}", "ktp-el", HOLDER, 1), [TINY_IMAGE], actor="bench")

    frames["submit"] = _frames(store.path, submits, n)
    # The submits above queued n more jobs; the ribbon and the hopper hold 2n: enough.
    store.book([Entry(Item.BLANKS, Kind.RECEIVED, n)], actor="bench")
    store.book([Entry(Item.BLANKS, Kind.LOADED, n, PRINTER)], actor="bench")
    frames["dispatch_complete"] = _frames(
        store.path, lambda: _dispatch_complete(store, n, ribbon_id), n
    )
    store.close()
    return frames


# ---- the run ---------------------------------------------------------------------------------


def measure(rounds: int, fn: Callable[[int], float]) -> float:
    return statistics.median(fn(r) for r in range(rounds))


def round_arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    # Many short rounds rather than a few long ones: a cheap virtual disk's fsync time wanders
    # by a third from one second to the next, and short interleaved rounds share that weather.
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--rows", type=int, default=100, help="durable operations per round")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (a real disk)")
    return parser.parse_args()


def main() -> int:
    args = round_arguments(__doc__.splitlines()[0])
    base = Path(tempfile.mkdtemp(prefix="bench-queue-", dir=args.dir))
    real_png = (REPO / "examples" / "example-0001-front.png").read_bytes()
    back_png = (REPO / "examples" / "back.png").read_bytes()
    big = TINY_IMAGE + bytes(100_000)  # above the inline limit: goes through the spool
    results: dict[str, list[float]] = {}

    def note(key: str, value: float) -> None:
        results.setdefault(key, []).append(value)

    try:
        shallow, deep = base / "depth-1k", base / "depth-100k"
        prefill_queued(shallow, 1_000)
        prefill_queued(deep, 100_000)
        for r in range(args.rounds):
            n = args.rows
            note("raw_insert", raw_insert_rate(base / f"raw-{r}", n))
            note("submit_1k", submit_rate(shallow, n, [TINY_IMAGE], f"s{r}"))
            note("ackq_put", ackq_put_rate(base / f"pq-{r}", n))
            note("submit_100k", submit_rate(deep, n, [TINY_IMAGE], f"d{r}"))
            note("submit_png", submit_rate(base / f"png-{r}", n, [real_png, back_png], "p"))
            note("submit_spool", submit_rate(base / f"big-{r}", n, [big, big], "b"))
            note("raw_two_commits", raw_two_commit_rate(base / f"raw2-{r}", n))
            note("dispatch_complete", dispatch_complete_rate(base / f"dc-{r}", n))
            note("ackq_get_ack", ackq_get_ack_rate(base / f"pqa-{r}", n))
        finished = prefill_finished(base / "finished", 100_000)
        for _ in range(args.rounds):
            cold, warm = collect_seconds(finished)
            note("collect_cold", cold)
            note("collect_warm", warm)
        finished.close()
        frames = wal_frames_per_op(base / "frames")
    finally:
        shutil.rmtree(base, ignore_errors=True)

    m = {k: statistics.median(v) for k, v in results.items()}
    png_ms = (1 / m["submit_png"] - 1 / m["submit_1k"]) * 1000
    spool_ms = (1 / m["submit_spool"] - 1 / m["submit_1k"]) * 1000
    checks = [
        ("submit ≥ 0.8× raw insert", m["submit_1k"], 0.8 * m["raw_insert"]),
        ("submit ≥ 1.0× persist-queue put", m["submit_1k"], 1.0 * m["ackq_put"]),
        ("submit at 100k within 10 % of 1k", m["submit_100k"], 0.9 * m["submit_1k"]),
        (
            "dispatch+complete ≥ 0.7× raw two commits",
            m["dispatch_complete"],
            0.7 * m["raw_two_commits"],
        ),
        (
            "dispatch+complete ≥ 2× persist-queue get+ack",
            m["dispatch_complete"],
            2 * m["ackq_get_ack"],
        ),
        ("/metrics collect (cold) < 5 ms", 0.005, m["collect_cold"]),
    ]
    print(f"medians of {args.rounds} rounds, {args.rows} durable operations each, in {base.parent}")
    print(f"  raw SQLite insert, 1 commit/row      {m['raw_insert']:8.0f} rows/s")
    print(
        f"  Store.submit, tiny image, 1k queued  {m['submit_1k']:8.0f} jobs/s"
        f"  ({m['submit_1k'] / m['raw_insert']:.2f}× raw,"
        f" {m['submit_1k'] / m['ackq_put']:.2f}× persist-queue)"
    )
    print(
        f"  Store.submit, tiny image, 100k queued{m['submit_100k']:8.0f} jobs/s"
        f"  ({m['submit_100k'] / m['submit_1k']:.2f}× the 1k rate)"
    )
    print(f"  persist-queue SQLiteAckQueue.put     {m['ackq_put']:8.0f} items/s")
    print(
        f"  Store.submit, example PNGs (18 KB)   {m['submit_png']:8.0f} jobs/s"
        f"  (images inline: +{png_ms:.2f} ms per job)"
    )
    print(
        f"  Store.submit, 2 × 100 KB (spool)     {m['submit_spool']:8.0f} jobs/s"
        f"  (spool write, fsync of files and folders: +{spool_ms:.2f} ms per job)"
    )
    print(f"  raw SQLite, 2 commits/row            {m['raw_two_commits']:8.0f} rows/s")
    print(
        f"  dispatch + complete                  {m['dispatch_complete']:8.0f} jobs/s"
        f"  ({m['dispatch_complete'] / m['raw_two_commits']:.2f}× raw, "
        f"{m['dispatch_complete'] / m['ackq_get_ack']:.2f}× persist-queue)"
    )
    print(f"  persist-queue get + ack              {m['ackq_get_ack']:8.0f} items/s")
    print(
        f"  /metrics collect, 100k finished jobs {m['collect_cold'] * 1000:8.2f} ms cold,"
        f" {m['collect_warm'] * 1000:.2f} ms warm"
    )
    print(
        "  pages written per durable operation (WAL frames; each is one more write synced by"
        " the commit):"
    )
    for label, key in (
        ("raw insert", "raw_insert"),
        ("Store.submit", "submit"),
        ("persist-queue put", "ackq_put"),
        ("raw 2 commits/row", "raw_two_commits"),
        ("dispatch + complete", "dispatch_complete"),
        ("persist-queue get + ack", "ackq_get_ack"),
    ):
        print(f"    {label:26s}{frames[key]:6.1f}")
    missed = [name for name, value, floor in checks if value < floor]
    for name, value, floor in checks:
        print(f"  [{'ok' if value >= floor else 'MISSED'}] {name}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
