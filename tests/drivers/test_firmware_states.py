"""The driver against firmware states one profile brings about, state by state.

Each test shows the state arising in the simulator, what the driver makes of it, and printing
going on afterwards; the simulator's own counters say whether a blank moved.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from printd.drivers.base import CardRequest, Outcome
from printd.drivers.evolis.driver import EvolisDriver
from printd.drivers.profiles import PRIMACY
from printd.drivers.usb_transport import UsbTransport
from printd.errors import NeedsOperator, TransportTimeout
from printd.sim.control import ControlServer, SimControlClient
from printd.sim.evolis_model import SimPrinter
from printd.sim.usb_backend import SimUsbBackend


def _driver(printer: SimPrinter, **timeouts: float) -> EvolisDriver:
    transport = UsbTransport(0x0F49, None, backend=SimUsbBackend([(printer, 0x0A00)]))
    return EvolisDriver(transport, PRIMACY, **timeouts)


def by_hand(printer: SimPrinter, tmp_path: Path, act: Callable[[SimControlClient], None]) -> None:
    """What the operator does to the printer, through its control channel."""
    server = ControlServer(printer, str(tmp_path / "control.sock"))
    with SimControlClient(server.start()) as hands:
        act(hands)
    server.close()


def _card(job: str) -> CardRequest:
    return CardRequest(job, Image.new("RGB", (1016, 648), "white"), None, "ymcko")


def test_a_printer_waking_from_standby_answers_late_and_still_prints() -> None:
    printer = SimPrinter(hopper=3, ribbon_type="ymcko", firmware_profile="slow-wake")
    wake = printer.profile.wake_seconds
    # A timeout shorter than the heat-up (the old 5 s against a 30 s SDK, scaled) gives up on
    # the first command, before any blank is fed.
    hasty = _driver(printer, command_timeout=wake / 5, print_timeout=5.0)
    with pytest.raises(TransportTimeout):
        hasty.print_card(_card("job-0"))
    hasty.close()
    assert printer.snapshot().cards_inserted == 0

    # The same printer fresh from standby: the driver's default timeout waits out the heat-up.
    # (A fresh printer, because the timed-out command's late answer is still on its way.)
    printer = SimPrinter(hopper=3, ribbon_type="ymcko", firmware_profile="slow-wake")
    patient = _driver(printer, print_timeout=5.0)
    started = time.monotonic()
    assert patient.print_card(_card("job-1")).outcome is Outcome.PRINTED
    assert time.monotonic() - started >= wake  # the late answer was really waited for
    assert patient.print_card(_card("job-2")).outcome is Outcome.PRINTED
    printer.standby()  # idle again between jobs: the next first command is slow once more
    started = time.monotonic()
    assert patient.print_card(_card("job-3")).outcome is Outcome.PRINTED
    assert time.monotonic() - started >= wake
    snap = printer.snapshot()
    assert (snap.cards_inserted, snap.cards_ejected) == (3, 3)  # none fed twice
    patient.close()


@pytest.mark.parametrize(
    ("profile", "fault", "outcome", "words", "act"),
    [
        # Printed cards fill the output hopper; rejected ones the reject box.
        ("output-hopper-full", None, Outcome.PRINTED, "ERR HOPPER FULL", "empty_output_hopper"),
        ("reject-box-small", "reject", Outcome.SPOILED, "REJECT BOX FULL", "empty_reject_box"),
        # One printed card left in the eject slot holds the next.
        ("card-on-eject", None, Outcome.PRINTED, "ERROR", "take_card"),
    ],
)
def test_a_full_tray_holds_the_next_card_until_the_operator_empties_it(
    tmp_path: Path, profile: str, fault: str | None, outcome: Outcome, words: str, act: str
) -> None:
    printer = SimPrinter(hopper=5, ribbon_type="ymcko", firmware_profile=profile)
    full = printer.profile.output_capacity or printer.profile.reject_capacity or 1
    driver = _driver(printer, print_timeout=5.0)
    for number in range(full):
        if fault is not None:
            printer.inject(fault)
        assert driver.print_card(_card(f"job-{number}")).outcome is outcome
    with pytest.raises(NeedsOperator) as caught:
        driver.print_card(_card("job-held"))
    assert words in str(caught.value)  # the printer's own words
    assert printer.snapshot().cards_inserted == full  # held before a blank moved
    by_hand(printer, tmp_path, getattr(SimControlClient, act))
    assert driver.print_card(_card("job-held")).outcome is Outcome.PRINTED
    snap = printer.snapshot()
    ejected = full + 1 if outcome is Outcome.PRINTED else 1
    assert (snap.cards_inserted, snap.cards_ejected) == (full + 1, ejected)  # none fed twice
    driver.close()


def test_a_card_for_another_ribbon_is_refused_before_a_blank_moves(tmp_path: Path) -> None:
    printer = SimPrinter(hopper=5, ribbon_type="kb", firmware_profile="ribbon-mismatch")
    driver = _driver(printer, print_timeout=5.0)
    with pytest.raises(NeedsOperator) as caught:
        driver.print_card(_card("job-colour"))  # printd's records say YMCKO; KB is installed
    assert "ERR BAD RIBBON" in str(caught.value)  # the printer's own words
    assert caught.value.condition == "ribbon_wrong"
    assert printer.snapshot().cards_inserted == 0
    by_hand(printer, tmp_path, lambda hands: hands.install_ribbon("ymcko", 450))
    assert driver.print_card(_card("job-colour")).outcome is Outcome.PRINTED
    snap = printer.snapshot()
    assert (snap.cards_inserted, snap.cards_ejected) == (1, 1)
    driver.close()
