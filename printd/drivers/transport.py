"""Transport: how bytes reach a printer. Small on purpose; drivers compose one.

Implementations (usb, serial, tcp) live beside this Protocol; each maps its library's errors
onto `TransportError` subclasses (timeout, device gone, busy).
"""

from __future__ import annotations

from typing import Protocol


class Transport(Protocol):
    def open(self) -> None:
        """Connect (a fresh enumeration/connection every time: no stale handles)."""

    def write(self, data: bytes, timeout: float) -> None:
        """Send all of `data` or raise `TransportError`."""

    def read(self, max_bytes: int, timeout: float) -> bytes:
        """Return 1..max_bytes bytes, or raise `TransportTimeout` when none came in time."""
        ...

    def close(self) -> None:
        """Release the device; safe to call twice."""
