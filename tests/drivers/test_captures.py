"""The vendor's recorded print streams, decoded back into K panels (research/evolis/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _numpy_oracle import dot_panel, dots_of

from printd.drivers.evolis import codec
from printd.errors import ProtocolError
from tests.conftest import require_captures

# Share of K dots set, per the README (one decimal, in percent).
DOT_SHARES = {
    "card-black": 99.7,
    "card-black-fit": 99.3,
    "card-gradient": 62.7,
    "card-gradient-fit": 62.6,
    "evolis-card-text": 12.9,
    "evolis-card-curves": 12.8,
    "card-white": 0.6,
    "card-white-fit": 0.9,
}


@pytest.fixture
def captures() -> Path:
    return require_captures()


@pytest.mark.parametrize("name", sorted(DOT_SHARES))
def test_capture_decodes_to_a_k_panel(captures: Path, name: str) -> None:
    stream = (captures / name).read_bytes()
    commands = codec.split_stream(stream)
    names = [c.name for c in commands]
    assert names == ["Pr", "Pmi", "Pc", "Pdt", "Mr", "Ppws", "Ss", "Sr", "Dbc", "Se"]
    assert commands[0].params == ("k",)
    assert commands[-1].params == ("1",)
    download = commands[8]
    assert download.panel == "k"
    assert download.levels == 2
    assert len(download.payload or b"") == int(download.params[2])
    panel = codec.decode_panel(download)
    assert len(panel) == 1016 * 81  # 1016 lines of 81 bytes
    dots = dots_of(panel)
    assert round(float(np.mean(dots)) * 100, 1) == DOT_SHARES[name]


@pytest.mark.parametrize("name", sorted(DOT_SHARES))
def test_our_compressor_reproduces_the_vendor_bytes(captures: Path, name: str) -> None:
    commands = codec.split_stream((captures / name).read_bytes())
    download = commands[8]
    dots = codec.decode_panel(download)
    assert len(dots) == 1016 * 81
    assert codec.compress_mono_panel(codec.DotPanel(dots)) == download.payload


def test_five_field_dbc_and_uncompressed_db_split() -> None:
    dots = np.zeros((1016, 648), dtype=bool)
    dots[::2, ::3] = True
    compressed = codec.compress_mono_panel(dot_panel(dots))
    five = b"\x1bDbc;k;2;0;" + str(len(compressed)).encode() + b";" + compressed + b"\r"
    raw = codec.encode_download("o", 2, codec.pack_mono_panel(dot_panel(dots)), compressed=False)
    stream = b"\x1bSs\r" + five + b"\x00\x00" + raw + b"\x1bSe\r" + b"\x00" * 64
    commands = codec.split_stream(stream)
    assert [c.name for c in commands] == ["Ss", "Dbc", "Db", "Se"]
    assert commands[1].params == ("k", "2", "0", str(len(compressed)))
    for command in commands[1:3]:
        assert (dots_of(codec.decode_panel(command)) == dots).all()


@pytest.mark.parametrize(
    "stream",
    [
        b"Ss\r",  # no ESC
        b"\x1bSs",  # no CR
        b"\x1bDbc;k;2;10;abc\r",  # declared length runs past the data
        b"\x1bDb;k;2;" + bytes(100) + b"\r",  # short uncompressed panel
        b"\x1bDbc;q;2;1;a\r",  # unknown panel
    ],
)
def test_split_stream_refuses_broken_streams(stream: bytes) -> None:
    with pytest.raises(ProtocolError):
        codec.split_stream(stream)
