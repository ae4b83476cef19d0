"""The driver against every simulated firmware profile, over USB and TCP.

The simulator's own counters are the judge: five cards fed and five ejected (none fed twice),
then an empty feeder refuses with the firmware's own words and no blank moves.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PIL import Image

from printd.drivers.base import CardRequest, Outcome
from printd.drivers.evolis.driver import EvolisDriver
from printd.drivers.profiles import PRIMACY
from printd.drivers.status import Condition
from printd.drivers.tcp_transport import TcpTransport
from printd.drivers.transport import Transport
from printd.drivers.usb_transport import UsbTransport
from printd.errors import NeedsOperator
from printd.sim.evolis_model import SimPrinter
from printd.sim.firmware import FIRMWARES
from printd.sim.tcp_endpoint import TcpEndpoint
from printd.sim.usb_backend import SimUsbBackend

CARDS = 5


@pytest.fixture(params=["usb", "tcp"])
def link(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=sorted(FIRMWARES))
def printer(request: pytest.FixtureRequest) -> SimPrinter:
    return SimPrinter(hopper=CARDS, ribbon_type="ymcko", firmware_profile=request.param)


@pytest.fixture
def driver(printer: SimPrinter, link: str) -> Iterator[EvolisDriver]:
    endpoint: TcpEndpoint | None = None
    transport: Transport
    if link == "usb":
        transport = UsbTransport(0x0F49, None, backend=SimUsbBackend([(printer, 0x0A00)]))
    else:
        endpoint = TcpEndpoint(printer)
        transport = TcpTransport(*endpoint.start())
    driver = EvolisDriver(transport, PRIMACY, command_timeout=2.0, print_timeout=5.0)
    yield driver
    driver.close()
    if endpoint is not None:
        endpoint.close()


def _card(number: int) -> CardRequest:
    return CardRequest(f"job-{number}", Image.new("RGB", (1016, 648), "white"), None, "ymcko")


def test_five_cards_print_once_each_then_an_empty_feeder_holds_the_next(
    printer: SimPrinter, driver: EvolisDriver
) -> None:
    if printer.profile.cleaning_mandatory:
        with pytest.raises(NeedsOperator, match="NEED CLEANING"):
            driver.print_card(_card(0))
        assert printer.snapshot().cards_inserted == 0
        printer.clean()  # the operator's hands
    for number in range(CARDS):
        if number == printer.profile.output_capacity > 0:
            with pytest.raises(NeedsOperator, match=printer.profile.words["output_full"]):
                driver.print_card(_card(number))
            assert printer.snapshot().cards_inserted == number  # held: no blank moved
            printer.empty_output_hopper()  # the operator's hands
        if printer.profile.eject_holds and number > 0:
            with pytest.raises(NeedsOperator, match=printer.profile.words["card_on_eject"]):
                driver.print_card(_card(number))
            assert printer.snapshot().cards_inserted == number  # held: no blank moved
            printer.take_card()  # the operator's hands
        assert driver.print_card(_card(number)).outcome is Outcome.PRINTED
    snap = printer.snapshot()
    assert (snap.cards_inserted, snap.cards_ejected, snap.hopper) == (CARDS, CARDS, 0)
    with pytest.raises(NeedsOperator) as caught:
        driver.print_card(_card(CARDS))
    assert caught.value.condition == Condition.HOPPER_EMPTY
    assert printer.profile.words["feeder_empty"] in str(caught.value)  # the printer's words
    assert printer.snapshot().cards_inserted == CARDS  # no blank moved
    assert Condition.HOPPER_EMPTY in driver.status().conditions


def test_the_probed_commands_are_said(printer: SimPrinter, driver: EvolisDriver) -> None:
    driver.connect()
    summary = driver.commands_summary()
    for key, answered in driver.supported.items():
        refused = key.split(";")[0] in printer.profile.refused
        assert answered is not refused
        assert f"{key} {'refused' if refused else 'yes'}" in summary
    assert driver.supported.get("Pcim;F") or driver.supported.get("Pmi;F;s")
