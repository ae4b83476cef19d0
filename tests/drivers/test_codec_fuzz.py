"""Property tests: malformed input to the decoders raises ProtocolError and nothing else."""

from __future__ import annotations

import contextlib

import numpy as np
from _numpy_oracle import level_panel, levels_of
from hypothesis import given, settings
from hypothesis import strategies as st

from printd.drivers.evolis import codec
from printd.errors import ProtocolError

REPLY_COMMANDS = sorted(codec.COMMANDS)
NEAR_MISS_ALPHABET = "ERROKADYWNIG_;, 0123456789-Vabcdefmnoprstuvwxyz"


@given(st.sampled_from(REPLY_COMMANDS), st.binary(max_size=80))
def test_decode_reply_never_raises_anything_but_protocol_error(command: str, raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        codec.decode_reply(command, raw)


@given(
    st.sampled_from(REPLY_COMMANDS),
    st.text(
        alphabet=st.sampled_from("ERROKADYWNIG_;, 0123456789-Vabcdefmnoprstuvwxyz"), max_size=40
    ),
)
def test_decode_reply_on_near_miss_text(command: str, text: str) -> None:
    with contextlib.suppress(ProtocolError):
        codec.decode_reply(command, text.encode())


@given(st.binary(max_size=400))
def test_split_reply_only_raises_protocol_error(raw: bytes) -> None:
    buffer = bytearray(raw)
    try:
        while codec.split_reply(buffer) is not None:
            pass
    except ProtocolError:
        pass


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000))
def test_stream_and_panel_decoders_only_raise_protocol_error(raw: bytes) -> None:
    for decoder in (codec.decompress_mono_panel, codec.decompress_colour_panel):
        with contextlib.suppress(ProtocolError):
            decoder(raw)
    try:
        for command in codec.split_stream(b"\x1b" + raw):
            if command.payload is not None:
                codec.decode_panel(command)
    except ProtocolError:
        pass


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 31))
def test_colour_compression_round_trips(seed: int, top: int) -> None:
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, top + 1, (1016, 648), dtype=np.uint8)
    levels[rng.random(1016) < 0.5] = 0
    compressed = codec.compress_colour_panel(level_panel(levels))
    assert (levels_of(codec.decompress_colour_panel(compressed)) == levels).all()
