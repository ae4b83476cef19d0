"""USB transport on pyusb: the printer-class interface, one bulk OUT and one bulk IN endpoint.

Every `open()` enumerates afresh (a long-lived daemon must not keep a libusb handle across an
unplug), detaches the kernel's usblp when it holds the interface, and leaves an already
configured device's configuration alone. pyusb errors become `TransportTimeout`,
`DeviceGone` or `DeviceBusy`, so the dispatcher's retry policy never sees a library type.
"""

from __future__ import annotations

import time
from array import array
from typing import TYPE_CHECKING, Any

import usb.core
import usb.util

from printd.drivers import usbprinter
from printd.drivers.usbprinter import map_usb_error
from printd.errors import DeviceGone, TransportError, TransportTimeout

if TYPE_CHECKING:
    from printd.drivers.usbprinter import DeviceId, PortStatus

PRINTER_CLASS = 7
PRINTER_SUBCLASS = 1


class UsbTransport:
    def __init__(
        self,
        vid: int,
        pid: int | None,
        serial: str | None = None,
        *,
        backend: Any = None,
        interface: int = 0,
    ) -> None:
        self._vid = vid
        self._pid = pid
        self._serial = serial
        self._backend = backend  # None: pyusb picks the system's libusb
        self._interface_number = interface
        self._device: Any = None
        self._interface: Any = None
        self._ep_out: Any = None
        self._ep_in: Any = None
        self._detached = False
        self._pending = bytearray()  # bytes read past what a caller asked for

    def __repr__(self) -> str:
        pid = "*" if self._pid is None else f"{self._pid:04x}"
        return f"UsbTransport({self._vid:04x}:{pid})"

    @property
    def device(self) -> Any:
        """The open pyusb device (for printer-class requests); raises when closed."""
        if self._device is None:
            raise DeviceGone(f"{self!r} is not open")
        return self._device

    def _matches_serial(self, device: Any) -> bool:
        if self._serial is None:
            return True
        try:
            return bool(usb.util.get_string(device, device.iSerialNumber) == self._serial)
        except (usb.core.USBError, ValueError):
            return False

    def _find(self) -> Any:
        query: dict[str, int] = {"idVendor": self._vid}
        if self._pid is not None:
            query["idProduct"] = self._pid
        try:
            device = usb.core.find(
                backend=self._backend, custom_match=self._matches_serial, **query
            )
        except usb.core.NoBackendError as error:
            raise DeviceGone("no libusb backend is installed (apt install libusb-1.0-0)") from error
        except usb.core.USBError as error:
            raise map_usb_error(error, "enumerate") from error
        if device is None:
            serial = f" serial {self._serial}" if self._serial else ""
            raise DeviceGone(f"no USB printer {self!r}{serial} is attached")
        return device

    def open(self) -> None:
        self.close()
        device = self._find()
        self._device = device
        try:
            self._claim(device)
        except usb.core.USBError as error:
            self.close()
            raise map_usb_error(error, "open") from error
        except TransportError:
            self.close()
            raise

    def _claim(self, device: Any) -> None:
        try:
            configuration = device.get_active_configuration()
        except usb.core.USBError:
            configuration = None  # unconfigured: libusb reports it as an error
        if configuration is None:
            device.set_configuration()
            configuration = device.get_active_configuration()
        interface = self._printer_interface(configuration)
        number = interface.bInterfaceNumber
        try:
            if device.is_kernel_driver_active(number):
                device.detach_kernel_driver(number)
                self._detached = True
        except NotImplementedError:
            pass  # backends without kernel drivers (Windows, simulated buses)
        usb.util.claim_interface(device, number)
        if interface.bAlternateSetting != 0:
            interface.set_altsetting()
        self._interface = interface
        self._ep_out = self._endpoint(interface, usb.util.ENDPOINT_OUT)
        self._ep_in = self._endpoint(interface, usb.util.ENDPOINT_IN)

    def _printer_interface(self, configuration: Any) -> Any:
        candidates = [
            intf
            for intf in configuration
            if intf.bInterfaceClass == PRINTER_CLASS and intf.bInterfaceSubClass == PRINTER_SUBCLASS
        ]
        if not candidates:
            raise DeviceGone(f"{self!r} has no USB printer-class interface")
        # The configured interface number first, then bidirectional (protocol 2) over others.
        candidates.sort(
            key=lambda i: (i.bInterfaceNumber != self._interface_number, i.bInterfaceProtocol != 2)
        )
        return candidates[0]

    def _endpoint(self, interface: Any, direction: int) -> Any:
        endpoint = usb.util.find_descriptor(
            interface,
            custom_match=lambda e: (
                usb.util.endpoint_direction(e.bEndpointAddress) == direction
                and usb.util.endpoint_type(e.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK
            ),
        )
        if endpoint is None:
            side = "OUT" if direction == usb.util.ENDPOINT_OUT else "IN"
            raise DeviceGone(f"{self!r}: the printer interface has no bulk {side} endpoint")
        return endpoint

    def write(self, data: bytes, timeout: float) -> None:
        if self._ep_out is None:
            raise DeviceGone(f"{self!r} is not open")
        deadline = time.monotonic() + timeout
        # pyusb copies anything but array('B') element by element: 30 ms for one colour panel.
        pending = array("B")
        pending.frombytes(data)
        while pending:
            try:
                sent = self._ep_out.write(pending, _millis(deadline))
            except usb.core.USBError as error:
                raise map_usb_error(error, "write") from error
            del pending[:sent]

    def read(self, max_bytes: int, timeout: float) -> bytes:
        if self._ep_in is None:
            raise DeviceGone(f"{self!r} is not open")
        deadline = time.monotonic() + timeout
        packet = int(self._ep_in.wMaxPacketSize) or 64
        while not self._pending:
            # Whole packets only: a shorter buffer overflows when the device sends a full one.
            size = max(packet, -(-max_bytes // packet) * packet)
            try:
                chunk = self._ep_in.read(size, _millis(deadline))
            except usb.core.USBError as error:
                raise map_usb_error(error, "read") from error
            self._pending += bytes(chunk)
            if not chunk and time.monotonic() >= deadline:
                raise TransportTimeout(f"USB read from {self!r}: no answer in time")
        data = bytes(self._pending[:max_bytes])
        del self._pending[:max_bytes]
        return data

    def close(self) -> None:
        device, self._device = self._device, None
        interface, self._interface = self._interface, None
        self._ep_in = self._ep_out = None
        self._pending.clear()
        if device is None:
            return
        # Best effort: after an unplug every call below fails, and that is fine.
        try:
            if interface is not None:
                usb.util.release_interface(device, interface.bInterfaceNumber)
                if self._detached:
                    device.attach_kernel_driver(interface.bInterfaceNumber)
        except (usb.core.USBError, NotImplementedError):
            pass
        finally:
            self._detached = False
            usb.util.dispose_resources(device)

    # Printer-class requests on the open interface (printd.drivers.usbprinter).

    def device_id(self) -> DeviceId:
        return usbprinter.get_device_id(self.device, self._claimed_number())

    def port_status(self) -> PortStatus:
        return usbprinter.get_port_status(self.device, self._claimed_number())

    def soft_reset(self) -> None:
        usbprinter.soft_reset(self.device, self._claimed_number())

    def _claimed_number(self) -> int:
        if self._interface is None:
            raise DeviceGone(f"{self!r} is not open")
        return int(self._interface.bInterfaceNumber)


def _millis(deadline: float) -> int:
    """pyusb timeouts are whole milliseconds; 0 would mean "forever", so never below 1."""
    return max(1, int((deadline - time.monotonic()) * 1000))
