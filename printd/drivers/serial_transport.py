"""Serial transport on pyserial: any `serial_for_url` URL (a device path, a pty, `loop://`…).

The same bytes flow as over USB (A10 of docs/evolis-protocol.md: ACK/NACK mode off). The port
is opened exclusively so a second process cannot interleave commands with ours.
"""

from __future__ import annotations

import contextlib
import errno
from typing import TYPE_CHECKING

import serial

from printd.errors import DeviceBusy, DeviceGone, TransportError, TransportTimeout

if TYPE_CHECKING:
    from serial import SerialBase


def map_serial_error(error: Exception, what: str, url: str) -> TransportError:
    number = getattr(error, "errno", None)
    text = str(error)
    if isinstance(error, serial.SerialTimeoutException):
        return TransportTimeout(f"serial {what} on {url}: no progress in time")
    if number == errno.EBUSY or "busy" in text.lower() or "lock" in text.lower():
        return DeviceBusy(
            f"serial {what} on {url}: the port is held by another process; stop it and retry"
        )
    if number in (errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EIO) or (
        "disconnected" in text or "No such file" in text or "could not open port" in text
    ):
        return DeviceGone(f"serial {what} on {url}: the port is gone: {text}")
    if number == errno.EACCES:
        return TransportError(f"serial {what} on {url}: permission denied (dialout group?)")
    return TransportError(f"serial {what} on {url}: {text}")


class SerialTransport:
    def __init__(self, url: str, baudrate: int = 9600) -> None:
        self._url = url
        self._baudrate = baudrate
        self._port: SerialBase | None = None

    def __repr__(self) -> str:
        return f"SerialTransport({self._url!r})"

    def open(self) -> None:
        self.close()
        try:
            port = serial.serial_for_url(self._url, do_not_open=True)
            port.baudrate = self._baudrate
            port.timeout = 1.0
            port.write_timeout = 1.0
            if isinstance(port, serial.Serial):
                port.exclusive = True  # flock: refuse a port another process has open
            port.open()
        except (serial.SerialException, OSError, ValueError) as error:
            raise map_serial_error(error, "open", self._url) from error
        self._port = port

    def _require(self) -> SerialBase:
        if self._port is None:
            raise DeviceGone(f"{self!r} is not open")
        return self._port

    def write(self, data: bytes, timeout: float) -> None:
        port = self._require()
        try:
            port.write_timeout = max(timeout, 0.001)
            port.write(data)
            port.flush()
        except (serial.SerialException, OSError) as error:
            raise map_serial_error(error, "write", self._url) from error

    def read(self, max_bytes: int, timeout: float) -> bytes:
        port = self._require()
        try:
            port.timeout = max(timeout, 0.001)
            first = port.read(1)
            if not first:
                raise TransportTimeout(f"serial read on {self._url}: no answer in time")
            # Every URL handler has in_waiting; the SerialBase stub does not declare it.
            waiting = min(int(getattr(port, "in_waiting", 0)), max_bytes - 1)
            return first + (port.read(waiting) if waiting > 0 else b"")
        except (serial.SerialException, OSError) as error:
            raise map_serial_error(error, "read", self._url) from error

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()  # the far end may already be gone
