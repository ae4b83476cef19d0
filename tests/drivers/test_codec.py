"""Golden bytes for every command the driver sends, and every reply in docs/evolis-protocol.md."""

from __future__ import annotations

import numpy as np
import pytest
from _numpy_oracle import dot_panel, dots_of, level_panel, levels_of
from PIL import Image

from printd.drivers.evolis import codec
from printd.drivers.evolis.codec import (
    ErrorReply,
    Number,
    Ok,
    Ribbon,
    Text,
    Volts,
    decode_reply,
    encode_command,
    encode_download,
)
from printd.drivers.status import Condition
from printd.errors import ProtocolError


@pytest.mark.parametrize(
    ("args", "wire"),
    [
        (("Rtp",), "1b5274700d"),
        (("Rsn",), "1b52736e0d"),
        (("Rfv",), "1b5266760d"),
        (("Ser",), "1b5365720d"),
        (("Rr",), "1b52720d"),
        (("Rco", "l"), "1b52636f3b6c0d"),
        (("Rse", "f"), "1b5273653b660d"),
        (("Pem", 2), "1b50656d3b320d"),
        (("Pr", "ymcko"), "1b50723b796d636b6f0d"),
        (("Pr", "k"), "1b50723b6b0d"),
        (("Pmi", "F", "s"), "1b506d693b463b730d"),
        (("Ss",), "1b53730d"),
        (("Sr",), "1b53720d"),
        (("Sv",), "1b53760d"),
        (("Se",), "1b53650d"),
        (("Se", 1), "1b53653b310d"),
        (("Pc", "k", "=", 10), "1b50633b6b3b3d3b31300d"),
    ],
)
def test_command_golden_bytes(args: tuple[str, ...], wire: str) -> None:
    assert encode_command(*args) == bytes.fromhex(wire)


def test_commands_match_the_vendor_capture_prefix() -> None:
    # card-white's first bytes, as the vendor's driver sent them.
    prefix = bytes.fromhex("1b50723b6b0d1b506d693b463b730d1b50633b6b3b3d3b31300d")
    ours = encode_command("Pr", "k") + encode_command("Pmi", "F", "s")
    ours += encode_command("Pc", "k", "=", 10)
    assert ours == prefix


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Xyz",), "not an encodable"),
        (("Db",), "not an encodable"),
        (("Rco",), "takes 1..1"),
        (("Ss", "x"), "takes 0..0"),
        (("Pr", "ymc;ko"), "contains ';'"),
        (("Pr", "a\rb"), "control byte"),
    ],
)
def test_encode_command_refuses_bad_use(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_command(*args)


def test_db_golden_header_and_size() -> None:
    data = bytes(codec.panel_bytes(2))
    frame = encode_download("k", 2, data, compressed=False)
    assert frame[:8] == b"\x1bDb;k;2;"
    assert frame[-1:] == b"\r"
    assert len(frame) == 8 + 82_296 + 1
    colour = encode_download("y", 32, bytes(411_480), compressed=False)
    assert colour[:9] == b"\x1bDb;y;32;"
    assert len(colour) == 9 + 411_480 + 1


def test_dbc_golden_bytes() -> None:
    assert encode_download("o", 2, b"\xff\x00", compressed=True) == bytes.fromhex(
        "1b4462633b6f3b323b323bff000d"
    )


@pytest.mark.parametrize(
    ("panel", "levels", "size", "message"),
    [
        ("k", 2, 10, "needs 82296 bytes"),
        ("x", 2, 82_296, "panel must be"),
        ("k", 32, 411_480, "not sent at 32"),
        ("y", 2, 82_296, "not sent at 2"),
        ("y", 16, 1, "levels must be"),
    ],
)
def test_encode_download_refuses(panel: str, levels: int, size: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_download(panel, levels, bytes(size), compressed=False)


# -- replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "raw", "expected"),
    [
        ("Pem", b"OK", Ok()),
        ("Ss", b"OK", Ok()),
        ("Se", b"OK", Ok()),
        ("Dbc", b"OK", Ok()),
        ("Rtp", b"Primacy", Text("Primacy")),
        ("Rfv", b"1.0.0-sim", Text("1.0.0-sim")),
        ("Rr", b"ymcko", Ribbon("ymcko")),
        ("Rr", b"KB", Ribbon("kb")),
        ("Rr", b"NO RIBBON", Ribbon(None)),
        ("Rco", b"450", Number(450)),
        ("Rco", b"0", Number(0)),
        ("Rco", b"-1", Number(None)),
        ("Rse", b"5,00 Volts", Volts(5.0)),
        ("Rse", b"0,00 Volts", Volts(0.0)),
    ],
)
def test_decode_reply(command: str, raw: bytes, expected: codec.Reply) -> None:
    assert decode_reply(command, raw) == expected


@pytest.mark.parametrize("words", list(codec.VOCABULARY))
@pytest.mark.parametrize("command", ["Ss", "Pr", "Se", "Rse", "Rlr", "Rtp"])
def test_every_word_of_the_vocabulary_is_an_error_reply(command: str, words: str) -> None:
    assert decode_reply(command, words.encode()) == ErrorReply(words)


@pytest.mark.parametrize(
    ("words", "fault", "condition"),
    [
        ("ERROR CDE", codec.Fault.NEEDS_OPERATOR, Condition.SERVICE_REQUESTED),
        ("ERROR PARAMETRES", codec.Fault.JOB_FAULT, None),
        ("FEEDER EMPTY", codec.Fault.NEEDS_OPERATOR, Condition.HOPPER_EMPTY),
        ("ERR FEEDER EMPTY", codec.Fault.NEEDS_OPERATOR, Condition.HOPPER_EMPTY),
        ("COVER OPEN", codec.Fault.NEEDS_OPERATOR, Condition.COVER_OPEN),
        ("CARD JAM", codec.Fault.NEEDS_OPERATOR, Condition.JAM),
        ("ERROR RIBBON", codec.Fault.NEEDS_OPERATOR, Condition.RIBBON_MISSING),
        ("HOPPER FULL", codec.Fault.NEEDS_OPERATOR, Condition.SERVICE_REQUESTED),
        ("NEED CLEANING", codec.Fault.NEEDS_OPERATOR, Condition.SERVICE_REQUESTED),
        ("ERR RIB DETECTION", codec.Fault.NEEDS_OPERATOR, Condition.RIBBON_MISSING),
        ("ERR BAD RIBBON", codec.Fault.NEEDS_OPERATOR, Condition.RIBBON_WRONG),
        ("ERR HEAD TEMP", codec.Fault.TRANSIENT, None),
        ("ERR REJECTED", codec.Fault.CARD_SPOILED, None),
        ("ERR CARD", codec.Fault.OUTCOME_UNKNOWN, None),
        ("ERR SOMETHING NEW", codec.Fault.OUTCOME_UNKNOWN, Condition.SERVICE_REQUESTED),
        ("ERROR MAGNETIC", codec.Fault.OUTCOME_UNKNOWN, Condition.SERVICE_REQUESTED),
    ],
)
def test_error_words_map_onto_the_fault_taxonomy(
    words: str, fault: codec.Fault, condition: Condition | None
) -> None:
    reply = decode_reply("Ss", words.encode())
    assert isinstance(reply, ErrorReply)
    assert (reply.fault, reply.condition) == (fault, condition)


def test_a_status_word_is_not_an_error_reply() -> None:
    # An SDK flag name, or a word that only begins like ERR, is not a refusal.
    assert decode_reply("Rtp", b"ERR_MECHANICAL") == Text("ERR_MECHANICAL")
    assert decode_reply("Rtp", b"ERRATA") == Text("ERRATA")


@pytest.mark.parametrize(
    ("command", "raw"),
    [
        ("Pem", b"KO"),
        ("Pem", b"ok"),
        ("Rtp", b""),
        ("Rtp", b"\xfe\x81?#"),
        ("Rco", b"-2"),
        ("Rco", b"12a"),
        ("Rco", b"007"),
        ("Rse", b"5 Volts"),
        ("Rr", b"ymc ko"),
    ],
)
def test_malformed_replies_raise_protocol_error(command: str, raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_reply(command, raw)


def test_split_reply_takes_cr_or_nul_and_skips_empty() -> None:
    buffer = bytearray(b"\x00OK\r\x00READY;PRINTER_READY\x00Pri")
    assert codec.split_reply(buffer) == b"OK"
    assert codec.split_reply(buffer) == b"READY;PRINTER_READY"
    assert codec.split_reply(buffer) is None
    assert buffer == bytearray(b"Pri")


def test_split_reply_refuses_a_runaway_reply() -> None:
    with pytest.raises(ProtocolError, match="without a CR"):
        codec.split_reply(bytearray(b"A" * 300))


# -- panels ----------------------------------------------------------------------------------


def _random_levels(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, 32, (1016, 648), dtype=np.uint8)
    levels[10] = 0  # blank line
    levels[11, 200:] = 0  # trailing blank
    levels[12] = 31  # one run over 256 and 512
    levels[13, :300] = 7  # run of 300: the 256 extension bit
    return levels


def test_colour_pack_round_trip_and_golden_first_group() -> None:
    levels = _random_levels(1)
    data = codec.pack_colour_panel(level_panel(levels))
    assert len(data) == 411_480
    assert (levels_of(codec.unpack_colour_panel(data)) == levels).all()
    first = np.zeros((1016, 648), dtype=np.uint8)
    first[0, :8] = [1, 2, 3, 4, 5, 6, 7, 31]
    # 00001 00010 00011 00100 00101 00110 00111 11111
    assert codec.pack_colour_panel(level_panel(first))[:5] == bytes.fromhex("08864298ff")


def test_colour_compression_round_trip() -> None:
    levels = _random_levels(2)
    data = codec.compress_colour_panel(level_panel(levels))
    assert (levels_of(codec.decompress_colour_panel(data)) == levels).all()


def test_colour_compression_golden_lines() -> None:
    levels = np.zeros((1016, 648), dtype=np.uint8)
    levels[0, :3] = [5, 5, 9]  # run of two 5s, one 9, then blank
    levels[1, :] = 31  # 648 dots: 512 + 136
    data = codec.compress_colour_panel(level_panel(levels))
    assert data[:5] == bytes.fromhex("8502098000")
    assert data[5:7] == bytes([0x80 | 0x60 | 31, 136])
    assert data[7:] == b"\x80\x00" * 1014


def test_mono_compression_golden_lines() -> None:
    dots = np.zeros((1016, 648), dtype=bool)
    dots[1] = True  # black line
    dots[2, 0] = True  # one dot: 1 useful byte 0x80
    dots[3, 647] = True  # last dot: 81 useful bytes
    data = codec.compress_mono_panel(dot_panel(dots))
    assert data[:4] == bytes.fromhex("00ff0180")
    assert data[4] == 81
    assert data[5:85] == bytes(80)
    assert data[85] == 0x01
    assert data[86:] == bytes(1012)
    assert (dots_of(codec.decompress_mono_panel(data)) == dots).all()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00" * 1015, "ends after 1015"),
        (b"\x00" * 1017, "1 bytes left"),
        (b"\x52" + b"\x00" * 1015, "lead byte 82"),
        (b"\x05\x01", "announced"),
    ],
)
def test_mono_decompression_refuses_bad_data(data: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        codec.decompress_mono_panel(data)


def test_all_black_panel_is_one_lead_byte_per_line() -> None:
    dots = np.ones((1016, 648), dtype=bool)
    data = codec.compress_mono_panel(dot_panel(dots))
    assert data == b"\xff" * 1016
    assert dots_of(codec.decompress_mono_panel(data)).all()
    almost = dots.copy()
    almost[0, 0] = False
    assert codec.compress_mono_panel(dot_panel(almost))[:2] == bytes([81, 0x7F])


@pytest.mark.parametrize(
    ("action", "size", "message"),
    [
        (codec.LevelPanel.from_lines, 648 * 1016 - 1, "level panel is 658368 bytes"),
        (codec.pack_mono_panel, 81 * 1016 - 81, "dot panel is 82296 bytes"),
        (codec.compress_mono_panel, 0, "dot panel is 82296 bytes"),
    ],
)
def test_panels_of_the_wrong_size_are_refused(action: object, size: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        action(bytes(size))  # type: ignore[operator]


@pytest.mark.parametrize(
    "image",
    [Image.new("L", (648, 1016)), Image.new("RGB", (1016, 648)), Image.new("L", (1016, 647))],
)
def test_level_panels_are_card_sized_l_images(image: Image.Image) -> None:
    with pytest.raises(ValueError, match="L image of 1016x648"):
        codec.LevelPanel(image)
    with pytest.raises(ValueError, match="L image of 1016x648"):
        codec.pack_dot_mask(image)


def test_level_panel_lines_are_the_image_turned_clockwise() -> None:
    card = Image.new("L", (1016, 648))
    card.putpixel((0, 647), 1)  # bottom-left: line 0, dot 0
    card.putpixel((0, 0), 2)  # top-left: line 0, dot 647
    card.putpixel((1015, 647), 3)  # bottom-right: line 1015, dot 0
    lines = codec.LevelPanel(card).lines()
    assert (lines[0], lines[647], lines[1015 * 648]) == (1, 2, 3)
    assert codec.LevelPanel.from_lines(lines) == codec.LevelPanel(card)


def test_colour_compression_refuses_levels_over_31() -> None:
    levels = np.zeros((1016, 648), dtype=np.uint8)
    levels[500, 7] = 32
    with pytest.raises(ValueError, match=r"must be 0\.\.31"):
        codec.compress_colour_panel(level_panel(levels))


def test_no_status_command_is_in_the_table() -> None:
    # Rst is in no source: a real printer answers it ERROR CDE (docs/evolis-protocol.md).
    with pytest.raises(ValueError, match="not an encodable"):
        encode_command("Rst")
