"""USB printer-class requests (class 7): GET_DEVICE_ID, GET_PORT_STATUS, SOFT_RESET.

Request layout from the USB printer class and Linux usblp; the device-id length rule follows
CUPS (big-endian including its two bytes, little-endian when that is out of range).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import usb.core

from printd.errors import (
    DeviceBusy,
    DeviceGone,
    ProtocolError,
    TransportError,
    TransportTimeout,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

GET_DEVICE_ID: Final = 0
GET_PORT_STATUS: Final = 1
SOFT_RESET: Final = 2
CLASS_IN_INTERFACE: Final = 0xA1
CLASS_OUT_OTHER: Final = 0x23
CLASS_OUT_INTERFACE: Final = 0x21
DEVICE_ID_BUFFER: Final = 1024
MIN_DEVICE_ID: Final = 14  # CUPS: anything shorter is not a device id

PAPER_EMPTY: Final = 0x20  # LP_POUTPA, active high
SELECTED: Final = 0x10  # LP_PSELECD, active high
NOT_ERROR: Final = 0x08  # LP_PERRORP, active low

# Long key spellings some vendors use → the short IEEE 1284 key.
_KEY_ALIASES: Final[Mapping[str, str]] = {
    "MANUFACTURER": "MFG",
    "MODEL": "MDL",
    "COMMAND SET": "CMD",
    "CLASS": "CLS",
    "DESCRIPTION": "DES",
    "SERIALNUMBER": "SN",
    "SERN": "SN",
}


@dataclass(frozen=True, slots=True)
class DeviceId:
    fields: Mapping[str, str]  # upper-case short keys (MFG, MDL, CMD, CLS, DES, SN, …)
    raw: str

    @property
    def manufacturer(self) -> str | None:
        return self.fields.get("MFG")

    @property
    def model(self) -> str | None:
        return self.fields.get("MDL")

    @property
    def serial(self) -> str | None:
        return self.fields.get("SN")

    @property
    def command_sets(self) -> tuple[str, ...]:
        return tuple(c.strip() for c in self.fields.get("CMD", "").split(",") if c.strip())


@dataclass(frozen=True, slots=True)
class PortStatus:
    raw: int
    paper_empty: bool
    selected: bool
    error: bool

    @classmethod
    def decode(cls, raw: int) -> PortStatus:
        return cls(
            raw=raw,
            paper_empty=bool(raw & PAPER_EMPTY),
            selected=bool(raw & SELECTED),
            error=not raw & NOT_ERROR,
        )


def device_id_length(buffer: bytes) -> int:
    """The id's length without its two length bytes, by CUPS's rule."""
    if len(buffer) < 2:
        raise ProtocolError("device id shorter than its two length bytes")
    length = (buffer[0] << 8) | buffer[1]
    if length > len(buffer) or length < MIN_DEVICE_ID:
        length = (buffer[1] << 8) | buffer[0]  # some vendors send it little-endian
    length = min(length, len(buffer))
    if length < MIN_DEVICE_ID:
        raise ProtocolError(f"device id length {length} is under {MIN_DEVICE_ID} bytes")
    return length - 2


def parse_device_id(buffer: bytes) -> DeviceId:
    """Decode a GET_DEVICE_ID answer: two length bytes, then `KEY:value;` pairs."""
    body = buffer[2 : 2 + device_id_length(buffer)]
    text = body.decode("latin-1").rstrip("\x00")
    fields: dict[str, str] = {}
    for pair in text.split(";"):
        key, sep, value = pair.partition(":")
        key = key.strip().upper()
        if not sep or not key:
            continue
        fields.setdefault(_KEY_ALIASES.get(key, key), value.strip())
    if not fields:
        raise ProtocolError(f"device id holds no KEY:value pairs: {text[:64]!r}")
    return DeviceId(fields, text)


def get_device_id(device: Any, interface: int, alternate: int = 0, config: int = 0) -> DeviceId:
    data = _control(
        device,
        CLASS_IN_INTERFACE,
        GET_DEVICE_ID,
        value=config,
        index=(interface << 8) | alternate,
        data=DEVICE_ID_BUFFER,
    )
    return parse_device_id(bytes(data))


def get_port_status(device: Any, interface: int) -> PortStatus:
    data = _control(device, CLASS_IN_INTERFACE, GET_PORT_STATUS, value=0, index=interface, data=1)
    if len(data) != 1:
        raise ProtocolError(f"port status is one byte, got {len(data)}")
    return PortStatus.decode(data[0])


def soft_reset(device: Any, interface: int) -> None:
    """SOFT_RESET to recipient "other" (the class spec), then "interface" as CUPS falls back."""
    try:
        device.ctrl_transfer(CLASS_OUT_OTHER, SOFT_RESET, 0, interface, None)
    except usb.core.USBError:
        _control(device, CLASS_OUT_INTERFACE, SOFT_RESET, value=0, index=interface, data=None)


def _control(
    device: Any, request_type: int, request: int, *, value: int, index: int, data: int | None
) -> bytes:
    try:
        answer = device.ctrl_transfer(request_type, request, value, index, data)
    except usb.core.USBError as error:
        raise map_usb_error(error, "control request") from error
    return b"" if isinstance(answer, int) else bytes(answer)


# libusb error codes (libusb.h) for backends that set no errno.
_LIBUSB_IO, _LIBUSB_ACCESS, _LIBUSB_NO_DEVICE, _LIBUSB_BUSY = -1, -3, -4, -6
_LIBUSB_TIMEOUT, _LIBUSB_PIPE = -7, -9


def map_usb_error(error: Exception, what: str) -> TransportError:
    """The `TransportError` subclass a pyusb error stands for; the caller raises it `from`."""
    code = getattr(error, "backend_error_code", None)
    number = getattr(error, "errno", None)
    if isinstance(error, usb.core.USBTimeoutError) or code == _LIBUSB_TIMEOUT:
        return TransportTimeout(f"USB {what}: no answer in time")
    if number == errno.EBUSY or code == _LIBUSB_BUSY:
        return DeviceBusy(
            f"USB {what}: the printer is busy: another process (a CUPS backend, another printd)"
            " holds its interface; stop it and retry"
        )
    if number in (errno.ENODEV, errno.EPIPE, errno.EIO, errno.ENOENT) or code in (
        _LIBUSB_NO_DEVICE,
        _LIBUSB_PIPE,
        _LIBUSB_IO,
    ):
        return DeviceGone(f"USB {what}: the printer is gone (unplugged or powered off): {error}")
    if number == errno.EACCES or code == _LIBUSB_ACCESS:
        return TransportError(
            f"USB {what}: permission denied; install printd's udev rule or add the service"
            " user to the printer's group"
        )
    return TransportError(f"USB {what}: {error}")
