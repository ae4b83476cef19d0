"""A pyusb backend whose bus holds simulated Evolis printers.

``usb.core.find(idVendor=0x0F49, backend=SimUsbBackend([(printer, 0x0A00)]))`` finds them, and
every descriptor read, control request and bulk transfer goes through pyusb's own code paths.
The backend behaves like libusb where a driver can tell the difference:

- descriptors out of range raise ``IndexError`` (pyusb probes alt settings until it does);
- IN transfers fill the caller's buffer in place and return the byte count;
- an unplugged printer is not enumerated and its open handles raise ``USBError`` ENODEV;
  a power cycle or replug also kills handles opened before it (a new enumeration);
- a bulk read with nothing to read raises ``USBTimeoutError`` (ETIMEDOUT, error_code -7);
- the kernel printer driver (usblp) is bound until detached; claiming the interface while it
  is bound, or while another handle holds it, raises ``USBError`` EBUSY.

Printer-class requests: GET_DEVICE_ID (0xA1, 0), GET_PORT_STATUS (0xA1, 1) and SOFT_RESET
(0x23 or 0x21, 2).
"""

from __future__ import annotations

import errno
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Final

import usb.backend
import usb.core

from printd.sim.evolis_model import PrinterUnpluggedError, SimPrinter

EVOLIS_VENDOR_ID: Final = 0x0F49
EP_OUT: Final = 0x01
EP_IN: Final = 0x82
MAX_PACKET: Final = 512
LANGID_EN_US: Final = 0x0409
USB_LINK: Final = "usb"  # the printer keeps one command stream per interface
_STRING_MANUFACTURER, _STRING_PRODUCT, _STRING_SERIAL = 1, 2, 3
# libusb error codes, as pyusb's own libusb1 backend reports them.
_NO_DEVICE, _NOT_FOUND, _BUSY, _TIMEOUT, _PIPE, _INVALID = -4, -5, -6, -7, -9, -2


def _usb_error(message: str, code: int, err: int) -> usb.core.USBError:
    return usb.core.USBError(message, error_code=code, errno=err)


def _no_device() -> usb.core.USBError:
    return _usb_error("No such device (it may have been disconnected)", _NO_DEVICE, errno.ENODEV)


def _busy() -> usb.core.USBError:
    return _usb_error("Resource busy", _BUSY, errno.EBUSY)


def _stall() -> usb.core.USBError:
    return _usb_error("Pipe error", _PIPE, errno.EPIPE)


def _descriptor(**fields: object) -> SimpleNamespace:
    """pyusb reads descriptor fields as attributes; ``str(dev)`` also wants extra_descriptors."""
    return SimpleNamespace(extra_descriptors=[], **fields)


@dataclass(eq=False)
class _SimDevice:
    index: int
    printer: SimPrinter
    product_id: int


@dataclass(eq=False)
class _Handle:
    device: _SimDevice
    epoch: int
    closed: bool = False


class SimUsbBackend(usb.backend.IBackend):  # type: ignore[misc]  # pyusb ships no types
    """pyusb backend over ``(printer, idProduct)`` pairs; bus 1, one address each."""

    def __init__(self, printers: Sequence[tuple[SimPrinter, int]]) -> None:
        super().__init__()
        self._devices = [
            _SimDevice(index, printer, product_id)
            for index, (printer, product_id) in enumerate(printers)
        ]

    # ---------------------------------------------------------------- enumeration
    def enumerate_devices(self) -> list[_SimDevice]:
        return [device for device in self._devices if device.printer.plugged]

    def get_parent(self, dev: _SimDevice) -> None:
        return None

    def get_device_descriptor(self, dev: _SimDevice) -> SimpleNamespace:
        return _descriptor(
            bLength=18,
            bDescriptorType=1,
            bcdUSB=0x0200,
            bDeviceClass=0,  # class is given per interface
            bDeviceSubClass=0,
            bDeviceProtocol=0,
            bMaxPacketSize0=64,
            idVendor=EVOLIS_VENDOR_ID,
            idProduct=dev.product_id,
            bcdDevice=0x0100,
            iManufacturer=_STRING_MANUFACTURER,
            iProduct=_STRING_PRODUCT,
            iSerialNumber=_STRING_SERIAL,
            bNumConfigurations=1,
            bus=1,
            address=dev.index + 2,
            port_number=dev.index + 1,
            port_numbers=(dev.index + 1,),
            speed=3,  # high speed
        )

    def get_configuration_descriptor(self, dev: _SimDevice, config: int) -> SimpleNamespace:
        if config != 0:
            raise IndexError(f"configuration index {config} out of range")
        return _descriptor(
            bLength=9,
            bDescriptorType=2,
            wTotalLength=9 + 9 + 7 + 7,
            bNumInterfaces=1,
            bConfigurationValue=1,
            iConfiguration=0,
            bmAttributes=0xC0,  # self-powered
            bMaxPower=1,
        )

    def get_interface_descriptor(
        self, dev: _SimDevice, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        if config != 0 or intf != 0 or alt != 0:
            raise IndexError(f"interface {intf} alt {alt} of configuration {config} out of range")
        return _descriptor(
            bLength=9,
            bDescriptorType=4,
            bInterfaceNumber=0,
            bAlternateSetting=0,
            bNumEndpoints=2,
            bInterfaceClass=7,  # printer
            bInterfaceSubClass=1,
            bInterfaceProtocol=2,  # bidirectional
            iInterface=0,
        )

    def get_endpoint_descriptor(
        self, dev: _SimDevice, ep: int, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        if config != 0 or intf != 0 or alt != 0 or ep not in (0, 1):
            raise IndexError(f"endpoint {ep} of interface {intf} alt {alt} out of range")
        return _descriptor(
            bLength=7,
            bDescriptorType=5,
            bEndpointAddress=(EP_OUT, EP_IN)[ep],
            bmAttributes=2,  # bulk
            wMaxPacketSize=MAX_PACKET,
            bInterval=0,
            bRefresh=0,
            bSynchAddress=0,
        )

    # ---------------------------------------------------------------- handles
    def open_device(self, dev: _SimDevice) -> _Handle:
        if not dev.printer.plugged:
            raise _no_device()
        return _Handle(dev, dev.printer.link_epoch)

    def close_device(self, dev_handle: _Handle) -> None:
        attachment = dev_handle.device.printer.usb
        if attachment.claimed_by is dev_handle:
            attachment.claimed_by = None
        dev_handle.closed = True

    def _live(self, handle: _Handle) -> SimPrinter:
        printer = handle.device.printer
        if handle.closed or not printer.plugged or printer.link_epoch != handle.epoch:
            raise _no_device()
        return printer

    def set_configuration(self, dev_handle: _Handle, config_value: int) -> None:
        self._live(dev_handle)
        if config_value not in (0, 1):
            raise _usb_error("Entity not found", _NOT_FOUND, errno.ENOENT)

    def get_configuration(self, dev_handle: _Handle) -> int:
        self._live(dev_handle)
        return 1

    def set_interface_altsetting(self, dev_handle: _Handle, intf: int, altsetting: int) -> None:
        self._live(dev_handle)
        if intf != 0 or altsetting != 0:
            raise _usb_error("Entity not found", _NOT_FOUND, errno.ENOENT)

    def claim_interface(self, dev_handle: _Handle, intf: int) -> None:
        attachment = self._live(dev_handle).usb
        if intf != 0:
            raise _usb_error("Entity not found", _NOT_FOUND, errno.ENOENT)
        with attachment.lock:
            if attachment.kernel_driver_bound:
                raise _busy()  # usblp holds it: detach the kernel driver first
            if attachment.claimed_by not in (None, dev_handle):
                raise _busy()  # another process holds it
            attachment.claimed_by = dev_handle

    def release_interface(self, dev_handle: _Handle, intf: int) -> None:
        attachment = self._live(dev_handle).usb
        if attachment.claimed_by is dev_handle:
            attachment.claimed_by = None

    def is_kernel_driver_active(self, dev_handle: _Handle, intf: int) -> bool:
        return self._live(dev_handle).usb.kernel_driver_bound

    def detach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        attachment = self._live(dev_handle).usb
        with attachment.lock:
            if not attachment.kernel_driver_bound:
                raise _usb_error("Entity not found", _NOT_FOUND, errno.ENOENT)
            attachment.kernel_driver_bound = False

    def attach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        attachment = self._live(dev_handle).usb
        with attachment.lock:
            if attachment.claimed_by is not None:
                raise _busy()
            attachment.kernel_driver_bound = True

    def clear_halt(self, dev_handle: _Handle, ep: int) -> None:
        self._live(dev_handle)

    def reset_device(self, dev_handle: _Handle) -> None:
        self._live(dev_handle).soft_reset(USB_LINK)

    # ---------------------------------------------------------------- transfers
    def bulk_write(
        self, dev_handle: _Handle, ep: int, intf: int, data: array[int], timeout: int
    ) -> int:
        printer = self._live(dev_handle)
        if ep != EP_OUT:
            raise _usb_error("Invalid parameter", _INVALID, errno.EINVAL)
        try:
            printer.write(bytes(data), link=USB_LINK)
        except PrinterUnpluggedError as exc:
            raise _no_device() from exc
        return len(data)

    def bulk_read(
        self, dev_handle: _Handle, ep: int, intf: int, buff: array[int], timeout: int
    ) -> int:
        printer = self._live(dev_handle)
        if ep != EP_IN:
            raise _usb_error("Invalid parameter", _INVALID, errno.EINVAL)
        try:
            # libusb: a timeout of 0 waits for ever.
            data = printer.read(len(buff), timeout / 1000 if timeout else None, link=USB_LINK)
        except PrinterUnpluggedError as exc:
            raise _no_device() from exc
        if not data:
            raise usb.core.USBTimeoutError(
                "Operation timed out", error_code=_TIMEOUT, errno=errno.ETIMEDOUT
            )
        buff[: len(data)] = array("B", data)
        return len(data)

    def ctrl_transfer(  # noqa: PLR0917 - IBackend's signature, called positionally by pyusb
        self,
        dev_handle: _Handle,
        bmRequestType: int,  # noqa: N803 - pyusb's parameter names
        bRequest: int,  # noqa: N803
        wValue: int,  # noqa: N803
        wIndex: int,  # noqa: N803
        data: array[int],
        timeout: int,
    ) -> int:
        printer = self._live(dev_handle)
        if bmRequestType == 0x80 and bRequest == 6:  # GET_DESCRIPTOR
            reply = self._descriptor(dev_handle.device, wValue >> 8, wValue & 0xFF)
        elif bmRequestType == 0xA1 and bRequest == 0:  # GET_DEVICE_ID
            reply = printer.device_id()
        elif bmRequestType == 0xA1 and bRequest == 1:  # GET_PORT_STATUS
            reply = bytes([printer.port_status()])
        elif bmRequestType in (0x21, 0x23) and bRequest == 2:  # SOFT_RESET
            printer.soft_reset(USB_LINK)
            return 0
        else:
            raise _stall()
        count = min(len(reply), len(data))
        data[:count] = array("B", reply[:count])
        return count

    def _descriptor(self, device: _SimDevice, kind: int, index: int) -> bytes:
        if kind != 3:  # only string descriptors are read through control transfers
            raise _stall()
        if index == 0:
            return bytes([4, 3]) + LANGID_EN_US.to_bytes(2, "little")
        strings = {
            _STRING_MANUFACTURER: "Evolis",
            _STRING_PRODUCT: device.printer.model,
            _STRING_SERIAL: device.printer.serial,
        }
        text = strings.get(index)
        if text is None:
            raise _stall()
        encoded = text.encode("utf-16-le")
        return bytes([2 + len(encoded), 3]) + encoded
