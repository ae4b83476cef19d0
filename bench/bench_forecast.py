"""The stock forecast over a year of history (100 cards a day on each of 4 printers, a ledger
row for the blank and one for the ribbon prints of every card): target <= 20 ms median for a
full forecast (the ledger read and both projections), and a scrape pays for it at most once a
minute (counted: ledger reads over a simulated hour of 15-second scrapes).

The history is written straight into a real store file in bulk; the collector reads it through
its real path."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from printd.config import SuppliesConfig  # noqa: E402
from printd.queue.dispatcher import PrinterRuntime  # noqa: E402
from printd.queue.ledger import Entry, Item, Kind  # noqa: E402
from printd.queue.store import Store  # noqa: E402
from printd.telemetry.forecast import OfficeCalendar  # noqa: E402
from printd.telemetry.metrics import PrintdCollector  # noqa: E402

PRINTERS = [f"counter-{i}" for i in range(1, 5)]
CARDS_PER_DAY = 100
DAYS = 365
ROUNDS = 15
TARGET_MS = 20.0
ZONE = ZoneInfo("Asia/Jakarta")


def build_history(store: Store, now: float) -> int:
    db = store.db
    db.execute("PRAGMA synchronous=OFF")  # building the fixture only; never the measured path
    today = datetime.fromtimestamp(now, ZONE).date()
    calendar = OfficeCalendar()
    rows = []
    for back in range(DAYS, 0, -1):
        day = today - timedelta(back)
        if not calendar.is_open(day):
            continue
        opening = datetime.combine(day, datetime.min.time(), ZONE).timestamp() + 8 * 3600
        for printer in PRINTERS:
            for card in range(CARDS_PER_DAY):
                at = opening + card * 240
                rows.append((at, "blanks", "printed", printer, 1))
                rows.append((at, "ribbon_prints", "used", printer, 1))
    with store.transaction():
        store._book(db, Entry(Item.BLANKS, Kind.RECEIVED, 200_000), "bench")
        store._book(db, Entry(Item.RIBBONS, Kind.RECEIVED, 300), "bench")
        db.executemany(
            "INSERT INTO ledger (at, item, kind, printer, quantity, reason, actor)"
            " VALUES (?, ?, ?, ?, ?, '', 'bench')",
            rows,
        )
    return len(rows)


def main() -> int:
    now = [time.time()]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp), clock=lambda: now[0])
        store.open()
        rows = build_history(store, now[0])
        runtimes = [PrinterRuntime(n) for n in PRINTERS]

        def collector() -> PrintdCollector:
            return PrintdCollector(
                store,
                lambda: runtimes,
                "bench",
                supplies=SuppliesConfig(),
                timezone="Asia/Jakarta",
                clock=lambda: now[0],
            )

        collector().forecasts()  # the calendar's years loaded once, as in a running daemon
        cold = []
        for _ in range(ROUNDS):
            fresh = collector()
            started = time.perf_counter()
            outlook = fresh.forecasts()
            cold.append((time.perf_counter() - started) * 1000)
        warm_collector = collector()
        warm_collector.forecasts()
        warm = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            warm_collector.forecasts()
            warm.append((time.perf_counter() - started) * 1000)

        reads = 0
        counted = collector()
        read = counted.refresh_usage

        def counting_read(*args: object) -> object:
            nonlocal reads
            reads += 1
            return read()

        counted.refresh_usage = counting_read  # type: ignore[method-assign]
        for _ in range(240):  # an hour of scrapes every 15 s
            counted.forecasts()
            now[0] += 15
        store.close()

    blanks = outlook["blanks"]
    median = statistics.median(cold)
    print(f"ledger rows: {rows:,} ({DAYS} days, {len(PRINTERS)} printers, {CARDS_PER_DAY}/day)")
    print(f"forecast, fresh (ledger read + projection): median {median:.2f} ms (target <= 20)")
    print(f"forecast, cached between ledger reads: median {statistics.median(warm):.3f} ms")
    print(f"ledger reads over an hour of 15 s scrapes: {reads} (at most 60)")
    print(f"blanks run out {blanks.runs_out} ({blanks.earliest}..{blanks.latest})")
    return 0 if median <= TARGET_MS and reads <= 60 else 1


if __name__ == "__main__":
    sys.exit(main())
