"""The Evolis driver against the simulator, one suite run unchanged over USB, a pty and TCP.

Each injected fault must end in the right outcome class (DESIGN §4): refused before a blank
moves (an exception, the hopper untouched), spoiled (the blank consumed), or unknown.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from _numpy_oracle import dots_of, levels_of
from PIL import Image

from printd.drivers import raster
from printd.drivers.base import CardRequest, Outcome
from printd.drivers.evolis.driver import EvolisDriver
from printd.drivers.profiles import PRIMACY
from printd.drivers.serial_transport import SerialTransport
from printd.drivers.status import Condition, LevelKind, PrinterState
from printd.drivers.tcp_transport import TcpTransport
from printd.drivers.transport import Transport
from printd.drivers.usb_transport import UsbTransport
from printd.errors import JobError, NeedsOperator, TransportError
from printd.sim.evolis_model import SimPrinter
from printd.sim.pty_endpoint import PtyEndpoint
from printd.sim.tcp_endpoint import TcpEndpoint
from printd.sim.usb_backend import SimUsbBackend

PRINT_TIMEOUT = 2.0


@dataclass
class Rig:
    printer: SimPrinter
    driver: EvolisDriver
    link: str


def _transport(link: str, printer: SimPrinter, closers: list[object]) -> Transport:
    if link == "usb":
        return UsbTransport(0x0F49, None, backend=SimUsbBackend([(printer, 0x0A00)]))
    if link == "pty":
        endpoint = PtyEndpoint(printer)
        closers.append(endpoint)
        return SerialTransport(endpoint.start(), baudrate=115200)
    endpoint_tcp = TcpEndpoint(printer)
    closers.append(endpoint_tcp)
    host, port = endpoint_tcp.start()
    return TcpTransport(host, port)


@pytest.fixture(params=["usb", "pty", "tcp"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    printer = SimPrinter(serial="SIM42", hopper=20, ribbon_type="ymcko", ribbon_capacity=450)
    closers: list[object] = []
    transport = _transport(request.param, printer, closers)
    driver = EvolisDriver(transport, PRIMACY, command_timeout=1.0, print_timeout=PRINT_TIMEOUT)
    yield Rig(printer, driver, request.param)
    driver.close()
    for endpoint in closers:
        endpoint.close()  # type: ignore[attr-defined]


def _photo() -> Image.Image:
    """A card with colour, a black text band and white space."""
    pixels = np.full((648, 1016, 3), 255, dtype=np.uint8)
    pixels[50:300, 40:300] = (200, 120, 60)  # the photo area
    pixels[400:430, 40:900] = (0, 0, 0)  # black text: resin
    return Image.fromarray(pixels, "RGB")


def _card(ribbon: str = "ymcko", back: bool = False) -> CardRequest:
    return CardRequest("job-1", _photo(), _photo() if back else None, ribbon)


def _wait_for(predicate: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def test_connect_reads_identity_and_takes_error_management(rig: Rig) -> None:
    identity = rig.driver.connect()
    assert identity.model == "Primacy"
    assert identity.serial == "SIM42"
    assert identity.firmware
    assert rig.printer.snapshot().error_management == 2


def test_status_reads_state_and_supplies(rig: Rig) -> None:
    status = rig.driver.status()
    assert status.state is PrinterState.IDLE
    assert status.ready
    assert status.supplies.ribbon_type == "ymcko"
    assert status.supplies.ribbon_remaining.value == 450
    assert status.supplies.hopper_level.kind is LevelKind.SOME_REMAINING
    rig.printer.open_cover()
    rig.printer.unload_blanks(20)
    status = rig.driver.status()
    assert status.state is PrinterState.NEEDS_OPERATOR
    assert status.conditions == {Condition.COVER_OPEN, Condition.HOPPER_EMPTY}
    assert status.supplies.hopper_level.value == 0


def test_colour_card_prints_and_the_printer_sees_our_panels(rig: Rig) -> None:
    result = rig.driver.print_card(_card())
    assert result.outcome is Outcome.PRINTED
    assert result.ribbon_prints == 1
    snap = rig.printer.snapshot()
    assert (snap.cards_ejected, snap.hopper, snap.ribbon_remaining) == (1, 19, 449)
    card = rig.printer.last_card()
    assert card is not None
    expected = raster.colour_panels(_photo())
    assert set(card["front"]) == {"y", "m", "c", "k", "o"}
    assert card["front"]["k"] == expected.k
    assert card["front"]["c"] == expected.c.lines()
    assert dots_of(expected.k).any()  # the text band went to resin
    assert levels_of(expected.c).any()


@pytest.mark.parametrize(("ribbon", "prints"), [("ymcko", 2), ("ymckok", 1), ("kb", 2)])
def test_duplex_ribbon_accounting_agrees_with_the_printer(
    rig: Rig, ribbon: str, prints: int
) -> None:
    rig.printer.install_ribbon(ribbon, 450)
    result = rig.driver.print_card(_card(ribbon, back=True))
    assert result.outcome is Outcome.PRINTED
    assert result.ribbon_prints == prints
    assert rig.printer.snapshot().ribbon_remaining == 450 - prints


@pytest.mark.parametrize(
    ("act", "condition"),
    [
        (lambda p: p.open_cover(), Condition.COVER_OPEN),
        (lambda p: p.unload_blanks(20), Condition.HOPPER_EMPTY),
        (lambda p: p.remove_ribbon(), Condition.RIBBON_MISSING),
    ],
)
def test_conditions_stop_before_a_blank_moves(rig: Rig, act: object, condition: Condition) -> None:
    act(rig.printer)  # type: ignore[operator]
    with pytest.raises(NeedsOperator) as caught:
        rig.driver.print_card(_card())
    assert caught.value.condition == condition
    assert rig.printer.snapshot().cards_inserted == 0


@pytest.mark.parametrize(
    ("fault", "reason", "condition"),
    [
        ("reject", "rejected", None),
        ("ribbon_ends", "ribbon_out", Condition.RIBBON_OUT),
        ("jam", "jam", Condition.JAM),
    ],
)
def test_faults_after_feed_spoil_the_card(
    rig: Rig, fault: str, reason: str, condition: Condition | None
) -> None:
    rig.printer.inject(fault)
    result = rig.driver.print_card(_card())
    assert result.outcome is Outcome.SPOILED
    assert result.reason == reason
    assert result.condition == condition
    snap = rig.printer.snapshot()
    assert snap.cards_inserted == 1
    assert snap.cards_ejected == 0


def test_vanish_mid_card_is_unknown(rig: Rig) -> None:
    rig.printer.inject("vanish_mid_card")
    result = rig.driver.print_card(_card())
    assert result.outcome is Outcome.UNKNOWN
    assert rig.printer.snapshot().cards_inserted == 1
    rig.printer.replug()
    assert rig.driver.print_card(_card()).outcome is Outcome.PRINTED


def test_slow_card_past_the_print_timeout_is_unknown(rig: Rig) -> None:
    rig.printer.inject("slow", seconds=PRINT_TIMEOUT + 1.0)
    result = rig.driver.print_card(_card())
    assert result.outcome is Outcome.UNKNOWN
    _wait_for(lambda: rig.printer.snapshot().cards_ejected == 1)
    # The late Se answer must not be taken for the answer to a later command.
    assert rig.driver.print_card(_card()).outcome is Outcome.PRINTED


@pytest.mark.parametrize("fault", ["garbage", "silent"])
def test_bad_replies_before_feed_are_transport_errors(rig: Rig, fault: str) -> None:
    rig.driver.connect()
    rig.printer.inject(fault)
    with pytest.raises(TransportError):
        rig.driver.print_card(_card())
    assert rig.printer.snapshot().cards_inserted == 0
    assert rig.driver.print_card(_card()).outcome is Outcome.PRINTED


def test_unplugged_printer_is_a_transport_error_then_recovers(rig: Rig) -> None:
    rig.driver.connect()
    rig.printer.unplug()
    with pytest.raises(TransportError):
        rig.driver.print_card(_card())
    rig.printer.replug()
    assert rig.driver.print_card(_card()).outcome is Outcome.PRINTED
    assert rig.printer.snapshot().cards_inserted == 1


def test_unsupported_ribbon_is_a_job_error_without_io(rig: Rig) -> None:
    with pytest.raises(JobError, match="ribbon type 'hologram'"):
        rig.driver.print_card(_card("hologram"))
    assert rig.printer.snapshot().cards_inserted == 0
