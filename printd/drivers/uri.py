"""Device URIs (DESIGN §6), parsed at config load: an unknown scheme is a config error.

Parsing is pure and imports no driver library, so loading a config stays cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from printd.errors import ConfigError

EVOLIS_VID = 0x0F49
SIM_MODELS = {"primacy": "Primacy"}
RIBBON_TYPES = frozenset(
    {"ymcko", "ymckos", "ymckok", "ko", "kb", "kw", "kr", "kbl", "kgr", "kgo", "ksi", "ksc"}
)


@dataclass(frozen=True, slots=True)
class UsbDevice:
    vid: int
    pid: int | None  # None: any product of this vendor
    serial: str | None = None


@dataclass(frozen=True, slots=True)
class SerialDevice:
    url: str  # a pyserial URL or a device path
    baudrate: int = 9600


@dataclass(frozen=True, slots=True)
class TcpDevice:
    host: str
    port: int = 9100


@dataclass(frozen=True, slots=True)
class SimDevice:
    model: str
    hopper: int = 0
    hopper_capacity: int = 100
    ribbon_type: str | None = None
    ribbon_capacity: int = 450
    print_seconds: float = 0.5
    serial: str = "SIM000001"
    reject_box_capacity: int = 50
    snmp_port: int | None = None  # serve the simulator's Printer-MIB agent on 127.0.0.1
    firmware: str = "sdk"  # the simulated firmware's profile (printd.sim.firmware)
    # `hands=printctl`: printctl's blanks and ribbon records also do the physical act on this
    # simulated printer (the demo's convenience); otherwise only its control channel does.
    mirrors_ledger: bool = False


DeviceUri = UsbDevice | SerialDevice | TcpDevice | SimDevice


def _single(query: dict[str, list[str]], key: str, uri: str) -> str | None:
    values = query.get(key)
    if values is None:
        return None
    if len(values) != 1:
        raise ConfigError(f"{uri!r}: parameter {key!r} is given {len(values)} times")
    return values[0]


def _int(value: str, what: str, uri: str, *, base: int = 10, low: int = 0) -> int:
    try:
        number = int(value, base)
    except ValueError:
        raise ConfigError(f"{uri!r}: {what} must be a number, got {value!r}") from None
    if number < low:
        raise ConfigError(f"{uri!r}: {what} must be at least {low}, got {number}")
    return number


def _reject_unknown(query: dict[str, list[str]], allowed: set[str], uri: str) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise ConfigError(
            f"{uri!r}: unknown parameter {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def parse_ribbon(spec: str, uri: str) -> tuple[str | None, int]:
    """`TYPE:CAPACITY`, `TYPE` or `none`."""
    kind, _, capacity = spec.partition(":")
    kind = kind.lower()
    if kind == "none":
        return None, 0
    if kind not in RIBBON_TYPES:
        raise ConfigError(
            f"{uri!r}: unknown ribbon type {kind!r} (known: {', '.join(sorted(RIBBON_TYPES))})"
        )
    return kind, _int(capacity, "ribbon capacity", uri, low=1) if capacity else 450


def parse_device_uri(uri: str) -> DeviceUri:
    parts = urlsplit(uri)
    query = parse_qs(parts.query, keep_blank_values=True)
    scheme = parts.scheme.lower()
    if scheme == "usb":
        _reject_unknown(query, {"serial"}, uri)
        match = re.fullmatch(r"([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4}|\*)", parts.netloc)
        if not match:
            raise ConfigError(f"{uri!r}: expected usb://VID:PID with hex ids, e.g. usb://0f49:*")
        pid = None if match[2] == "*" else int(match[2], 16)
        return UsbDevice(int(match[1], 16), pid, _single(query, "serial", uri))
    if scheme == "serial":
        _reject_unknown(query, {"baudrate"}, uri)
        path = parts.path or parts.netloc
        if not path:
            raise ConfigError(f"{uri!r}: expected serial:///dev/ttyUSB0?baudrate=N")
        baud = _single(query, "baudrate", uri)
        return SerialDevice(path, _int(baud, "baudrate", uri, low=50) if baud else 9600)
    if scheme == "tcp":
        _reject_unknown(query, set(), uri)
        if not parts.hostname:
            raise ConfigError(f"{uri!r}: expected tcp://HOST:PORT")
        try:
            port = parts.port or 9100
        except ValueError:
            raise ConfigError(f"{uri!r}: the port is not a number between 0 and 65535") from None
        return TcpDevice(parts.hostname, port)
    if scheme == "sim":
        allowed = {
            "hopper",
            "hopper_capacity",
            "ribbon",
            "print_seconds",
            "serial",
            "reject_box_capacity",
            "snmp_port",
            "firmware",
            "hands",
        }
        _reject_unknown(query, allowed, uri)
        hands = _single(query, "hands", uri)
        if hands not in (None, "printctl", "control"):
            raise ConfigError(
                f"{uri!r}: hands must be 'printctl' (printctl's records also load the simulated "
                f"printer, for a demo) or 'control' (only its control channel), got {hands!r}"
            )
        model = parts.netloc.lower()
        if model not in SIM_MODELS:
            raise ConfigError(
                f"{uri!r}: unknown simulated model {model!r} (known: {', '.join(SIM_MODELS)})"
            )
        ribbon_type, ribbon_capacity = parse_ribbon(_single(query, "ribbon", uri) or "none", uri)
        hopper = _single(query, "hopper", uri)
        capacity = _single(query, "hopper_capacity", uri)
        seconds = _single(query, "print_seconds", uri)
        reject_box = _single(query, "reject_box_capacity", uri)
        snmp_port = _single(query, "snmp_port", uri)
        try:
            print_seconds = float(seconds) if seconds is not None else 0.5
        except ValueError:
            raise ConfigError(f"{uri!r}: print_seconds must be a number") from None
        if not 0 <= print_seconds <= 600:
            raise ConfigError(f"{uri!r}: print_seconds must be between 0 and 600")
        return SimDevice(
            model=SIM_MODELS[model],
            hopper=_int(hopper, "hopper", uri) if hopper else 0,
            hopper_capacity=_int(capacity, "hopper_capacity", uri, low=1) if capacity else 100,
            ribbon_type=ribbon_type,
            ribbon_capacity=ribbon_capacity or 450,
            print_seconds=print_seconds,
            serial=_single(query, "serial", uri) or "SIM000001",
            reject_box_capacity=_int(reject_box, "reject_box_capacity", uri, low=1)
            if reject_box
            else 50,
            snmp_port=_int(snmp_port, "snmp_port", uri, low=1) if snmp_port else None,
            firmware=_single(query, "firmware", uri) or "sdk",
            mirrors_ledger=hands == "printctl",
        )
    known = "usb://, serial://, tcp://, sim://"
    raise ConfigError(f"{uri!r}: unknown device scheme {parts.scheme!r} (known: {known})")


def check_status_uri(uri: str) -> None:
    """Status sources: `snmp://…`. Full parsing happens in the SNMP poller."""
    if urlsplit(uri).scheme.lower() != "snmp":
        raise ConfigError(f"{uri!r}: a status source must be an snmp:// URI")
