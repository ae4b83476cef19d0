"""The printer under test, composed exactly as the daemon composes it.

``build_rig`` hands the device URI to ``printd.devices.build_printer`` (for ``sim://`` that is
the simulator behind pyusb, with its control channel on a Unix socket) and adds what a
technician brings: the hands, the SNMP status source (on ``sim://`` the simulator's own agent,
started here) and read-outs of the printer's own counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hil.hands import Hands, SimulatorHands, TechnicianHands
from hil.link import PrinterLink
from printd.config import PrinterConfig
from printd.devices import BuiltPrinter, build_printer
from printd.drivers.evolis.driver import EvolisDriver
from printd.drivers.profiles import PRIMACY, Profile
from printd.drivers.status import Condition, LevelKind, PrinterState, PrinterStatus
from printd.drivers.transport import Transport
from printd.drivers.uri import DeviceUri, SerialDevice, SimDevice, TcpDevice, parse_device_uri
from printd.drivers.usb_transport import UsbTransport
from printd.errors import PrintdError, ProtocolError, TransportError

T = TypeVar("T")
POLL_SECONDS = 0.2


@dataclass(frozen=True, slots=True)
class Counters:
    """The printer's own figures at one instant; None where this printer cannot say."""

    cards_inserted: int | None  # Rco;c
    panels_printed: int | None  # Rco;p
    ribbon_remaining: int | None  # Rco;l through the driver's status
    hopper: int | None  # SNMP prtInputCurrentLevel (or the simulator) when it is a count

    def as_figures(self, prefix: str) -> dict[str, object]:
        return {
            f"{prefix}.cards_inserted": self.cards_inserted,
            f"{prefix}.panels_printed": self.panels_printed,
            f"{prefix}.ribbon_remaining": self.ribbon_remaining,
            f"{prefix}.hopper": self.hopper,
        }


def cable_of(device: DeviceUri) -> str:
    if isinstance(device, SerialDevice):
        return "serial"
    if isinstance(device, TcpDevice):
        return "network"
    return "USB"


def offline(error: Exception, source: str) -> PrinterStatus:
    """How printd sees a printer it cannot reach (the dispatcher's OFFLINE)."""
    return PrinterStatus(
        PrinterState.OFFLINE, frozenset({Condition.OFFLINE}), source=source, detail=str(error)
    )


@dataclass(repr=False)
class Rig:
    uri: str
    device: DeviceUri
    profile: Profile
    driver: EvolisDriver
    transport: Transport
    hands: Hands
    status_uri: str | None
    step_timeout: float
    command_timeout: float
    closers: list[Callable[[], None]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Rig({self.uri!r}, hands={self.hands.kind!r}, status={self.status_uri!r})"

    @property
    def simulated(self) -> bool:
        return isinstance(self.device, SimDevice)

    @property
    def usb(self) -> UsbTransport | None:
        return self.transport if isinstance(self.transport, UsbTransport) else None

    # -- what printd sees ---------------------------------------------------------------------

    def printer_status(self) -> PrinterStatus:
        """The driver's status over the data link; OFFLINE when it cannot be reached."""
        try:
            return self.driver.status()
        except TransportError as error:
            return offline(error, "usb")

    def snmp_status(self) -> PrinterStatus | None:
        """One SNMP poll mapped by printd's poller; None without a status URI."""
        if self.status_uri is None:
            return None
        from printd.drivers.snmp import SnmpPoller, parse_snmp_uri, status_from_reading

        async def poll_once() -> PrinterStatus:
            poller = SnmpPoller(parse_snmp_uri(self.status_uri or ""), timeout=1.0, retries=1)
            try:
                return status_from_reading(await poller.poll())
            finally:
                await poller.aclose()

        try:
            return asyncio.run(poll_once())
        except (TransportError, ProtocolError) as error:
            return offline(error, "snmp")

    @contextmanager
    def link(self) -> Iterator[PrinterLink]:
        """The transport to ourselves: the driver lets go first and reconnects on its next
        call, so our commands and its commands never share a connection."""
        self.driver.close()
        self.transport.open()
        try:
            link = PrinterLink(self.transport, self.command_timeout)
            link.drain()
            yield link
        finally:
            self.transport.close()

    def counters(self) -> Counters:
        with self.link() as link:
            cards, panels = link.counter("c"), link.counter("p")
        status = self.printer_status()
        left = status.supplies.ribbon_remaining
        return Counters(
            cards_inserted=cards,
            panels_printed=panels,
            ribbon_remaining=left.value if left.kind is LevelKind.KNOWN else None,
            hopper=self.hopper_count(),
        )

    def hopper_count(self) -> int | None:
        """Blanks in the hopper from the best source that counts them (a printer's own
        feeder sensor only says "cards" or "empty")."""
        snmp = self.snmp_status()
        if snmp is not None and snmp.supplies.hopper_level.kind is LevelKind.KNOWN:
            return snmp.supplies.hopper_level.value
        witness = self.hands.witness()
        return witness.hopper if witness is not None else None

    def wait_for(
        self, read: Callable[[], T], done: Callable[[T], bool], what: str, timeout: float = 0
    ) -> T:
        """Poll ``read`` until ``done``; fail naming ``what`` and the last reading."""
        deadline = time.monotonic() + (timeout or self.step_timeout)
        while True:
            value = read()
            if done(value):
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{what}: not seen within {timeout or self.step_timeout:.0f} s; "
                    f"last reading: {value}"
                )
            time.sleep(POLL_SECONDS)

    def close(self) -> None:
        for close in reversed(self.closers):
            with contextlib.suppress(PrintdError, OSError, RuntimeError):
                close()  # best effort: the run is over


def build_rig(
    printer_uri: str,
    status_uri: str | None,
    state_dir: Path,
    *,
    say: Callable[[str], None],
    step_timeout: float,
    command_timeout: float = 5.0,
) -> Rig:
    """Compose the printer under test. Raises ``ConfigError`` for a bad URI."""
    device = parse_device_uri(printer_uri)
    config = PrinterConfig(name="hil", device=device, device_uri=printer_uri, status=status_uri)
    built = build_printer(config, state_dir)
    if not isinstance(built.driver, EvolisDriver):
        built.close()
        raise TypeError(f"{printer_uri}: the suite qualifies Evolis-driven printers only")
    closers: list[Callable[[], None]] = [built.close]
    hands: Hands
    if isinstance(device, SimDevice):
        hands, status_uri = _simulator_extras(built, state_dir, status_uri, closers)
    else:
        hands = TechnicianHands(say, cable_of(device), step_timeout)
    return Rig(
        uri=printer_uri,
        device=device,
        profile=PRIMACY,
        driver=built.driver,
        transport=built.transport,
        hands=hands,
        status_uri=status_uri,
        step_timeout=step_timeout,
        command_timeout=command_timeout,
        closers=closers,
    )


def _simulator_extras(
    built: BuiltPrinter, state_dir: Path, status_uri: str | None, closers: list[Any]
) -> tuple[Hands, str | None]:
    """The simulator's control channel as hands, and its SNMP agent unless one was given."""
    from printd.sim.control import SimControlClient
    from printd.sim.snmp_agent import SimSnmpAgent, mib_view_from_snapshot

    control = SimControlClient(str(state_dir / "sim-hil.sock"))
    closers.append(control.close)
    if status_uri is None:
        sim = built.hands  # the in-process SimPrinter the agent shows
        agent = SimSnmpAgent(lambda: mib_view_from_snapshot(sim.snapshot())).start()
        closers.append(agent.close)
        status_uri = f"snmp://127.0.0.1:{agent.port}?version=2c&community=public"
    return SimulatorHands(control), status_uri
