"""UsbTransport on pyusb with the simulator's backend: the real pyusb code paths."""

from __future__ import annotations

from typing import Any

import pytest

from printd.drivers.usb_transport import UsbTransport
from printd.errors import DeviceBusy, DeviceGone, TransportTimeout
from printd.sim.evolis_model import SimPrinter
from printd.sim.usb_backend import SimUsbBackend

EVOLIS = 0x0F49
PRIMACY_PID = 0x0A00


class CountingBackend(SimUsbBackend):
    """The simulator's backend, counting the calls a driver must not make too often."""

    def __init__(self, printers: Any) -> None:
        super().__init__(printers)
        self.set_configuration_calls = 0
        self.open_calls = 0

    def set_configuration(self, dev_handle: Any, config_value: int) -> None:
        self.set_configuration_calls += 1
        super().set_configuration(dev_handle, config_value)

    def open_device(self, dev: Any) -> Any:
        self.open_calls += 1
        return super().open_device(dev)


def _read_reply(link: UsbTransport) -> bytes:
    data = b""
    while not data.endswith(b"\r"):
        data += link.read(64, 1.0)
    return data


def test_open_detaches_usblp_claims_and_talks() -> None:
    printer = SimPrinter(serial="SN42")
    backend = CountingBackend([(printer, PRIMACY_PID)])
    link = UsbTransport(EVOLIS, PRIMACY_PID, backend=backend)
    assert printer.usb.kernel_driver_bound
    link.open()
    assert not printer.usb.kernel_driver_bound  # usblp detached
    assert printer.usb.claimed_by is not None
    assert backend.set_configuration_calls == 0  # already configured: left alone
    link.write(b"\x1bRsn\r", 1.0)
    assert _read_reply(link) == b"SN42\r"
    link.close()
    assert printer.usb.claimed_by is None
    assert printer.usb.kernel_driver_bound  # handed back to the kernel
    link.close()


def test_printer_class_requests() -> None:
    printer = SimPrinter(model="Primacy", serial="SN7", hopper=0)
    link = UsbTransport(EVOLIS, None, backend=SimUsbBackend([(printer, PRIMACY_PID)]))
    link.open()
    device_id = link.device_id()
    assert device_id.manufacturer == "Evolis"
    assert device_id.model == "Primacy"
    assert device_id.serial == "SN7"
    status = link.port_status()
    assert status.paper_empty
    assert status.selected
    printer.load_blanks(5)
    assert not link.port_status().paper_empty
    link.write(b"\x1bRtp\r", 1.0)
    link.soft_reset()  # drops the unread reply
    with pytest.raises(TransportTimeout):
        link.read(64, 0.05)
    link.close()


def test_serial_number_selects_the_printer() -> None:
    first, second = SimPrinter(serial="AAA"), SimPrinter(serial="BBB")
    backend = SimUsbBackend([(first, PRIMACY_PID), (second, PRIMACY_PID)])
    link = UsbTransport(EVOLIS, PRIMACY_PID, "BBB", backend=backend)
    link.open()
    assert second.usb.claimed_by is not None
    assert first.usb.claimed_by is None
    link.close()
    with pytest.raises(DeviceGone, match="serial CCC"):
        UsbTransport(EVOLIS, PRIMACY_PID, "CCC", backend=backend).open()


def test_absent_printer_is_gone() -> None:
    with pytest.raises(DeviceGone, match="no USB printer"):
        UsbTransport(EVOLIS, 0x1234, backend=SimUsbBackend([(SimPrinter(), PRIMACY_PID)])).open()


def test_second_holder_is_busy() -> None:
    backend = SimUsbBackend([(SimPrinter(), PRIMACY_PID)])
    holder = UsbTransport(EVOLIS, PRIMACY_PID, backend=backend)
    holder.open()
    try:
        with pytest.raises(DeviceBusy, match="another process"):
            UsbTransport(EVOLIS, PRIMACY_PID, backend=backend).open()
    finally:
        holder.close()


def test_unplug_is_gone_and_every_open_enumerates_afresh() -> None:
    printer = SimPrinter()
    backend = CountingBackend([(printer, PRIMACY_PID)])
    link = UsbTransport(EVOLIS, PRIMACY_PID, backend=backend)
    link.open()
    printer.unplug()
    with pytest.raises(DeviceGone):
        link.write(b"\x1bRtp\r", 1.0)
    with pytest.raises(DeviceGone):
        link.open()
    printer.replug()
    link.open()  # a new enumeration and handle: the old one died with the unplug
    link.write(b"\x1bRtp\r", 1.0)
    assert _read_reply(link) == b"Primacy\r"
    assert backend.open_calls >= 2
    link.close()


def test_read_timeout() -> None:
    link = UsbTransport(EVOLIS, PRIMACY_PID, backend=SimUsbBackend([(SimPrinter(), PRIMACY_PID)]))
    link.open()
    with pytest.raises(TransportTimeout):
        link.read(64, 0.05)
    link.close()
