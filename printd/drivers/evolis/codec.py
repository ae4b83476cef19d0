"""The Evolis command set as a pure, table-driven codec (no I/O).

One table, `COMMANDS`, drives both directions: encoding checks a command's parameters against
its row, and decoding parses a reply by the row's reply kind. Facts and choices are those of
`docs/evolis-protocol.md`; the assumptions that doc numbers live here, each in one place:

- A1 reply framing: a reply ends at CR or NUL (`split_reply`); empty replies are skipped.
- A2 success reply: rows of kind `OK` expect the literal `OK`; any other command answers a word
  of `VOCABULARY` when it refuses (an unknown command: `ERROR CDE`, S1 S9).
- A3 status from sensors: the `Rse` row (`N,NN Volts`); no status command is sent (`Rst` is in
  no source).
- A4 / A5 when a blank moves and when a card is done: an error word at `Ss` is a refusal and
  no blank moved; the driver reads `Se` as the card's fate.
- A6 error words: `VOCABULARY`, each word mapped to DESIGN's fault taxonomy (`Fault`).
- A7 ribbon accounting: the `Rco` row (decimal integer, `-1` unknown) and `Rr` (`NO RIBBON`).
- A8 device id: parsed in `printd.drivers.usbprinter` (big-endian length, CUPS fallback).
- A9 Y/M/C compression: `compress_colour_panel` / `decompress_colour_panel` (layout below).
- A10 serial framing: nothing here; the same bytes flow over every transport.

A9, the Y/M/C run-length layout we chose from the guide's description (unverified: the
captures hold only K panels, so the driver sends Y/M/C uncompressed with `Db` by default):
  each of the 1016 lines of 648 dots is encoded on its own, a token never crosses a line;
  `0b000vvvvv` is one dot of value v (0..31);
  `0b1ABvvvvv, N` repeats v for N + 256·A + 256·B dots (the guide's "bits 6 and 5 of the first
  byte increase the counter", so 1..767), used for runs of two dots or more;
  `0x80, 0x00` (a run of length 0) means "the rest of this line is blank": a line that ends in
  zeros always ends with it, and an all-blank line is exactly `80 00`.
Dot values are ink amounts: 0 = no dye, 31 = full dye.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final, NewType

from PIL import Image, ImageChops

from printd.drivers.status import Condition
from printd.errors import ProtocolError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

ESC: Final = 0x1B
CR: Final = 0x0D
NUL: Final = 0x00

PANEL_DOTS: Final = 648  # dots across the head
PANEL_LINES: Final = 1016  # lines along the card
LINE_BYTES_1BIT: Final = PANEL_DOTS // 8  # 81
PANELS: Final = frozenset({"y", "m", "c", "k", "o"})
MONO_PANELS: Final = frozenset({"k", "o"})
COLOUR_PANELS: Final = frozenset({"y", "m", "c"})
BITS_PER_LEVEL: Final = {2: 1, 32: 5, 64: 6, 128: 7}
COLOUR_MAX: Final = 31  # 32 levels
MAX_REPLY_BYTES: Final = 256  # no reply in the table is longer; more means a lost terminator


def panel_bytes(levels: int) -> int:
    """Uncompressed `Db` payload size: 648 x 1016 dots, bit-packed."""
    return PANEL_DOTS * PANEL_LINES * BITS_PER_LEVEL[levels] // 8


class ReplyKind(StrEnum):
    OK = "ok"  # the literal OK (A2)
    TEXT = "text"  # free ASCII text (model, serial, firmware)
    RIBBON = "ribbon"  # a ribbon code, or NO RIBBON (A7)
    INT = "int"  # a decimal integer, -1 = unknown (A7)
    VOLTS = "volts"  # "5,00 Volts"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    params: tuple[str, ...]  # parameter names, in wire order
    optional: int  # how many trailing params may be left out
    reply: ReplyKind
    meaning: str


def _spec(name: str, params: str, reply: ReplyKind, meaning: str, optional: int = 0) -> CommandSpec:
    return CommandSpec(name, tuple(params.split()) if params else (), optional, reply, meaning)


# The command table: every command printd sends, with the reply it expects.
# Db / Dbc carry binary payloads and are built by `encode_download`, not `encode_command`.
COMMANDS: Final[Mapping[str, CommandSpec]] = {
    s.name: s
    for s in (
        _spec("Rtp", "", ReplyKind.TEXT, "printer model"),
        _spec("Rsn", "", ReplyKind.TEXT, "printer serial number"),
        _spec("Rfv", "", ReplyKind.TEXT, "firmware version"),
        _spec("Rr", "", ReplyKind.RIBBON, "installed ribbon type (A7)"),
        _spec("Rco", "counter", ReplyKind.INT, "counters: l prints left (A7), c cards, p panels"),
        _spec("Rse", "sensor", ReplyKind.VOLTS, "sensor voltage: f feeder"),
        _spec("Rlr", "what", ReplyKind.TEXT, "last reply / card position (p)"),
        _spec("Pem", "mode", ReplyKind.OK, "error management: 2 host, 0 printer"),
        _spec("Pr", "ribbon", ReplyKind.OK, "ribbon type for the next job"),
        _spec("Pmi", "source option", ReplyKind.OK, "card insertion: F feeder (older)", 1),
        _spec("Pcim", "source", ReplyKind.OK, "card insertion: F feeder (SDK era, S7 S10)"),
        _spec("Pc", "panel op value", ReplyKind.OK, "contrast"),
        _spec("Srs", "", ReplyKind.OK, "software reset: like a restart (G)"),
        _spec("Ser", "", ReplyKind.OK, "eject the card inside to the reject box (S7)"),
        _spec("Ss", "", ReplyKind.OK, "start sequence: feeds a blank (A4)"),
        _spec("Sr", "", ReplyKind.OK, "select the front side"),
        _spec("Sv", "", ReplyKind.OK, "select the back side"),
        _spec("Se", "option", ReplyKind.OK, "end sequence: answers when the card left (A5)", 1),
        _spec("Db", "panel levels", ReplyKind.OK, "download a panel"),
        _spec("Dbc", "panel levels nb_bytes", ReplyKind.OK, "download a compressed panel"),
    )
}

_PARAM_RE = re.compile(rb"[\x20-\x3a\x3c-\x7e]*")  # printable ASCII without ';'


def encode_command(name: str, *params: str | int) -> bytes:
    """Frame one command of the table: ESC + name + ;params + CR."""
    spec = COMMANDS.get(name)
    if spec is None or name in ("Db", "Dbc"):
        raise ValueError(f"not an encodable Evolis command: {name!r}")
    wanted = len(spec.params)
    if not wanted - spec.optional <= len(params) <= wanted:
        raise ValueError(
            f"{name} takes {wanted - spec.optional}..{wanted} parameters "
            f"({', '.join(spec.params) or 'none'}), got {len(params)}"
        )
    fields = [name.encode("ascii")]
    for value in params:
        raw = str(value).encode("ascii")
        if not _PARAM_RE.fullmatch(raw):
            raise ValueError(f"{name} parameter {value!r} contains ';' or a control byte")
        fields.append(raw)
    return bytes([ESC]) + b";".join(fields) + bytes([CR])


def encode_download(panel: str, levels: int, data: bytes, *, compressed: bool) -> bytes:
    """`Db;panel;levels;data` or `Dbc;panel;levels;nb_bytes;data` (the vendor's four-field form).

    `data` is already packed (`pack_*`) or compressed (`compress_*`); the codec checks that an
    uncompressed payload has the exact size the printer will count.
    """
    if panel not in PANELS:
        raise ValueError(f"panel must be one of y m c k o, got {panel!r}")
    if levels not in BITS_PER_LEVEL:
        raise ValueError(f"levels must be 2, 32, 64 or 128, got {levels}")
    if (panel in MONO_PANELS) != (levels == 2):
        raise ValueError(f"panel {panel} is not sent at {levels} levels")
    if compressed:
        head = f"Dbc;{panel};{levels};{len(data)};".encode("ascii")
    else:
        if len(data) != panel_bytes(levels):
            raise ValueError(
                f"Db;{panel};{levels} needs {panel_bytes(levels)} bytes, got {len(data)}"
            )
        head = f"Db;{panel};{levels};".encode("ascii")
    return b"".join((bytes([ESC]), head, data, bytes([CR])))  # one copy of a large payload


# ---------------------------------------------------------------------------------------------
# Replies


class Fault(StrEnum):
    """DESIGN's fault taxonomy: what a refusal or error word means for the job and the printer."""

    TRANSIENT = "transient"  # wait and try again; nobody has to act
    NEEDS_OPERATOR = "needs_operator"  # a person must act at the printer
    JOB_FAULT = "job_fault"  # this job cannot print as sent
    CARD_SPOILED = "card_spoiled"  # the card went to the reject box
    OUTCOME_UNKNOWN = "outcome_unknown"  # a word no source explains


@dataclass(frozen=True, slots=True)
class Word:
    """One error word a printer may answer, what it means, and where it is documented."""

    fault: Fault
    condition: Condition | None
    source: str  # the research note's source ids (docs/evolis-protocol.md, "Error words")


def _word(fault: Fault, condition: Condition | None, source: str) -> Word:
    return Word(fault, condition, source)


_OPERATOR = Fault.NEEDS_OPERATOR
_SERVICE = Condition.SERVICE_REQUESTED

# Every error word of the sources, exactly as the printer sends it (docs/evolis-protocol.md,
# "Error words"). Words with neither the `ERR` nor the `ERROR` prefix are the older firmware's
# bare vocabulary (S9); `ERR …` words without a source letter are the ones this project's
# simulator has always answered (A6), kept so both vocabularies are understood.
VOCABULARY: Final[Mapping[str, Word]] = {
    "ERROR CDE": _word(_OPERATOR, _SERVICE, "S1 S9: the firmware does not know the command"),
    "ERROR PARAMETRES": _word(Fault.JOB_FAULT, None, "S9: a parameter is refused"),
    "ERROR": _word(_OPERATOR, _SERVICE, "S9: generic error"),
    "ERROR TIME OUT": _word(Fault.TRANSIENT, None, "S9"),
    "ERROR HOPPER": _word(_OPERATOR, Condition.HOPPER_EMPTY, "S9: feeder error"),
    "HOPPER FULL": _word(_OPERATOR, _SERVICE, "S9: output hopper full"),
    "ERR HOPPER FULL": _word(_OPERATOR, _SERVICE, "S1 ERR_HOPPER_FULL: output hopper full"),
    "HOPPER DOOR": _word(_OPERATOR, Condition.COVER_OPEN, "S9: feeder door open"),
    "ERROR HEAD": _word(_OPERATOR, _SERVICE, "S9: print head fault"),
    "ERR HEAD TEMP": _word(Fault.TRANSIENT, None, "S1 ERR_HEAD_TEMP: head cooling"),
    "COVER OPEN": _word(_OPERATOR, Condition.COVER_OPEN, "S9"),
    "ERR COVER OPEN": _word(_OPERATOR, Condition.COVER_OPEN, "S1 ERR_COVER_OPEN"),
    "FEEDER EMPTY": _word(_OPERATOR, Condition.HOPPER_EMPTY, "S9"),
    "ERR FEEDER EMPTY": _word(_OPERATOR, Condition.HOPPER_EMPTY, "S1 ERR_FEEDER_EMPTY"),
    "ERR FEEDER ERROR": _word(_OPERATOR, Condition.HOPPER_EMPTY, "S1 ERR_FEEDER_ERROR"),
    "CARD JAM": _word(_OPERATOR, Condition.JAM, "S9"),
    "ERR MECHANICAL": _word(_OPERATOR, Condition.JAM, "S1 ERR_MECHANICAL"),
    "ERROR RIBBON": _word(_OPERATOR, Condition.RIBBON_MISSING, "S9: ribbon error"),
    "ERR RIB DETECTION": _word(_OPERATOR, Condition.RIBBON_MISSING, "S7: ribbon not read"),
    "ERR BAD RIBBON": _word(_OPERATOR, Condition.RIBBON_WRONG, "S1 ERR_BAD_RIBBON"),
    "ERR NO RIBBON": _word(_OPERATOR, Condition.RIBBON_MISSING, "A6"),
    "ERR RIBBON ENDED": _word(_OPERATOR, Condition.RIBBON_OUT, "S1 ERR_RIBBON_ENDED"),
    "ERR UNSUPPORTED RIBBON": _word(_OPERATOR, Condition.RIBBON_WRONG, "A6"),
    "ERR REJECT BOX FULL": _word(_OPERATOR, Condition.REJECT_BOX_FULL, "S1"),
    "NEED CLEANING": _word(_OPERATOR, _SERVICE, "S9: cleaning mandatory"),
    "ERR NEED CLEANING": _word(_OPERATOR, _SERVICE, "G Rlr;r: cleaning mandatory"),
    "OPT NOT AVAILABLE": _word(Fault.JOB_FAULT, None, "S9: option not fitted"),
    "ERROR UNKNOW": _word(Fault.OUTCOME_UNKNOWN, _SERVICE, "S9"),
    "ERR CARD": _word(Fault.OUTCOME_UNKNOWN, None, "G: card position error"),
    "ERR REJECTED": _word(Fault.CARD_SPOILED, None, "A6: card printed and rejected"),
    "ERR CMD": _word(_OPERATOR, _SERVICE, "A2: command not known"),
    "ERR PARAM": _word(Fault.JOB_FAULT, None, "A2: parameter refused"),
    "ERR NO SEQUENCE": _word(Fault.OUTCOME_UNKNOWN, None, "A6: no sequence started"),
}
# A word that starts like an error but is in no source: the printer refused, reason unknown.
UNKNOWN_WORD: Final = Word(Fault.OUTCOME_UNKNOWN, _SERVICE, "none")
_ERROR_PREFIX: Final = re.compile(r"ERR(OR)?( |$)")


@dataclass(frozen=True, slots=True)
class Ok:
    pass


@dataclass(frozen=True, slots=True)
class Text:
    value: str


@dataclass(frozen=True, slots=True)
class Ribbon:
    code: str | None  # lower-case ribbon code; None = no ribbon installed


@dataclass(frozen=True, slots=True)
class Number:
    value: int | None  # None = the printer does not know (-1)


@dataclass(frozen=True, slots=True)
class Volts:
    value: float


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """A refusal or error, in the printer's own words."""

    words: str

    @property
    def meaning(self) -> Word:
        return VOCABULARY.get(self.words, UNKNOWN_WORD)

    @property
    def fault(self) -> Fault:
        return self.meaning.fault

    @property
    def condition(self) -> Condition | None:
        return self.meaning.condition

    def __str__(self) -> str:
        return self.words


def error_reply(text: str) -> ErrorReply | None:
    """The reply as an error, when it is a word of `VOCABULARY` or starts like one."""
    if text in VOCABULARY or _ERROR_PREFIX.match(text):
        return ErrorReply(text[:64])
    return None


Reply = Ok | Text | Ribbon | Number | Volts | ErrorReply

_TEXT_RE = re.compile(r"[\x20-\x7e]{1,128}")
_RIBBON_RE = re.compile(r"[A-Za-z]{1,10}")
_INT_RE = re.compile(r"-1|0|[1-9][0-9]{0,8}")
_VOLTS_RE = re.compile(r"([0-9]{1,2})[,.]([0-9]{1,3}) Volts")


def decode_reply(command: str, raw: bytes) -> Reply:
    """Decode one reply (terminator already removed) by the command's table row.

    Anything that does not fit the row raises `ProtocolError`, and nothing else does.
    """
    spec = COMMANDS.get(command)
    if spec is None:
        raise ValueError(f"no reply rule for command {command!r}")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError(f"{command}: reply is not ASCII: {raw[:32]!r}") from None
    if (refused := error_reply(text)) is not None:
        return refused
    match spec.reply:
        case ReplyKind.OK:
            if text != "OK":
                raise ProtocolError(f"{command}: expected OK, got {text[:64]!r}")
            return Ok()
        case ReplyKind.TEXT:
            if not _TEXT_RE.fullmatch(text):
                raise ProtocolError(f"{command}: expected printable text, got {text[:64]!r}")
            return Text(text)
        case ReplyKind.RIBBON:
            if text == "NO RIBBON":
                return Ribbon(None)
            if not _RIBBON_RE.fullmatch(text):
                raise ProtocolError(f"{command}: expected a ribbon code, got {text[:64]!r}")
            return Ribbon(text.lower())
        case ReplyKind.INT:
            if not _INT_RE.fullmatch(text):
                raise ProtocolError(f"{command}: expected an integer, got {text[:64]!r}")
            number = int(text)
            return Number(None if number < 0 else number)
        case ReplyKind.VOLTS:
            found = _VOLTS_RE.fullmatch(text)
            if found is None:
                raise ProtocolError(f"{command}: expected 'N,NN Volts', got {text[:64]!r}")
            return Volts(float(f"{found[1]}.{found[2]}"))
    raise AssertionError(spec.reply)  # pragma: no cover - the match is exhaustive


def split_reply(buffer: bytearray) -> bytes | None:
    """Take one complete reply off the front of `buffer` (A1), or None when none is complete.

    A reply ends at CR or NUL; terminators with nothing before them (a NUL after a CR, padding)
    are dropped, so `OK\\r\\0` is one reply.
    """
    while True:
        ends = [i for i in (buffer.find(CR), buffer.find(NUL)) if i >= 0]
        if not ends:
            if len(buffer) > MAX_REPLY_BYTES:
                raise ProtocolError(f"reply longer than {MAX_REPLY_BYTES} bytes without a CR")
            return None
        end = min(ends)
        reply = bytes(buffer[:end])
        del buffer[: end + 1]
        if reply:
            return reply


# ---------------------------------------------------------------------------------------------
# Panels: packing and compression, with Pillow's C loops
#
# A panel's line x is column x of the card image read from the bottom (see `raster`), so in the
# card image the 8 dots of every 8-dot group of every line lie in 8 consecutive rows. The
# packers take those rows apart (one image per dot position k of the groups), combine them into
# the packed bytes of every group, and only then turn the result into printer order, line after
# line: one transpose of the packed bytes instead of one of every image.

DotPanel = NewType("DotPanel", bytes)
"""K/O dots: 1016 lines of 81 bytes, one bit per dot, MSB = dot 0, 1 = ink (the `Db` payload)."""

CARD_SIZE: Final = (PANEL_LINES, PANEL_DOTS)  # a panel as the card image holds it: 1016 x 648
LEVEL_PANEL_BYTES: Final = PANEL_DOTS * PANEL_LINES  # 658,368
DOT_PANEL_BYTES: Final = LINE_BYTES_1BIT * PANEL_LINES  # 82,296
_GROUPS: Final = PANEL_DOTS // 8  # 8-dot groups in a line: 81
_ALL_DOTS: Final = b"\xff" * DOT_PANEL_BYTES
_BLACK_LINE: Final = b"\xff" * LINE_BYTES_1BIT
_LEAD_BYTES: Final = tuple(bytes((count,)) for count in range(LINE_BYTES_1BIT + 1))
_LEVELS: Final = bytes(range(COLOUR_MAX + 1))
_GROUP_BYTES: Final = 5  # 8 dots of 5 bits


@dataclass(frozen=True, slots=True)
class LevelPanel:
    """Y, M or C: a dye level (0..31) for each of 1016 lines x 648 dots.

    Held as the card image's band it was made from (`card`: mode L, 1016 wide x 648 high;
    line x is column x read from the bottom), which is the form the raster makes and the
    packers read. `lines()` and `from_lines()` convert to and from printer order: line after
    line, dot 0 first, one byte per dot.
    """

    card: Image.Image

    def __post_init__(self) -> None:
        if self.card.mode != "L" or self.card.size != CARD_SIZE:
            raise ValueError(
                f"a level panel is an L image of {CARD_SIZE[0]}x{CARD_SIZE[1]},"
                f" got {self.card.mode} {self.card.size[0]}x{self.card.size[1]}"
            )

    @classmethod
    def from_lines(cls, levels: bytes) -> LevelPanel:
        _check_size(levels, LEVEL_PANEL_BYTES)
        lines = Image.frombytes("L", (PANEL_DOTS, PANEL_LINES), levels)
        return cls(lines.transpose(Image.Transpose.ROTATE_90))

    def lines(self) -> bytes:
        return self.card.transpose(Image.Transpose.ROTATE_270).tobytes()


def _five_bit_shift(dot: int, byte: int) -> int | None:
    """How far dot `dot`'s 5 bits move left (negative: right) to land in byte `byte` of its
    group's 40 bits, MSB first; None when none of its bits are in that byte."""
    first_bit = 5 * dot
    if first_bit >= 8 * byte + 8 or first_bit + 5 <= 8 * byte:
        return None
    return 8 * byte + 3 - first_bit


# Byte j of a group is the sum (an OR: the bit fields never overlap) of these shifted dots.
_FIVE_BIT_TERMS: Final = tuple(
    tuple((dot, shift) for dot in range(8) if (shift := _five_bit_shift(dot, byte)) is not None)
    for byte in range(_GROUP_BYTES)
)
_RIGHT_SHIFTS: Final = {s: [v >> s for v in range(256)] for s in range(1, 8)}
# Dot k of a group from byte j: that byte placed in the group's 40 bits, the dot's 5 read out.
_UNPACK_TABLES: Final = {
    (dot, byte): [((value << 32 - 8 * byte) >> 35 - 5 * dot) & COLOUR_MAX for value in range(256)]
    for byte, terms in enumerate(_FIVE_BIT_TERMS)
    for dot, _ in terms
}


def pack_mono_panel(dots: DotPanel) -> bytes:
    """1 bit per dot, MSB = leftmost dot, 1 = ink: the 82,296-byte `Db;k|o;2` payload.

    A `DotPanel` already is that payload; this checks its size.
    """
    _check_size(dots, DOT_PANEL_BYTES)
    return bytes(dots)


def unpack_mono_panel(data: bytes) -> DotPanel:
    if len(data) != panel_bytes(2):
        raise ProtocolError(f"a 2-level panel is {panel_bytes(2)} bytes, got {len(data)}")
    return DotPanel(bytes(data))


def pack_dot_mask(mask: Image.Image) -> DotPanel:
    """A card-sized L mask (255 = dot, 0 = none, as the raster makes them) → packed dots.

    Horner's rule over the 8 dot positions of a group, a doubling and an add per position;
    with dots as 255 (that is -1 modulo 256) it adds up to minus the packed byte, so the
    last step negates.
    """
    _check_card(mask)
    dots = _dot_positions(mask)
    total = dots[0]
    for position in dots[1:]:
        total = ImageChops.add_modulo(ImageChops.add_modulo(total, total), position)
    none = Image.new("L", total.size)
    return DotPanel(_printer_lines([ImageChops.subtract_modulo(none, total)]))


def pack_colour_panel(levels: LevelPanel) -> bytes:
    """5 bits per dot, bit-packed MSB first: the 411,480-byte `Db;y|m|c;32` payload.

    Per output byte, the dots that have bits in it are shifted into place and added. Left
    shifts are doublings (`add_modulo` drops the bits carried out of the byte, and is Pillow's
    cheapest operation); right shifts are table lookups.
    """
    dots = _dot_positions(levels.card)
    return _printer_lines(
        [
            _sum_fields([_shifted(dots[dot], shift) for dot, shift in terms])
            for terms in _FIVE_BIT_TERMS
        ]
    )


def unpack_colour_panel(data: bytes) -> LevelPanel:
    if len(data) != panel_bytes(32):
        raise ProtocolError(f"a 32-level panel is {panel_bytes(32)} bytes, got {len(data)}")
    grid = (LEVEL_PANEL_BYTES // 8 // _GROUPS, _GROUPS)  # any shape of 82,296 groups
    group_bytes = [
        Image.frombytes("L", grid, data[byte::_GROUP_BYTES]) for byte in range(_GROUP_BYTES)
    ]
    levels = bytearray(LEVEL_PANEL_BYTES)
    for dot in range(8):
        parts = [
            group_bytes[byte].point(table)
            for byte in range(_GROUP_BYTES)
            if (table := _UNPACK_TABLES.get((dot, byte))) is not None
        ]
        levels[dot::8] = _sum_fields(parts).tobytes()
    return LevelPanel.from_lines(bytes(levels))


def _dot_positions(card: Image.Image) -> list[Image.Image]:
    """Dot k (0..7) of every group of every line: 8 images, row r holding group 80 - r.

    Dot d of line x is card row 647 - d, so dot k of all groups is rows 7 - k, 15 - k, ...
    Read as one image 8 card rows wide (over the same bytes), each of those rows is one crop.
    """
    width = card.width
    eights = Image.frombuffer("L", (8 * width, _GROUPS), card.tobytes(), "raw", "L", 0, 1)
    return [eights.crop(((7 - k) * width, 0, (8 - k) * width, _GROUPS)) for k in range(8)]


def _printer_lines(group_bytes: list[Image.Image]) -> bytes:
    """Byte j of every group (as `_dot_positions` lays groups out) → the packed panel, line
    after line: each line's groups from group 0, each group's bytes from byte 0.

    Stacked so that card column x, read from the bottom, runs group by group and byte by byte,
    one turn clockwise makes those columns the lines.
    """
    count = len(group_bytes)
    width, rows = group_bytes[0].size
    stacked = Image.new("L", (count * width, rows))
    for byte, image in enumerate(group_bytes):
        stacked.paste(image, ((count - 1 - byte) * width, 0))  # reversed: read from the bottom
    columns = Image.frombuffer("L", (width, count * rows), stacked.tobytes(), "raw", "L", 0, 1)
    return columns.transpose(Image.Transpose.ROTATE_270).tobytes()


def _sum_fields(parts: list[Image.Image]) -> Image.Image:
    # The parts hold disjoint bits, so adding them is an OR.
    total = parts[0]
    for part in parts[1:]:
        total = ImageChops.add_modulo(total, part)
    return total


def _shifted(dots: Image.Image, shift: int) -> Image.Image:
    if shift < 0:
        return dots.point(_RIGHT_SHIFTS[-shift])
    for _ in range(shift):
        dots = ImageChops.add_modulo(dots, dots)
    return dots


def compress_mono_panel(dots: DotPanel) -> bytes:
    """K/O line compression (facts): 0x00 white line, 0xFF black line, N then N bytes."""
    _check_size(dots, DOT_PANEL_BYTES)
    if dots == _ALL_DOTS:  # the varnish panel, every card: one 0xFF per line
        return b"\xff" * PANEL_LINES
    out: list[bytes] = []
    for line in [
        dots[start : start + LINE_BYTES_1BIT] for start in range(0, len(dots), LINE_BYTES_1BIT)
    ]:
        if line == _BLACK_LINE:
            out.append(b"\xff")
        else:
            useful = line.rstrip(b"\0")  # up to the last byte with a dot
            out.append(_LEAD_BYTES[len(useful)])
            out.append(useful)
    return b"".join(out)


def decompress_mono_panel(data: bytes) -> DotPanel:
    """Inverse of `compress_mono_panel`; the payload must make exactly 1016 lines."""
    rows = bytearray(DOT_PANEL_BYTES)
    pos = 0
    for line in range(PANEL_LINES):
        if pos >= len(data):
            raise ProtocolError(f"compressed K/O panel ends after {line} of {PANEL_LINES} lines")
        lead = data[pos]
        pos += 1
        start = line * LINE_BYTES_1BIT
        if lead == 0xFF:
            rows[start : start + LINE_BYTES_1BIT] = _BLACK_LINE
        elif lead > LINE_BYTES_1BIT:
            raise ProtocolError(f"line {line}: lead byte {lead} is not 0, 1..81 or 255")
        elif lead:
            if pos + lead > len(data):
                raise ProtocolError(f"line {line}: {lead} bytes announced, data ends first")
            rows[start : start + lead] = data[pos : pos + lead]
            pos += lead
    if pos != len(data):
        raise ProtocolError(f"{len(data) - pos} bytes left after {PANEL_LINES} lines")
    return DotPanel(bytes(rows))


_RUN: Final = re.compile(rb"([\x00-\x1f])\1+")  # two dots or more of one level


def compress_colour_panel(levels: LevelPanel) -> bytes:
    """Y/M/C run-length compression at 32 levels, layout A9 (module docstring)."""
    dots = levels.lines()
    if dots.translate(None, _LEVELS):  # what is left after deleting 0..31
        raise ValueError("32-level dots must be 0..31")
    out: list[bytes] = []
    for start in range(0, LEVEL_PANEL_BYTES, PANEL_DOTS):
        line = dots[start : start + PANEL_DOTS]
        body = line.rstrip(b"\0")
        out.append(_RUN.sub(_run_token, body))  # a lone dot is its own token
        if len(body) < PANEL_DOTS:
            out.append(b"\x80\x00")  # the rest of the line is blank
    return b"".join(out)


def _run_token(run: re.Match[bytes]) -> bytes:
    level, length = run[1][0], len(run[0])
    extra = min(length >> 8, 2)  # how many of bits 6 and 5 add 256
    return bytes((0x80 | (0, 0x40, 0x60)[extra] | level, length - (extra << 8)))


def decompress_colour_panel(data: bytes) -> LevelPanel:
    """Inverse of `compress_colour_panel` (slow, pure Python: for tests and stream checks)."""
    levels = bytearray(LEVEL_PANEL_BYTES)
    pos = 0
    for line in range(PANEL_LINES):
        dot = 0
        line_start = line * PANEL_DOTS
        while dot < PANEL_DOTS:
            if pos >= len(data):
                raise ProtocolError(f"compressed colour panel ends in line {line}")
            token = data[pos]
            pos += 1
            if not token & 0x80:
                if token > COLOUR_MAX:
                    raise ProtocolError(f"line {line}: dot value {token} is over 31")
                levels[line_start + dot] = token
                dot += 1
                continue
            if pos >= len(data):
                raise ProtocolError(f"line {line}: run without a counter byte")
            count = data[pos] + 256 * (((token >> 6) & 1) + ((token >> 5) & 1))
            pos += 1
            if count == 0:
                break  # the rest of the line is blank
            if dot + count > PANEL_DOTS:
                raise ProtocolError(f"line {line}: run of {count} overflows the line")
            levels[line_start + dot : line_start + dot + count] = bytes((token & 0x1F,)) * count
            dot += count
    if pos != len(data):
        raise ProtocolError(f"{len(data) - pos} bytes left after {PANEL_LINES} lines")
    return LevelPanel.from_lines(bytes(levels))


def _check_size(panel: bytes, expected: int) -> None:
    if len(panel) != expected:
        kind = "level" if expected == LEVEL_PANEL_BYTES else "dot"
        raise ValueError(
            f"a {kind} panel is {expected} bytes ({PANEL_LINES} lines), got {len(panel)}"
        )


def _check_card(mask: Image.Image) -> None:
    if mask.mode != "L" or mask.size != CARD_SIZE:
        raise ValueError(
            f"a dot mask is an L image of {CARD_SIZE[0]}x{CARD_SIZE[1]},"
            f" got {mask.mode} {mask.size[0]}x{mask.size[1]}"
        )


# ---------------------------------------------------------------------------------------------
# Recorded print streams: split into commands (the reader rule of the facts)


@dataclass(frozen=True, slots=True)
class StreamCommand:
    name: str
    params: tuple[str, ...]
    payload: bytes | None = None  # Db/Dbc data

    @property
    def panel(self) -> str:
        return self.params[0]

    @property
    def levels(self) -> int:
        return int(self.params[1])


def split_stream(stream: bytes) -> list[StreamCommand]:
    return list(iter_stream(stream))


def iter_stream(stream: bytes) -> Iterator[StreamCommand]:
    """Split a print stream into commands; NULs between commands are skipped.

    Db reads the implied panel size and Dbc its declared byte count before expecting the CR,
    since payloads contain ESC and CR. Dbc is accepted with four or five fields.
    """
    pos = 0
    size = len(stream)
    while pos < size:
        if stream[pos] == NUL:
            pos += 1
            continue
        if stream[pos] != ESC:
            raise ProtocolError(f"offset {pos}: expected ESC, got 0x{stream[pos]:02x}")
        pos += 1
        if stream.startswith(b"Db;", pos) or stream.startswith(b"Dbc;", pos):
            command, pos = _read_download(stream, pos)
            yield command
            continue
        end = stream.find(bytes([CR]), pos)
        if end < 0:
            raise ProtocolError(f"offset {pos}: command without a CR")
        try:
            fields = stream[pos:end].decode("ascii").split(";")
        except UnicodeDecodeError:
            raise ProtocolError(f"offset {pos}: command is not ASCII") from None
        yield StreamCommand(fields[0], tuple(fields[1:]))
        pos = end + 1


def _field(stream: bytes, pos: int) -> tuple[str, int]:
    end = stream.find(b";", pos, pos + 12)
    if end < 0:
        raise ProtocolError(f"offset {pos}: download header field without ';'")
    return stream[pos:end].decode("ascii", "replace"), end + 1


def _read_download(stream: bytes, pos: int) -> tuple[StreamCommand, int]:
    start = pos
    name, pos = _field(stream, pos)
    panel, pos = _field(stream, pos)
    levels_text, pos = _field(stream, pos)
    if panel not in PANELS or not levels_text.isdigit() or int(levels_text) not in BITS_PER_LEVEL:
        raise ProtocolError(f"offset {start}: bad download header {name};{panel};{levels_text}")
    levels = int(levels_text)
    params: tuple[str, ...] = (panel, levels_text)
    if name == "Db":
        length = panel_bytes(levels)
    else:
        count, after = _field(stream, pos)
        if not count.isdigit():
            raise ProtocolError(f"offset {pos}: Dbc byte count {count!r} is not a number")
        length, pos = int(count), after
        params += (count,)
        if _byte_at(stream, pos + length) != CR:
            # Five-field form: the field just read was first_line, the byte count follows.
            count2, after2 = _field(stream, pos)
            if not count2.isdigit() or _byte_at(stream, after2 + int(count2)) != CR:
                raise ProtocolError(f"offset {start}: Dbc payload not followed by CR")
            length, pos = int(count2), after2
            params += (count2,)
    payload = stream[pos : pos + length]
    if len(payload) != length or _byte_at(stream, pos + length) != CR:
        raise ProtocolError(f"offset {start}: {name} payload of {length} bytes not ended by CR")
    return StreamCommand(name, params, payload), pos + length + 1


def _byte_at(stream: bytes, pos: int) -> int | None:
    return stream[pos] if 0 <= pos < len(stream) else None


def decode_panel(command: StreamCommand) -> DotPanel | LevelPanel:
    """The panel a Db/Dbc command carries: packed dots for K/O, 0..31 levels for Y/M/C."""
    if command.payload is None:
        raise ValueError(f"{command.name} carries no panel")
    compressed = command.name == "Dbc"
    if command.levels == 2:
        return (decompress_mono_panel if compressed else unpack_mono_panel)(command.payload)
    if command.levels == 32:
        return (decompress_colour_panel if compressed else unpack_colour_panel)(command.payload)
    raise ProtocolError(f"{command.levels}-level panels are not decoded (printd sends 2 and 32)")
