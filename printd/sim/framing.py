"""Incremental reader of the Evolis command stream (docs/evolis-protocol.md, "Framing").

Bytes arrive in writes of any size, split at any byte. A command is ``ESC name;param;… CR``
(the ESC is optional, as the guide allows after a CR). ``Db`` and ``Dbc`` carry binary payloads
that contain ESC and CR, so their length comes from the header: ``Db`` implies it from panel and
levels, ``Dbc`` declares it. NUL, CR and LF between commands are skipped.

``Dbc`` has two forms: ``Dbc;panel;levels;nb_bytes;data`` (what the vendor's driver sends) and
``Dbc;panel;levels;first_line;nb_bytes;data``. After ``Dbc;p;l;N;`` the reader cannot peek at
the data to tell them apart, so it uses a size argument: a full panel needs at least one byte per
line, so ``N`` of 1016 or more is ``nb_bytes`` (four fields) and a smaller ``N`` (0..1015) is
``first_line`` (five fields, the count follows).

The reader never raises on bad input: it yields a ``Frame`` whose ``error`` names the reply the
printer gives (``CMD`` or ``PARAM``) and resynchronises at the next CR.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from printd.sim.panels import PANEL_LINES, raw_size

ESC: Final = 0x1B
CR: Final = 0x0D
LF: Final = 0x0A
NUL: Final = 0x00
SEMICOLON: Final = 0x3B
MAX_HEADER_BYTES: Final = 256
# Worst case of the Y/M/C run-length rule is two bytes per dot of a 648 x 1016 panel.
MAX_PAYLOAD_BYTES: Final = 2 * 648 * PANEL_LINES


@dataclass(frozen=True, slots=True)
class Frame:
    """One complete command: name, parameters, the download payload, or a framing error."""

    name: str
    params: tuple[str, ...] = ()
    payload: bytes | None = None
    error: str | None = None  # the A6 name to answer with ("CMD", "PARAM"), if already known
    detail: str = ""


class _State(enum.Enum):
    IDLE = "idle"
    HEADER = "header"
    PAYLOAD = "payload"
    AFTER_PAYLOAD = "after_payload"
    DISCARD = "discard"


class CommandFramer:
    """Turns a byte stream into ``Frame`` objects; keeps partial commands between feeds."""

    def __init__(self) -> None:
        self._state = _State.IDLE
        self._header = bytearray()
        self._chunks: list[bytes] = []
        self._remaining = 0
        self._download: tuple[str, tuple[str, ...]] = ("", ())
        self._awaiting_count = False  # Dbc five-field form: reading nb_bytes

    def reset(self) -> None:
        """Forget any partial command (soft reset, power cycle, unplug)."""
        self._state = _State.IDLE
        self._header.clear()
        self._chunks = []
        self._remaining = 0
        self._awaiting_count = False

    @property
    def idle(self) -> bool:
        """True when no command is partly read."""
        return self._state is _State.IDLE

    def feed(self, data: bytes) -> list[Frame]:
        """Consume ``data``; return the commands it completes, in order."""
        frames: list[Frame] = []
        i = 0
        size = len(data)
        while i < size:
            state = self._state
            if state is _State.IDLE:
                byte = data[i]
                if byte in (NUL, CR, LF):
                    i += 1
                    continue
                self._header.clear()
                self._awaiting_count = False
                self._state = _State.HEADER
                if byte == ESC:
                    i += 1
            elif state is _State.HEADER:
                byte = data[i]
                i += 1
                frame = self._header_byte(byte)
                if frame is not None:
                    frames.append(frame)
            elif state is _State.PAYLOAD:
                take = min(self._remaining, size - i)
                self._chunks.append(data[i : i + take])
                self._remaining -= take
                i += take
                if self._remaining == 0:
                    self._state = _State.AFTER_PAYLOAD
            elif state is _State.AFTER_PAYLOAD:
                name, params = self._download
                payload = b"".join(self._chunks)
                self._chunks = []
                self._state = _State.IDLE
                if data[i] == CR:
                    i += 1
                    frames.append(Frame(name, params, payload))
                else:
                    # Leave the byte for the next command: the host sent too few or too many.
                    frames.append(
                        Frame(
                            name,
                            params,
                            error="PARAM",
                            detail=f"{name} payload of {len(payload)} bytes is not followed by CR",
                        )
                    )
            else:  # DISCARD: skip to the end of the broken command
                end = data.find(b"\r", i)
                if end < 0:
                    i = size
                else:
                    i = end + 1
                    self._state = _State.IDLE
        return frames

    def _header_byte(self, byte: int) -> Frame | None:
        if byte == CR:
            self._state = _State.IDLE
            return self._finish_header()
        if byte == ESC:
            # A new command starts before this one ended: the partial one is dropped unanswered.
            self._header.clear()
            self._awaiting_count = False
            return None
        self._header.append(byte)
        if len(self._header) > MAX_HEADER_BYTES:
            return self._discard("CMD", f"command header longer than {MAX_HEADER_BYTES} bytes")
        if self._awaiting_count and byte != SEMICOLON and not 0x30 <= byte <= 0x39:
            return self._discard("PARAM", "Dbc byte count is not a decimal number")
        if byte == SEMICOLON and self._header[:2] == b"Db":
            return self._check_download()
        return None

    def _check_download(self) -> Frame | None:
        fields = bytes(self._header).split(b";")
        name = fields[0]
        if name == b"Db" and len(fields) == 4:
            return self._start_raw(fields[1], fields[2])
        if name == b"Dbc" and len(fields) == 5:
            return self._start_compressed(fields[1], fields[2], None, fields[3])
        if name == b"Dbc" and len(fields) == 6:
            return self._start_compressed(fields[1], fields[2], fields[3], fields[4])
        return None

    def _start_raw(self, panel_field: bytes, levels_field: bytes) -> Frame | None:
        try:
            panel = panel_field.decode("ascii")
            levels = int(levels_field)
            size = raw_size(panel, levels)
        except (UnicodeDecodeError, ValueError) as exc:
            return self._discard("PARAM", f"Db header: {exc}")
        self._begin_payload("Db", (panel, str(levels)), size)
        return None

    def _start_compressed(
        self, panel_field: bytes, levels_field: bytes, first_field: bytes | None, count: bytes
    ) -> Frame | None:
        try:
            panel = panel_field.decode("ascii")
            levels = int(levels_field)
            raw_size(panel, levels)
            number = int(count)
            first = None if first_field is None else int(first_field)
        except (UnicodeDecodeError, ValueError) as exc:
            return self._discard("PARAM", f"Dbc header: {exc}")
        if first is None and number < PANEL_LINES:
            self._awaiting_count = True  # five-field form: that was first_line
            return None
        if number > MAX_PAYLOAD_BYTES:
            return self._discard(
                "PARAM", f"Dbc declares {number} bytes, at most {MAX_PAYLOAD_BYTES}"
            )
        if first is None:
            params: tuple[str, ...] = (panel, str(levels), str(number))
        else:
            params = (panel, str(levels), str(first), str(number))
        self._awaiting_count = False
        self._begin_payload("Dbc", params, number)
        return None

    def _begin_payload(self, name: str, params: tuple[str, ...], size: int) -> None:
        self._download = (name, params)
        self._chunks = []
        self._remaining = size
        self._state = _State.PAYLOAD if size else _State.AFTER_PAYLOAD

    def _discard(self, error: str, detail: str) -> Frame:
        name = bytes(self._header).split(b";", 1)[0].decode("ascii", "replace")
        self._header.clear()
        self._awaiting_count = False
        self._state = _State.DISCARD
        return Frame(name, error=error, detail=detail)

    def _finish_header(self) -> Frame:
        fields = bytes(self._header).split(b";")
        self._header.clear()
        self._awaiting_count = False
        try:
            name = fields[0].decode("ascii")
            params = tuple(field.decode("ascii") for field in fields[1:])
        except UnicodeDecodeError:
            return Frame("", error="CMD", detail="command is not ASCII")
        if not name.isalnum():
            return Frame(name, params, error="CMD", detail=f"{name!r} is not a command name")
        return Frame(name, params)
