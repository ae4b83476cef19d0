"""A refusal is not a storm: against firmware that refuses every card, the dispatcher sends at
most one `Ss` per backoff step, and the job waits at the head of the queue with the printer's
words. Time is a clock the test advances (the dispatcher's waits and the driver's clock), so a
simulated minute passes at once and nothing depends on the machine's speed.
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from printd.config import load_config
from printd.devices import BuiltPrinter, build_printer
from printd.drivers.status import Condition, PrinterState
from printd.queue.dispatcher import Dispatcher
from printd.queue.jobs import JobState
from printd.queue.store import Store
from printd.service import Service
from tests.conftest import write_config

DEVICE = "sim://primacy?print_seconds=0&hopper=50&ribbon=ymcko&firmware={firmware}"
MINUTE = 60.0


def _card() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (1016, 648), "white").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Rig:
    def __init__(self, tmp_path: Path, firmware: str) -> None:
        config = load_config(write_config(tmp_path, device=DEVICE.format(firmware=firmware)))
        printer = config.printers[0]
        self.store = Store(config.daemon.state_dir)
        self.store.open()
        self.built: BuiltPrinter = build_printer(printer, config.daemon.state_dir)
        self.clock = Clock()
        self.built.driver._clock = self.clock  # type: ignore[attr-defined]
        self.dispatcher = Dispatcher(
            printer, self.built.driver, self.store, config.queue, asyncio.Event()
        )
        self.dispatcher._sleep = self._advance  # type: ignore[method-assign]
        self.service = Service(
            config, self.store, lambda: [self.dispatcher.runtime], asyncio.Event(), {}
        )
        self.service.stock_receive(20, 2, "operator")
        self.service.blanks_load(20, printer.name, "operator")
        self.service.ribbon_install("ymcko", None, printer.name, "operator")
        self.name = printer.name

    def submit(self, job_id: str) -> None:
        holder = {"nik": "9901010101900001", "name": "A"}
        body = {"id": job_id, "document": "ktp-el", "holder": holder, "front": _card()}
        self.service.submit(body, "operator")

    async def _advance(self, seconds: float) -> None:
        self.clock.now += seconds

    def run_for(self, seconds: float) -> None:
        end = self.clock.now + seconds
        while self.clock.now < end:
            asyncio.run(self.dispatcher._step())

    def close(self) -> None:
        self.dispatcher._close_driver()
        self.built.close()
        self.store.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    rig = Rig(tmp_path, "cleaning-mandatory")
    try:
        yield rig
    finally:
        rig.close()


def test_a_firmware_that_refuses_every_card_gets_one_ss_per_backoff_step(rig: Rig) -> None:
    rig.submit("job-1")
    rig.run_for(MINUTE)
    printer = rig.built.hands
    # Backoff 5, 10, 20, 40 s: the refusals at 0, 5, 15 and 35 s fall within the minute.
    assert printer.received("Ss") <= 4
    assert printer.snapshot().cards_inserted == 0
    job = rig.store.get("job-1")
    assert job.state is JobState.QUEUED  # waiting at the head, not interrupted
    runtime = rig.dispatcher.runtime
    assert runtime.state is PrinterState.NEEDS_OPERATOR
    assert runtime.conditions == {Condition.SERVICE_REQUESTED}
    assert "NEED CLEANING" in runtime.reason
    assert rig.store.total("hopper", rig.name) == 20  # no blank booked


def test_after_the_operator_cleans_the_job_prints_within_one_backoff_step(rig: Rig) -> None:
    rig.submit("job-1")
    rig.run_for(MINUTE)
    rig.built.hands.clean()
    rig.run_for(MINUTE)
    assert rig.store.get("job-1").state is JobState.PRINTED
    assert rig.built.hands.snapshot().cards_ejected == 1


def test_the_status_says_which_commands_the_firmware_answers(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "no-pmi")
    try:
        asyncio.run(rig.dispatcher._step())
        shown = rig.dispatcher.runtime.public()["firmware_commands"]
    finally:
        rig.close()
    assert "Rse;f yes" in shown and "Pcim;F yes" in shown
