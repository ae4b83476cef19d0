"""The incremental reader: any chunking gives the same commands; garbage never crashes it."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from _sim_streams import dbc, esc, ko_bitmap, ko_compress, random_k, read_replies, ymc_levels
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from printd.sim.evolis_model import SimPrinter
from printd.sim.framing import CommandFramer, Frame
from printd.sim.panels import PanelError, decode_compressed, decode_ko_lines, decode_ymc_lines

SMALL_K = ko_compress(random_k(7, share=0.05))
# Plain commands, a download full of ESC/CR bytes, NUL padding between commands.
STREAM = (
    esc("Pr;kb")
    + b"\x00\x00"
    + esc("Ss")
    + esc("Sr")
    + dbc("k", SMALL_K)
    + b"\x00" * 5
    + f"\x1bDbc;o;2;0;{len(SMALL_K)};".encode()
    + SMALL_K
    + b"\r"
    + esc("Se;1")
    + b"\x00" * 64
)


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def frames_of(pieces: list[bytes]) -> list[Frame]:
    framer = CommandFramer()
    out: list[Frame] = []
    for piece in pieces:
        out += framer.feed(piece)
    assert framer.idle
    return out


def test_stream_frames() -> None:
    frames = frames_of([STREAM])
    assert [(f.name, f.params[:3], f.error) for f in frames] == [
        ("Pr", ("kb",), None),
        ("Ss", (), None),
        ("Sr", (), None),
        ("Dbc", ("k", "2", str(len(SMALL_K))), None),
        ("Dbc", ("o", "2", "0"), None),
        ("Se", ("1",), None),
    ]
    assert frames[3].payload == SMALL_K
    assert frames[4].payload == SMALL_K
    assert b"\x1b" in SMALL_K or b"\r" in SMALL_K or len(SMALL_K) > 1016


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=10**6), max_size=40))
def test_any_chunking_gives_the_same_frames(cuts: list[int]) -> None:
    assert frames_of(split_at(STREAM, cuts)) == frames_of([STREAM])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(min_value=0, max_value=600), max_size=10))
def test_garbage_never_crashes_and_replies_stay_framed(garbage: bytes, cuts: list[int]) -> None:
    printer = SimPrinter()
    for piece in split_at(garbage, cuts):
        printer.write(piece)
    data = printer.read(1 << 20, 0)
    assert data == b"" or data.endswith(b"\r")
    for reply in data.split(b"\r")[:-1]:
        reply.decode("ascii")  # every reply is ASCII text


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300).filter(lambda b: b"Db" not in b))
def test_printer_answers_after_garbage_that_opens_no_download(garbage: bytes) -> None:
    printer = SimPrinter()
    printer.write(garbage + b"\r" + esc("Rsn"))
    replies = printer.read(1 << 20, 0).split(b"\r")
    assert replies[-2:] == [b"SIM000001", b""]


def test_errors_and_resynchronisation() -> None:
    framer = CommandFramer()
    pieces = [
        b"\x1bDb;q;2;junk\r",  # unknown panel: no length known, skip to CR
        b"\x1bDbc;k;2;12;3x\r",  # five-field form: byte count not a number
        b"\x1bRt\xffp\r",  # not ASCII
        b"\x1b" + b"R" * 300 + b"\r",  # header too long
        b"\x1bRtp\x1bRsn\r",  # ESC inside a header drops the partial command
        b"\x1bDbc;k;2;1016;" + b"\x00" * 1016 + b"Z",  # payload not ended by CR
        b"\x1bRfv\r",
    ]
    frames = framer.feed(b"".join(pieces))
    assert [(f.name[:4], f.error) for f in frames] == [
        ("Db", "PARAM"),
        ("Dbc", "PARAM"),
        ("", "CMD"),
        ("RRRR", "CMD"),
        ("Rsn", None),
        ("Dbc", "PARAM"),
        ("Rfv", None),
    ]


def test_ko_decoder_rules() -> None:
    white, black = b"\x00", b"\xff"
    panel = ko_bitmap(decode_ko_lines(white * 1014 + black + b"\x02\x80\x01"))
    assert panel[:1014].sum() == 0
    assert panel[1014].all()
    assert panel[1015, 0] and panel[1015, 15] and panel[1015].sum() == 2
    with pytest.raises(PanelError, match="ends after 1015"):
        decode_ko_lines(white * 1015)
    with pytest.raises(PanelError, match="left over"):
        decode_ko_lines(white * 1017)
    with pytest.raises(PanelError, match="lead byte 82"):
        decode_ko_lines(white * 1015 + b"\x52")
    shifted = ko_bitmap(decode_compressed("k", 2, black * 16, first_line=1000))
    assert shifted[:1000].sum() == 0 and shifted[1000:].all()


def test_ymc_decoder_rules() -> None:
    white_line = b"\x80\x00"
    # 5 bits: 0xE1 = run, both extension bits set, level 1: 2 * 256 + 136 = 648 dots.
    line = bytes([0xE1, 136])
    panel = ymc_levels(decode_ymc_lines(white_line * 1015 + line, 32))
    assert panel[:1015].sum() == 0
    assert (panel[1015] == 1).all()
    # 7 bits: no extension bits; single dots and a run that ends the line with white.
    seven = ymc_levels(decode_ymc_lines(bytes([0x7F, 0x05]) + white_line * 1016, 128))
    assert list(seven[0, :3]) == [127, 5, 0]
    with pytest.raises(PanelError, match="crosses"):
        decode_ymc_lines(bytes([0xE1, 137]) + white_line * 1015, 32)


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1), st.floats(min_value=0, max_value=1))
def test_ko_round_trip(seed: int, share: float) -> None:
    bitmap = np.random.default_rng(seed).random((1016, 648)) < share
    bitmap[::97] = True  # black lines
    bitmap[5::89] = False  # white lines
    assert np.array_equal(ko_bitmap(decode_ko_lines(ko_compress(bitmap))), bitmap)


def test_real_capture_bytes_split_everywhere_near_the_payload(captures: Path) -> None:
    stream = (captures / "card-white").read_bytes()
    start = stream.index(b"\x1bDbc")
    for cut in range(start - 2, start + 20):
        printer = SimPrinter()
        printer.write(stream[:cut])
        printer.write(stream[cut:])
        assert read_replies(printer.read, 10) == ["OK"] * 10, cut
