"""Host-side helpers for the simulator tests: command bytes, panel encoders, reply reading.

Written here from the protocol page, not taken from the driver, so the tests check the
simulator against the page rather than against another piece of our code.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from tests.conftest import CAPTURES  # noqa: F401  (the tests import it from here)

# Share of K dots set per capture, from the captures' README (percent).
CAPTURE_SHARES = {
    "card-black": 99.7,
    "card-black-fit": 99.3,
    "card-gradient": 62.7,
    "card-gradient-fit": 62.6,
    "evolis-card-text": 12.9,
    "evolis-card-curves": 12.8,
    "card-white": 0.6,
    "card-white-fit": 0.9,
}
LINES, DOTS = 1016, 648


def ko_bitmap(panel: bytes) -> npt.NDArray[np.bool_]:
    """A decoded K/O panel (81 bytes a line, 1 bit per dot) as a 1016 x 648 bool array."""
    assert len(panel) == LINES * DOTS // 8
    rows = np.frombuffer(panel, dtype=np.uint8).reshape(LINES, DOTS // 8)
    return np.unpackbits(rows, axis=1).astype(np.bool_)


def ymc_levels(panel: bytes) -> npt.NDArray[np.uint8]:
    """A decoded Y/M/C panel (one level byte per dot) as a 1016 x 648 array."""
    assert len(panel) == LINES * DOTS
    return np.frombuffer(panel, dtype=np.uint8).reshape(LINES, DOTS)


def esc(command: str) -> bytes:
    return b"\x1b" + command.encode("ascii") + b"\r"


def ko_raw(bitmap: npt.NDArray[np.bool_]) -> bytes:
    return np.packbits(bitmap.astype(np.uint8), axis=1).tobytes()


def ko_compress(bitmap: npt.NDArray[np.bool_]) -> bytes:
    out = bytearray()
    for row in np.packbits(bitmap.astype(np.uint8), axis=1):
        if not row.any():
            out.append(0)
        elif row.all() and (row == 0xFF).all():
            out.append(0xFF)
        else:
            used = int(np.flatnonzero(row)[-1]) + 1
            out.append(used)
            out += row[:used].tobytes()
    return bytes(out)


def ymc_raw(levels: npt.NDArray[np.uint8], bits: int = 5) -> bytes:
    unpacked = (levels.reshape(-1, 1) >> np.arange(bits - 1, -1, -1)) & 1
    return np.packbits(unpacked.astype(np.uint8).reshape(-1)).tobytes()


def ymc_compress(levels: npt.NDArray[np.uint8], bits: int = 5) -> bytes:
    """Per line: white line = 0x80 0x00; runs of 2..255 = 0x80|value, count; single = value."""
    out = bytearray()
    for row in levels:
        if not row.any():
            out += b"\x80\x00"
            continue
        col = 0
        while col < DOTS:
            value = int(row[col])
            run = 1
            while col + run < DOTS and row[col + run] == value and run < 255:
                run += 1
            if run == 1:
                out.append(value)
            else:
                out += bytes([0x80 | value, run])
            col += run
    return bytes(out)


def dbc(panel: str, payload: bytes, levels: int = 2) -> bytes:
    return f"\x1bDbc;{panel};{levels};{len(payload)};".encode() + payload + b"\r"


def db(panel: str, payload: bytes, levels: int = 2) -> bytes:
    return f"\x1bDb;{panel};{levels};".encode() + payload + b"\r"


def random_k(seed: int, share: float = 0.3) -> npt.NDArray[np.bool_]:
    return np.random.default_rng(seed).random((LINES, DOTS)) < share


def card(front: list[bytes], back: list[bytes] | None = None, ribbon: str = "ymcko") -> bytes:
    """A job for one card: Pr, Pmi, Ss, Sr + front downloads, [Sv + back downloads], Se."""
    parts = [esc(f"Pr;{ribbon}"), esc("Pmi;F;s"), esc("Ss"), esc("Sr"), *front]
    if back is not None:
        parts += [esc("Sv"), *back]
    parts.append(esc("Se"))
    return b"".join(parts)


def chunks(data: bytes, rng: np.random.Generator, largest: int = 4096) -> list[bytes]:
    out = []
    i = 0
    while i < len(data):
        size = int(rng.integers(1, largest + 1))
        out.append(data[i : i + size])
        i += size
    return out


def read_replies(read, count: int, timeout: float = 5.0) -> list[str]:
    """Read until ``count`` CR-ended replies arrived; ``read(n, timeout) -> bytes``."""
    buffer = b""
    deadline = time.monotonic() + timeout
    while buffer.count(b"\r") < count:
        left = deadline - time.monotonic()
        if left <= 0:
            got = buffer.count(b"\r")
            raise AssertionError(f"only {got} of {count} replies: {buffer!r}")
        buffer += read(4096, min(left, 0.2))
    parts = buffer.split(b"\r")
    assert parts[count:] == [b""], f"more bytes than {count} replies: {buffer!r}"
    return [part.decode("ascii") for part in parts[:count]]
