"""With 10,000 jobs queued, the gap between one card leaving the printer and the next card's
first byte, over the pyusb simulator (target <= 30 ms median). Runs the real dispatcher, store
and driver in-process. The simulated card takes 0.2 s (a real one takes 15-30 s), long enough
for printd to prepare the next card while this one prints, as it does in service."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from printd.config import load_config  # noqa: E402
from printd.devices import build_printer  # noqa: E402
from printd.jobfile import load_job_file  # noqa: E402
from printd.queue.dispatcher import Dispatcher  # noqa: E402
from printd.queue.ledger import Entry, Item, Kind  # noqa: E402
from printd.queue.store import JobSpec, Store  # noqa: E402
from printd.telemetry.logging import configure_logging  # noqa: E402
from tests.conftest import EXAMPLES, write_config  # noqa: E402

QUEUED = 10_000
MEASURED = 200
BLANKS = MEASURED + 20


async def run(folder: Path) -> list[float]:
    config = load_config(
        write_config(
            folder, device="sim://primacy?print_seconds=0.2&hopper_capacity=500&hands=printctl"
        )
    )
    printer = config.printers[0]
    store = Store(config.daemon.state_dir)
    store.open()
    store.db.execute("PRAGMA synchronous=OFF")  # only while filling the queue
    example = load_job_file(EXAMPLES / "example-0001.json")
    for i in range(QUEUED):
        spec = JobSpec(f"gap-{i:05d}", "ktp-el", example.spec.holder, 1)
        store.submit(spec, example.images, actor="bench")
    store.db.execute("PRAGMA synchronous=FULL")
    store.book(
        [Entry(Item.BLANKS, Kind.RECEIVED, 500), Entry(Item.RIBBONS, Kind.RECEIVED, 2)],
        actor="bench",
    )
    store.book([Entry(Item.BLANKS, Kind.LOADED, BLANKS, printer.name)], actor="bench")
    store.install_ribbon(printer.name, "ymcko", 450, actor="bench")
    built = build_printer(printer, config.daemon.state_dir)
    built.hands.load_blanks(BLANKS)
    built.hands.install_ribbon("ymcko", 450)
    driver: Any = built.driver
    transport = driver._transport
    marks: dict[str, float | None] = {"card_left": None}
    gaps: list[float] = []
    original_write = transport.write
    original_print = driver.print_card

    def write(data: bytes, timeout: float) -> None:
        left = marks["card_left"]
        if marks.get("in_card") and left is not None:
            gaps.append((time.perf_counter() - left) * 1000)
            marks["card_left"] = None
        original_write(data, timeout)

    def print_card(card: Any) -> Any:
        marks["in_card"] = True
        try:
            return original_print(card)
        finally:
            marks["in_card"] = False
            marks["card_left"] = time.perf_counter()

    transport.write = write
    driver.print_card = print_card
    wake = asyncio.Event()
    dispatcher = Dispatcher(printer, driver, store, config.queue, wake)
    task = asyncio.create_task(dispatcher.run())
    while len(gaps) < MEASURED:
        await asyncio.sleep(0.05)
    await dispatcher.stop(5)
    task.cancel()
    built.close()
    store.close()
    return gaps


def main() -> int:
    configure_logging("json", "warning")  # the per-card log lines are not what is measured
    with tempfile.TemporaryDirectory() as folder:
        gaps = asyncio.run(run(Path(folder)))
    median = statistics.median(gaps)
    p90 = statistics.quantiles(gaps, n=10)[-1]
    print(
        f"gap card out -> next card's first byte with {QUEUED} queued: median {median:.1f} ms, "
        f"p90 {p90:.1f} ms over {len(gaps)} cards (target <= 30 ms)"
    )
    return 0 if median <= 30 else 1


if __name__ == "__main__":
    sys.exit(main())
