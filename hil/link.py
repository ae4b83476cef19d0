"""Commands printd's driver does not send in service (counters, error management), spoken
over the same transport while the driver is disconnected, so the two never interleave."""

from __future__ import annotations

import time
from typing import Final

from printd.drivers.evolis import codec
from printd.drivers.transport import Transport
from printd.errors import ProtocolError, TransportTimeout

READ_CHUNK: Final = 256
QUIET_SECONDS: Final = 0.05
REM_FRAME: Final = b"\x1bRem\r"  # "read error management": not in printd's command table


class PrinterLink:
    """One open transport, lockstep: every command is answered before the next is sent."""

    def __init__(self, transport: Transport, timeout: float) -> None:
        self.transport = transport
        self._timeout = timeout
        self._buffer = bytearray()

    def drain(self) -> None:
        """Drop whatever a previous connection left unread."""
        for _ in range(64):
            try:
                self.transport.read(READ_CHUNK, QUIET_SECONDS)
            except TransportTimeout:
                break
        self._buffer.clear()

    def exchange(self, frame: bytes) -> bytes:
        """Send one framed command and return its one reply (terminator removed)."""
        self.transport.write(frame, self._timeout)
        deadline = time.monotonic() + self._timeout
        while (reply := codec.split_reply(self._buffer)) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TransportTimeout(f"no reply to {frame[:8]!r} within {self._timeout} s")
            self._buffer += self.transport.read(READ_CHUNK, left)
        return reply

    def ask(self, command: str, *params: str | int) -> codec.Reply:
        return codec.decode_reply(command, self.exchange(codec.encode_command(command, *params)))

    def counter(self, which: str) -> int | None:
        """``Rco;c`` cards inserted, ``Rco;p`` panels printed, ``Rco;l`` prints left."""
        reply = self.ask("Rco", which)
        if isinstance(reply, codec.Number):
            return reply.value
        raise ProtocolError(f"Rco;{which}: expected a number, got {reply}")

    def set_error_management(self, mode: int) -> None:
        reply = self.ask("Pem", mode)
        if not isinstance(reply, codec.Ok):
            raise ProtocolError(f"Pem;{mode}: the printer answered {reply}")

    def error_management(self) -> int | None:
        """The current mode from ``Rem`` (first of its two values), or None when the printer
        does not answer ``Rem`` (the simulator and some firmware answer ``ERR CMD``)."""
        text = self.exchange(REM_FRAME).decode("ascii", "replace")
        first = text.replace(",", ";").split(";")[0].strip()
        return int(first) if first.isdigit() else None
