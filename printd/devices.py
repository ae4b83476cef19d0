"""Composition of a printer from its config: transport + driver, and for `sim://` devices the
in-process simulator behind pyusb. Libraries are imported here, per configured device, so a
station loads only what its printers need."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from printd.config import PrinterConfig
from printd.drivers.base import CardDriver
from printd.drivers.status import PrinterStatus
from printd.drivers.transport import Transport
from printd.drivers.uri import EVOLIS_VID, SerialDevice, SimDevice, TcpDevice, UsbDevice
from printd.errors import ConfigError

SIM_PRODUCT_ID = 0x0A00


@dataclass
class Link:
    """How to reach a printer, and for a simulated one the simulator and its servers."""

    transport: Transport
    hands: Any = None  # the simulator, for sim:// printers: the operator's hands
    closers: list[Callable[[], None]] = field(default_factory=list)


@dataclass
class BuiltPrinter:
    driver: CardDriver
    transport: Transport
    hands: Any = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                close()


def _sim_printer(name: str, device: SimDevice, memory: Path | None = None) -> Any:
    from printd.sim.evolis_model import SimPrinter

    try:
        return SimPrinter(
            model=device.model,
            serial=device.serial,
            hopper=device.hopper,
            hopper_capacity=device.hopper_capacity,
            ribbon_type=device.ribbon_type,
            ribbon_capacity=device.ribbon_capacity,
            print_seconds=device.print_seconds,
            reject_box_capacity=device.reject_box_capacity,
            firmware_profile=device.firmware,
            state_file=memory,
        )
    except ValueError as error:
        raise ConfigError(f"[[printer]] {name}: {error}") from None


def _link(printer: PrinterConfig, state_dir: Path) -> Link:
    device = printer.device
    if isinstance(device, SimDevice):
        from printd.drivers.usb_transport import UsbTransport
        from printd.sim.control import ControlServer
        from printd.sim.usb_backend import SimUsbBackend

        sim = _sim_printer(printer.name, device, state_dir / f"sim-{printer.name}.json")
        closers: list[Callable[[], None]] = []
        control = ControlServer(sim, str(state_dir / f"sim-{printer.name}.sock"))
        try:
            control.start()
        except OSError as error:
            raise ConfigError(
                f"[[printer]] {printer.name}: cannot open the simulator's control socket in "
                f"{state_dir} ({error.strerror or error})"
            ) from None
        closers.append(control.close)
        if device.snmp_port is not None:
            from printd.sim.snmp_agent import SimSnmpAgent, mib_view_from_snapshot

            started = time.monotonic()
            agent = SimSnmpAgent(
                lambda: mib_view_from_snapshot(
                    sim.snapshot(), uptime_ticks=int((time.monotonic() - started) * 100)
                ),
                port=device.snmp_port,
            )
            try:
                agent.start()
            except OSError as error:
                control.close()
                raise ConfigError(
                    f"[[printer]] {printer.name}: device {printer.device_uri!r}: cannot serve "
                    f"SNMP on 127.0.0.1:{device.snmp_port} ({error.strerror or error}); "
                    "is another program using the port? pick another snmp_port"
                ) from None
            closers.append(agent.close)
        backend = SimUsbBackend([(sim, SIM_PRODUCT_ID)])
        transport = UsbTransport(EVOLIS_VID, SIM_PRODUCT_ID, device.serial, backend=backend)
        return Link(transport, sim, closers)
    if isinstance(device, UsbDevice):
        from printd.drivers.usb_transport import UsbTransport

        return Link(UsbTransport(device.vid, device.pid, device.serial))
    if isinstance(device, SerialDevice):
        from printd.drivers.serial_transport import SerialTransport

        return Link(SerialTransport(device.url, device.baudrate))
    if isinstance(device, TcpDevice):
        from printd.drivers.tcp_transport import TcpTransport

        return Link(TcpTransport(device.host, device.port))
    raise TypeError(f"unhandled device {device!r}")


def build_printer(
    printer: PrinterConfig,
    state_dir: Path,
    status_source: Callable[[], PrinterStatus | None] | None = None,
    printed_counter: Callable[[], int | None] | None = None,
) -> BuiltPrinter:
    link = _link(printer, state_dir)
    driver: CardDriver
    if printer.driver == "raw":
        from printd.drivers.raw import RawDriver

        # No readback of its own: status comes from SNMP (the `status` URI).
        driver = RawDriver(
            link.transport, status_source=status_source, printed_counter=printed_counter
        )
    else:
        from printd.drivers.evolis.driver import EvolisDriver
        from printd.drivers.profiles import PRIMACY

        driver = EvolisDriver(
            link.transport,
            PRIMACY,
            command_timeout=printer.command_timeout_seconds,
            print_timeout=printer.card_timeout_seconds,
            owns_error_management=printer.error_management == "printd",
        )
    return BuiltPrinter(driver, link.transport, link.hands, link.closers)
