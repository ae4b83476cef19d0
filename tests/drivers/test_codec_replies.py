"""The codec's reply handling at its edges: replies that arrive together, a reply that never
ends, and status replies it cannot read, quoted for the operator's log."""

from __future__ import annotations

import re

import pytest

from printd.drivers.evolis import codec
from printd.errors import ProtocolError


def test_two_replies_in_one_read_come_off_one_at_a_time() -> None:
    buffer = bytearray(b"OK\r1\r")
    assert codec.split_reply(buffer) == b"OK"
    assert codec.split_reply(buffer) == b"1"
    assert codec.split_reply(buffer) is None
    assert buffer == bytearray()


def test_an_unended_reply_is_waited_for_up_to_the_longest_reply_there_is() -> None:
    buffer = bytearray(b"x" * codec.MAX_REPLY_BYTES)
    assert codec.split_reply(buffer) is None  # may still end with the next read
    buffer += b"x"
    with pytest.raises(ProtocolError, match=f"longer than {codec.MAX_REPLY_BYTES} bytes"):
        codec.split_reply(buffer)


LONG = 100  # longer than any quote the errors make
NOT_ASCII = bytes([0xFF])


@pytest.mark.parametrize(
    ("command", "raw", "expected"),
    [
        ("Ss", b"N" * LONG, f"Ss: expected OK, got {'N' * 64!r}"),
        ("Rtp", b"\x01" * LONG, f"Rtp: expected printable text, got {chr(1) * 64!r}"),
        ("Rr", b"?" * LONG, f"Rr: expected a ribbon code, got {'?' * 64!r}"),
        ("Rco", b"x" * LONG, f"Rco: expected an integer, got {'x' * 64!r}"),
        ("Rse", b"y" * LONG, f"Rse: expected 'N,NN Volts', got {'y' * 64!r}"),
        ("Ss", NOT_ASCII * LONG, f"Ss: reply is not ASCII: {NOT_ASCII * 32!r}"),
    ],
)
def test_a_reply_that_does_not_fit_its_row_is_quoted_in_the_error(
    command: str, raw: bytes, expected: str
) -> None:
    with pytest.raises(ProtocolError, match=f"^{re.escape(expected)}$"):
        codec.decode_reply(command, raw)


def test_a_command_without_a_reply_rule_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match=re.escape("no reply rule for command 'Zz'")):
        codec.decode_reply("Zz", b"OK")


def test_an_error_word_in_no_source_is_kept_as_the_printer_said_it_up_to_its_limit() -> None:
    reply = codec.decode_reply("Ss", b"ERR " + b"Q" * LONG)
    assert reply == codec.ErrorReply("ERR " + "Q" * 60)
    assert isinstance(reply, codec.ErrorReply)
    assert reply.fault is codec.Fault.OUTCOME_UNKNOWN
