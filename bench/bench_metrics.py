"""A /metrics scrape (collect + render) with 100,000 jobs in history and 4 printers: target
<= 10 ms median. The history is written straight into a real store file in bulk (the queue's
own write path is measured in bench_queue.py); the collector reads it through its real path."""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from prometheus_client import generate_latest  # noqa: E402

from printd.drivers.status import PrinterState  # noqa: E402
from printd.queue.dispatcher import PrinterRuntime  # noqa: E402
from printd.queue.ledger import Entry, Item, Kind  # noqa: E402
from printd.queue.store import Store  # noqa: E402
from printd.telemetry.metrics import build_registry  # noqa: E402

JOBS = 100_000
PRINTERS = [f"counter-{i}" for i in range(1, 5)]
DAY = 86_400.0


def build_history(store: Store) -> None:
    now = time.time()
    rng = random.Random(7)
    db = store.db
    db.execute("PRAGMA synchronous=OFF")
    with store.transaction():
        store._book(db, Entry(Item.BLANKS, Kind.RECEIVED, JOBS + 20_000), "bench")
        store._book(db, Entry(Item.RIBBONS, Kind.RECEIVED, 300), "bench")
        for name in PRINTERS:
            db.execute(
                "INSERT INTO ribbons (printer, type, capacity, installed_at) VALUES (?,?,?,?)",
                (name, "ymcko", 450, now),
            )
        for i in range(JOBS):
            printer = PRINTERS[i % 4]
            at = now - rng.uniform(0, 60 * DAY)
            db.execute(
                "INSERT INTO jobs (id, state, document, holder, sides, content_hash, printer,"
                " submitted_at, updated_at) VALUES (?, 'printed', 'ktp-el', '{}', 1, 'h', ?, ?, ?)",
                (f"job-{i}", printer, at, at),
            )
            for entry in (
                Entry(Item.BLANKS, Kind.LOADED, 1, printer),
                Entry(Item.BLANKS, Kind.PRINTED, 1, printer, job_id=f"job-{i}"),
                Entry(Item.RIBBON_PRINTS, Kind.USED, 1, printer, job_id=f"job-{i}"),
            ):
                store._book(db, entry, "bench")
            if i % 97 == 0:
                store._book(db, Entry(Item.BLANKS, Kind.SPOILED, 0, printer, "rejected"), "bench")
        store._bump(db, "jobs_state", JOBS, label="printed")
        store._bump(db, "jobs_completed", JOBS, label="printed")
        store._bump(db, "jobs_submitted", JOBS)
    db.execute("PRAGMA synchronous=FULL")


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder))
        store.open()
        started = time.monotonic()
        build_history(store)
        print(
            f"history: {JOBS} printed jobs on {len(PRINTERS)} printers, built in "
            f"{time.monotonic() - started:.1f} s"
        )
        runtimes = [PrinterRuntime(n, state=PrinterState.IDLE, up=True) for n in PRINTERS]
        registry, _ = build_registry(store, lambda: runtimes, "bench")
        first_started = time.perf_counter()
        body = generate_latest(registry)
        first = (time.perf_counter() - first_started) * 1000
        samples = []
        for _ in range(200):
            t0 = time.perf_counter()
            body = generate_latest(registry)
            samples.append((time.perf_counter() - t0) * 1000)
        median = statistics.median(samples)
        print(
            f"/metrics scrape: median {median:.2f} ms over 200 scrapes (target <= 10 ms); "
            f"first scrape, forecast computed over the 7-day ledger window: {first:.1f} ms; "
            f"{len(body)} bytes, {len(body.splitlines())} lines"
        )
        store.close()
    return 0 if median <= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
