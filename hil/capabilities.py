"""What a test may need of the printer under test, decided from the URI and the model's
profile (``printd/drivers/profiles.py``) before anything is opened."""

from __future__ import annotations

from typing import Final

from printd.drivers.profiles import Profile
from printd.drivers.uri import DeviceUri, SimDevice, UsbDevice

CAPABILITIES: Final = {
    "duplex": "the model prints both sides (its profile says duplex)",
    "usb": "the data link is USB (device id, port status and soft reset are printer-class "
    "requests)",
    "snmp": "a status source over SNMP (--status URI; the simulator brings its own agent)",
    "forced_reject": "a card can be sent to the reject box on purpose (the simulator's "
    "inject('reject'); a real printer has no documented way that printd uses)",
}


def capabilities_of(device: DeviceUri, profile: Profile, status_uri: str | None) -> frozenset[str]:
    have = set()
    if profile.duplex:
        have.add("duplex")
    if isinstance(device, UsbDevice | SimDevice):  # sim:// sits behind pyusb, as USB does
        have.add("usb")
    if status_uri is not None or isinstance(device, SimDevice):
        have.add("snmp")
    if isinstance(device, SimDevice):
        have.add("forced_reject")
    return frozenset(have)


def unknown_names(needed: list[str]) -> list[str]:
    return [name for name in needed if name not in CAPABILITIES]


def skip_reason(needed: list[str], have: frozenset[str], model: str) -> str | None:
    """Why a test that needs ``needed`` cannot run here, or None when it can."""
    missing = [name for name in needed if name not in have]
    if not missing:
        return None
    return "; ".join(f"{model} here lacks {name!r}: {CAPABILITIES[name]}" for name in missing)
