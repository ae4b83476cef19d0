"""A card left inside by a sequence that never finished (the host lost its answer) must not
block the printer for good: on reconnect the driver sends it to the reject box."""

from __future__ import annotations

from PIL import Image

from printd.drivers.base import CardRequest, Outcome
from printd.drivers.evolis.driver import EvolisDriver
from printd.drivers.profiles import PRIMACY
from printd.drivers.usb_transport import UsbTransport
from printd.sim.evolis_model import SimPrinter
from printd.sim.usb_backend import SimUsbBackend


def test_reconnect_clears_a_card_abandoned_mid_sequence() -> None:
    sim = SimPrinter(hopper=5, print_seconds=0)
    transport = UsbTransport(0x0F49, 0x0A00, backend=SimUsbBackend([(sim, 0x0A00)]))
    driver = EvolisDriver(transport, PRIMACY, command_timeout=2)
    driver.connect()
    # The host starts a card and disappears before `Se`: the card waits inside the printer.
    sim.write(b"\x1bSs\r", link="usb")
    assert sim.read(64, 1.0, link="usb") == b"OK\r"
    assert sim.snapshot().hopper == 4
    assert sim.snapshot().printing
    driver.close()

    driver.connect()
    snap = sim.snapshot()
    assert not snap.printing
    assert snap.reject_box == 1  # where the operator will find it when reconciling
    card = CardRequest("next", Image.new("RGB", (1016, 648), "white"), None, "ymcko")
    assert driver.print_card(card).outcome is Outcome.PRINTED
    assert sim.snapshot().cards_ejected == 1
    driver.close()


def test_a_jammed_card_is_left_for_the_operator() -> None:
    sim = SimPrinter(hopper=5, print_seconds=0)
    transport = UsbTransport(0x0F49, 0x0A00, backend=SimUsbBackend([(sim, 0x0A00)]))
    driver = EvolisDriver(transport, PRIMACY, command_timeout=2)
    driver.connect()
    sim.inject("jam")
    card = CardRequest("jam", Image.new("RGB", (1016, 648), "white"), None, "ymcko")
    assert driver.print_card(card).outcome is Outcome.SPOILED
    driver.close()
    driver.connect()
    assert sim.snapshot().jammed  # no reset hides a jam: a person must open the printer
    driver.close()
