"""The simulated printer on a pyusb bus: every call goes through pyusb's own code."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import usb.core
import usb.util
from _sim_streams import esc

from printd.sim.evolis_model import SimPrinter
from printd.sim.usb_backend import SimUsbBackend

PID = 0x0A00


def open_printer(backend: SimUsbBackend, **match: object) -> usb.core.Device:
    device = usb.core.find(idVendor=0x0F49, backend=backend, **match)
    assert device is not None
    if device.is_kernel_driver_active(0):
        device.detach_kernel_driver(0)
    device.set_configuration()
    return device


def read_reply(device: usb.core.Device, timeout: int = 1000) -> bytes:
    return bytes(device.read(0x82, 512, timeout=timeout))


def test_find_and_descriptors() -> None:
    printers = [SimPrinter(serial="A1"), SimPrinter(model="Zenius", serial="B2")]
    backend = SimUsbBackend([(printers[0], PID), (printers[1], 0x0A01)])
    found = list(usb.core.find(find_all=True, idVendor=0x0F49, backend=backend))
    assert [(d.idProduct, d.serial_number, d.product) for d in found] == [
        (PID, "A1", "Primacy"),
        (0x0A01, "B2", "Zenius"),
    ]
    device = usb.core.find(backend=backend, custom_match=lambda d: d.serial_number == "B2")
    assert device is not None
    assert device.manufacturer == "Evolis"
    intf = usb.util.find_descriptor(device.get_active_configuration(), bInterfaceClass=7)
    assert (intf.bInterfaceSubClass, intf.bInterfaceProtocol) == (1, 2)
    addresses = sorted(ep.bEndpointAddress for ep in intf)
    assert addresses == [0x01, 0x82]
    assert "Printer" in str(device) or "0x7" in str(device)  # full descriptor dump works


def test_kernel_driver_must_be_detached_before_claiming() -> None:
    printer = SimPrinter()
    device = usb.core.find(idVendor=0x0F49, backend=SimUsbBackend([(printer, PID)]))
    assert device.is_kernel_driver_active(0)
    with pytest.raises(usb.core.USBError) as busy:
        device.write(0x01, esc("Rtp"))
    assert busy.value.errno == errno.EBUSY
    device.detach_kernel_driver(0)
    assert not device.is_kernel_driver_active(0)
    device.write(0x01, esc("Rtp"))
    assert read_reply(device) == b"Primacy\r"


def test_second_process_cannot_claim() -> None:
    printer = SimPrinter()
    first = open_printer(SimUsbBackend([(printer, PID)]))
    first.write(0x01, esc("Rtp"))
    second = usb.core.find(idVendor=0x0F49, backend=SimUsbBackend([(printer, PID)]))
    with pytest.raises(usb.core.USBError) as busy:
        second.write(0x01, esc("Rsn"))
    assert busy.value.errno == errno.EBUSY
    assert "Resource busy" in str(busy.value)
    usb.util.dispose_resources(first)  # releases the interface
    second.write(0x01, esc("Rsn"))
    assert read_reply(second) == b"Primacy\rSIM000001\r"


def test_printer_class_requests() -> None:
    printer = SimPrinter(serial="X9", hopper=1)
    device = open_printer(SimUsbBackend([(printer, PID)]))
    device_id = bytes(device.ctrl_transfer(0xA1, 0, 0, 0, 1024))
    assert device_id == printer.device_id()
    assert b"MDL:Primacy;" in device_id and b"SN:X9;" in device_id
    assert bytes(device.ctrl_transfer(0xA1, 0, 0, 0, 10)) == device_id[:10]
    assert list(device.ctrl_transfer(0xA1, 1, 0, 0, 1)) == [0x18]
    printer.unload_blanks(1)
    assert list(device.ctrl_transfer(0xA1, 1, 0, 0, 1)) == [0x20 | 0x10]
    device.write(0x01, esc("Rtp") + b"\x1bRs")  # a reply waiting and a partial command
    device.ctrl_transfer(0x23, 2, 0, 0)  # SOFT_RESET
    with pytest.raises(usb.core.USBTimeoutError):
        device.read(0x82, 512, timeout=50)
    device.write(0x01, b"n\r")  # "Rsn" was forgotten: "n" alone is no command
    assert read_reply(device) == b"ERROR CDE\r"
    device.ctrl_transfer(0x21, 2, 0, 0)
    with pytest.raises(usb.core.USBError) as stall:
        device.ctrl_transfer(0xA1, 9, 0, 0, 1)
    assert stall.value.errno == errno.EPIPE


def test_capture_through_pyusb(captures: Path) -> None:
    printer = SimPrinter(ribbon_type="kb")
    device = open_printer(SimUsbBackend([(printer, PID)]))
    stream = (captures / "card-gradient").read_bytes()
    for start in range(0, len(stream), 4096):
        assert device.write(0x01, stream[start : start + 4096]) == len(stream[start : start + 4096])
    replies = b""
    while replies.count(b"\r") < 10:
        replies += read_reply(device)
    assert replies == b"OK\r" * 10
    assert printer.snapshot().cards_ejected == 1


def test_read_timeout() -> None:
    device = open_printer(SimUsbBackend([(SimPrinter(), PID)]))
    with pytest.raises(usb.core.USBTimeoutError) as timeout:
        device.read(0x82, 512, timeout=30)
    assert timeout.value.errno == errno.ETIMEDOUT
    assert timeout.value.backend_error_code == -7


def test_unplug_is_enodev_and_replug_needs_a_new_handle() -> None:
    printer = SimPrinter()
    backend = SimUsbBackend([(printer, PID)])
    device = open_printer(backend)
    device.write(0x01, esc("Rtp"))
    printer.unplug()
    assert usb.core.find(idVendor=0x0F49, backend=backend) is None
    for action in (
        lambda: device.write(0x01, esc("Rtp")),
        lambda: device.read(0x82, 512, timeout=50),
        lambda: device.ctrl_transfer(0xA1, 1, 0, 0, 1),
    ):
        with pytest.raises(usb.core.USBError) as gone:
            action()
        assert gone.value.errno == errno.ENODEV
        assert "No such device" in str(gone.value)
    printer.replug()
    with pytest.raises(usb.core.USBError) as stale:
        device.write(0x01, esc("Rtp"))
    assert stale.value.errno == errno.ENODEV
    usb.util.dispose_resources(device)
    fresh = open_printer(backend)  # re-enumerated: kernel driver bound again, detached here
    fresh.write(0x01, esc("Rtp"))
    assert read_reply(fresh) == b"Primacy\r"


def test_vanish_mid_card_over_usb() -> None:
    from _sim_streams import card, dbc, ko_compress, random_k

    printer = SimPrinter()
    device = open_printer(SimUsbBackend([(printer, PID)]))
    printer.inject("vanish_mid_card")
    device.write(0x01, card([dbc("k", ko_compress(random_k(1)))]))
    with pytest.raises(usb.core.USBError) as gone:
        read_reply(device, timeout=100)
    assert gone.value.errno == errno.ENODEV
    assert printer.snapshot().cards_ejected == 1
