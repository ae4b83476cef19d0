"""One station in-process: a real store, the dispatcher and the simulated printer behind pyusb,
driven one turn of the dispatcher's loop at a time."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from printd.config import load_config
from printd.devices import BuiltPrinter, build_printer
from printd.drivers.base import CardDriver, CardRequest, PrintResult
from printd.drivers.status import Identity, PrinterStatus
from printd.queue.dispatcher import Dispatcher, PrinterRuntime, Timings
from printd.queue.jobs import JobState
from printd.queue.store import Store
from printd.service import Service
from tests.conftest import write_config

MAX_ATTEMPTS = 3  # write_config's [queue] max_attempts
# The printer itself holds 50 blanks and a full colour ribbon from the start.
DEVICE = "sim://primacy?print_seconds=0&hopper=50&ribbon=ymcko"


def _card() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (1016, 648), "white").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


CARD = _card()


class Clock:
    """The station's clock, set by the test: a move's times are the time it was made at."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Watched:
    """The real driver, watched: what it was asked to prepare and to print, which job the
    runtime showed while each card was inside, and faults to raise once (from the next connect,
    status read, or just after the next card has left the printer)."""

    def __init__(self, driver: CardDriver, runtime: PrinterRuntime) -> None:
        self._driver = driver
        self._runtime = runtime
        self.prepared: list[CardRequest] = []
        self.printed: list[CardRequest] = []
        self.inside: list[str | None] = []  # what /metrics and `printctl status` read meanwhile
        self.connect_fault: BaseException | None = None
        self.status_fault: BaseException | None = None
        self.after_print_fault: BaseException | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)

    def prepare(self, card: CardRequest) -> None:
        self.prepared.append(card)
        self._driver.prepare(card)

    def print_card(self, card: CardRequest) -> PrintResult:
        self.printed.append(card)
        self.inside.append(self._runtime.current_job)
        result = self._driver.print_card(card)
        fault, self.after_print_fault = self.after_print_fault, None
        if fault is not None:
            raise fault
        return result

    def connect(self) -> Identity:
        fault, self.connect_fault = self.connect_fault, None
        if fault is not None:
            raise fault
        return self._driver.connect()

    def status(self) -> PrinterStatus:
        fault, self.status_fault = self.status_fault, None
        if fault is not None:
            raise fault
        return self._driver.status()


@dataclass
class Station:
    store: Store
    service: Service
    dispatcher: Dispatcher
    built: BuiltPrinter
    name: str
    jobs_done: list[float] = field(default_factory=list)  # submit → printed, as reported
    cards_done: list[float] = field(default_factory=list)  # one card in the printer

    def submit(self, job_id: str, *, sides: int = 1) -> None:
        body = {
            "id": job_id,
            "document": "ktp-el",
            "holder": {"nik": "9901010101900001", "name": "CONTOH"},
            "front": CARD,
        }
        if sides == 2:
            body["back"] = CARD
        self.service.submit(body, "operator")

    def turn(self) -> None:
        """One turn of the dispatcher's loop, as `Dispatcher.run` takes it. Each turn runs in its
        own event loop, so it gets a wake event of its own (an event is bound to one loop)."""
        self.dispatcher.wake = asyncio.Event()
        asyncio.run(self.dispatcher._step())

    def stock(self, blanks: int = 10, ribbon: str = "ymcko") -> Station:
        """Blanks loaded and a ribbon installed, recorded as an operator records them."""
        self.service.blanks_load(blanks, self.name, "operator")
        self.service.ribbon_install(ribbon, None, self.name, "operator")
        return self

    def printer_events(self) -> list[str]:
        """The printer's state changes in the audit trail, oldest first."""
        rows = self.store.db.execute(
            "SELECT reason FROM events WHERE kind = 'printer' AND printer = ? ORDER BY seq",
            (self.name,),
        ).fetchall()
        return [r[0] for r in rows]

    def watch(self) -> Watched:
        """Put a watch on the dispatcher's driver (see `Watched`)."""
        watched = Watched(self.built.driver, self.dispatcher.runtime)
        self.dispatcher.driver = watched  # type: ignore[assignment]
        return watched

    def cards_fed(self) -> int:
        return int(self.built.hands.snapshot().cards_inserted)

    def state(self, job_id: str) -> JobState:
        return self.store.get(job_id).state


@contextmanager
def station_on(
    tmp_path: Path,
    device: str = DEVICE,
    *,
    raw: bool = False,
    printed_counter: Callable[[], int | None] | None = None,
) -> Iterator[Station]:
    """`raw`: the printer is on the raw driver (printer-ready files), `printed_counter` its
    readback of cards printed."""
    path = write_config(tmp_path, device=device)
    if raw:
        path.write_text(
            path.read_text().replace(f'device = "{device}"', f'device = "{device}"\ndriver = "raw"')
        )
    config = load_config(path)
    printer = config.printers[0]
    store = Store(config.daemon.state_dir)
    store.open()
    built = build_printer(printer, config.daemon.state_dir, printed_counter=printed_counter)
    jobs_done: list[float] = []
    cards_done: list[float] = []
    timings = Timings(job_done=jobs_done.append, card_done=cards_done.append)
    dispatcher = Dispatcher(
        printer, built.driver, store, config.queue, asyncio.Event(), timings=timings
    )
    # No hands: the ledger's loads and installs must not reach the simulated printer.
    service = Service(config, store, lambda: [dispatcher.runtime], asyncio.Event(), {})
    service.stock_receive(20, 2, "operator")
    try:
        yield Station(store, service, dispatcher, built, printer.name, jobs_done, cards_done)
    finally:
        dispatcher._close_driver()
        built.close()
        store.close()
