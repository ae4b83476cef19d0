"""A transport that answers each written command with the next reply of a script."""

from __future__ import annotations

from collections import deque

from printd.errors import TransportTimeout

# Rtp, Rsn, Rfv, Pem;2, then the probes: Rse;f, Rlr;p, Rr, Rco;l, Rse;o, Pcim;F.
IDENTITY: list[bytes | Exception] = [
    b"Primacy\r",
    b"SN1\r",
    b"1.0\r",
    b"OK\r",
    b"5,00 Volts\r",
    b"OK\r",
    b"KB\r",
    b"100\r",
    b"5,00 Volts\r",
    b"OK\r",
]


class ScriptedTransport:
    def __init__(self, replies: list[bytes | Exception]) -> None:
        self.replies: deque[bytes | Exception] = deque(replies)
        self.written: list[bytes] = []
        self.pending = bytearray()
        self.opened = 0
        self.closed = 0

    def open(self) -> None:
        self.opened += 1

    def close(self) -> None:
        self.closed += 1
        self.pending.clear()

    def write(self, data: bytes, timeout: float) -> None:
        self.written.append(bytes(data))
        if self.replies:
            reply = self.replies.popleft()
            if isinstance(reply, Exception):
                raise reply
            self.pending += reply

    def read(self, max_bytes: int, timeout: float) -> bytes:
        if not self.pending:
            raise TransportTimeout("scripted: nothing to read")
        byte = bytes(self.pending[:1])
        del self.pending[:1]
        return byte
