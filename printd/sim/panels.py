"""Panel bitmaps as the simulated printer receives them (docs/evolis-protocol.md, "Framing").

A panel is 648 dots x 1016 lines at 300 dpi. K and O panels carry 1 bit per dot (2 levels);
Y, M and C carry 5, 6 or 7 bits per dot (32, 64 or 128 levels), bit-packed, MSB first. The
decoders return compact bytes in line order, dot 0 first: K/O as the printer stores them, 81
bytes a line with one bit per dot (MSB first, set = dot); Y/M/C with one byte per dot holding
its level. Every decoder either yields exactly one full panel or raises ``PanelError`` saying
what is wrong, so a stream the printer would refuse is refused here too.
"""

from __future__ import annotations

from typing import Final, TypeAlias

from PIL import Image, ImageChops

PANEL_DOTS: Final = 648
PANEL_LINES: Final = 1016
KO_LINE_BYTES: Final = PANEL_DOTS // 8  # 81
KO_PANELS: Final = frozenset({"k", "o"})
YMC_PANELS: Final = frozenset({"y", "m", "c"})
# Colour depth: levels -> bits per dot (guide: 32, 64, 128 levels = 5, 6, 7 bits).
YMC_BITS: Final = {32: 5, 64: 6, 128: 7}
_BLACK_LINE: Final = b"\xff" * KO_LINE_BYTES

Panel: TypeAlias = bytes  # K/O: 81 bytes a line, 1 bit per dot; Y/M/C: 648 levels a line


class PanelError(ValueError):
    """A panel payload that does not decode to exactly one 648 x 1016 panel."""


def raw_size(panel: str, levels: int) -> int:
    """Bytes of an uncompressed ``Db`` payload for ``panel`` at ``levels``.

    Raises ``PanelError`` for a panel/levels pair the printer does not take.
    """
    if panel in KO_PANELS:
        if levels != 2:
            raise PanelError(f"panel {panel!r} takes 2 levels, not {levels}")
        return PANEL_DOTS * PANEL_LINES // 8  # 82,296
    if panel in YMC_PANELS:
        bits = YMC_BITS.get(levels)
        if bits is None:
            raise PanelError(f"panel {panel!r} takes 32, 64 or 128 levels, not {levels}")
        return PANEL_DOTS * PANEL_LINES * bits // 8  # 411,480 at 32 levels
    raise PanelError(f"unknown panel {panel!r}: expected one of y, m, c, k, o")


def decode_raw(panel: str, levels: int, data: bytes) -> Panel:
    """Decode an uncompressed ``Db`` payload."""
    expected = raw_size(panel, levels)
    if len(data) != expected:
        raise PanelError(
            f"Db;{panel};{levels} carries {len(data)} bytes, a full panel is {expected}"
        )
    if panel in KO_PANELS:
        return bytes(data)
    return _unpack_levels(data, YMC_BITS[levels])


def _unpack_levels(data: bytes, bits: int) -> bytes:
    """``bits``-bit levels packed MSB first → one byte per level.

    ``bits`` bytes hold 8 levels. Each level is put together from the one or two bytes its
    bits fall in: a table lookup per byte moves those bits into place, and the parts, which
    hold disjoint bits, are added. Byte j of every group is read with one step slice.
    """
    groups = len(data) // bits
    group_bytes = [Image.frombytes("L", (groups, 1), data[j::bits]) for j in range(bits)]
    out = bytearray(8 * groups)
    for level in range(8):
        parts = [
            group_bytes[j].point(_level_bits_table(bits, level, j))
            for j in range(bits)
            if _holds_bits_of(bits, level, j)
        ]
        total = parts[0]
        for part in parts[1:]:
            total = ImageChops.add_modulo(total, part)
        out[level::8] = total.tobytes()
    return bytes(out)


def _holds_bits_of(bits: int, level: int, byte: int) -> bool:
    return bits * level < 8 * byte + 8 and bits * level + bits > 8 * byte


def _level_bits_table(bits: int, level: int, byte: int) -> list[int]:
    # The byte placed in its group of 8 * bits bits, MSB first, and the level's bits read out.
    group_bits = 8 * bits
    return [
        ((value << group_bits - 8 - 8 * byte) >> group_bits - bits - bits * level)
        & ((1 << bits) - 1)
        for value in range(256)
    ]


def decode_compressed(panel: str, levels: int, data: bytes, first_line: int = 0) -> Panel:
    """Decode a ``Dbc`` payload; lines before ``first_line`` are white."""
    raw_size(panel, levels)  # validates panel and levels
    if not 0 <= first_line < PANEL_LINES:
        raise PanelError(f"first line {first_line} is outside 0..{PANEL_LINES - 1}")
    lines = PANEL_LINES - first_line
    if panel in KO_PANELS:
        return bytes(first_line * KO_LINE_BYTES) + decode_ko_lines(data, lines)
    return bytes(first_line * PANEL_DOTS) + decode_ymc_lines(data, levels, lines)


def decode_ko_lines(data: bytes, lines: int = PANEL_LINES) -> Panel:
    """K/O line compression: lead 0x00 white line, 0xFF black line, N in 1..81 = N bytes follow.

    The payload must be consumed exactly and yield exactly ``lines`` lines.
    """
    packed = bytearray(lines * KO_LINE_BYTES)
    pos = 0
    size = len(data)
    for line in range(lines):
        if pos >= size:
            raise PanelError(f"K/O data ends after {line} of {lines} lines")
        lead = data[pos]
        pos += 1
        start = line * KO_LINE_BYTES
        if lead == 0xFF:
            packed[start : start + KO_LINE_BYTES] = _BLACK_LINE
        elif lead == 0:
            continue
        elif lead <= KO_LINE_BYTES:
            if pos + lead > size:
                raise PanelError(f"K/O line {line} declares {lead} bytes, only {size - pos} left")
            packed[start : start + lead] = data[pos : pos + lead]
            pos += lead
        else:
            raise PanelError(f"K/O line {line} has lead byte {lead}: expected 0, 1..81 or 255")
    if pos != size:
        raise PanelError(f"K/O data has {size - pos} bytes left over after {lines} lines")
    return bytes(packed)


def decode_ymc_lines(data: bytes, levels: int, lines: int = PANEL_LINES) -> Panel:
    """Y/M/C run-length rule, as we read the guide (assumption A9).

    Per byte: MSB clear = one dot whose level is the low 5/6/7 bits. MSB set = a run: the low
    5/6/7 bits are the level and the next byte the repeat count; at 5 bits, bits 6 and 5 each
    add 256 to the count, at 6 bits bit 6 adds 256. A run of count 0 ends the line with white
    (a whole white line when it starts one). A line ends when its 648 dots are written; a run
    may not cross a line end. The payload must be consumed exactly.
    """
    width = YMC_BITS[levels]
    value_mask = (1 << width) - 1
    extension_bits = [bit for bit in (0x40, 0x20) if bit > value_mask]
    out = bytearray(lines * PANEL_DOTS)
    pos = 0
    size = len(data)
    line = 0
    col = 0
    while line < lines:
        if pos >= size:
            raise PanelError(f"Y/M/C data ends in line {line} of {lines}")
        lead = data[pos]
        pos += 1
        value = lead & value_mask
        if lead & 0x80:
            if pos >= size:
                raise PanelError(f"Y/M/C run in line {line} has no count byte")
            count = data[pos] + 256 * sum(1 for bit in extension_bits if lead & bit)
            pos += 1
            if count == 0:
                line, col = line + 1, 0
                continue
            if col + count > PANEL_DOTS:
                raise PanelError(f"Y/M/C run of {count} crosses the end of line {line}")
            start = line * PANEL_DOTS + col
            out[start : start + count] = bytes((value,)) * count
            col += count
        else:
            out[line * PANEL_DOTS + col] = value
            col += 1
        if col == PANEL_DOTS:
            line, col = line + 1, 0
    if pos != size:
        raise PanelError(f"Y/M/C data has {size - pos} bytes left over after {lines} lines")
    return bytes(out)


def dot_share(panel: str, bitmap: Panel) -> float:
    """The share of a decoded panel's dots that carry ink (any level above 0 for Y/M/C)."""
    if panel in KO_PANELS:
        return int.from_bytes(bitmap, "big").bit_count() / (len(bitmap) * 8)
    return (len(bitmap) - bitmap.count(0)) / len(bitmap)
