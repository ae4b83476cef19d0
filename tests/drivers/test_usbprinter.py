"""USB printer-class requests: device id parsing (both length orders), port status bits."""

from __future__ import annotations

import pytest

from printd.drivers.usbprinter import PortStatus, device_id_length, parse_device_id
from printd.errors import ProtocolError

EVOLIS = b"MFG:Evolis;MDL:Primacy;CMD:EVOLIS;CLS:PRINTER;DES:Evolis Primacy;SN:SIM000001;"


def test_big_endian_length_including_its_two_bytes() -> None:
    raw = (len(EVOLIS) + 2).to_bytes(2, "big") + EVOLIS + b"\x00" * 20
    device_id = parse_device_id(raw)
    assert device_id.manufacturer == "Evolis"
    assert device_id.model == "Primacy"
    assert device_id.serial == "SIM000001"
    assert device_id.command_sets == ("EVOLIS",)
    assert device_id.fields["CLS"] == "PRINTER"
    assert device_id.raw == EVOLIS.decode()


def test_little_endian_length_is_read_as_cups_does() -> None:
    raw = (len(EVOLIS) + 2).to_bytes(2, "little") + EVOLIS
    assert device_id_length(raw) == len(EVOLIS)
    assert parse_device_id(raw).serial == "SIM000001"


def test_long_key_spellings_are_normalised() -> None:
    body = b"MANUFACTURER:Zebra Technologies;COMMAND SET:ZPL, EPL;MODEL:ZXP7;SERN:Z1;"
    device_id = parse_device_id((len(body) + 2).to_bytes(2, "big") + body)
    assert device_id.manufacturer == "Zebra Technologies"
    assert device_id.command_sets == ("ZPL", "EPL")
    assert device_id.model == "ZXP7"
    assert device_id.serial == "Z1"


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00", b"\x00\x05MFG:", b"\x00\x20" + b"no pairs here at all....", b"\x00\x00" * 10],
)
def test_bad_device_ids_raise_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_device_id(raw)


@pytest.mark.parametrize(
    ("raw", "paper_empty", "selected", "error"),
    [
        (0x18, False, True, False),  # healthy and idle
        (0x38, True, True, False),  # out of cards
        (0x10, False, True, True),  # error line active
        (0x00, False, False, True),  # offline, error
    ],
)
def test_port_status_bits(raw: int, paper_empty: bool, selected: bool, error: bool) -> None:
    status = PortStatus.decode(raw)
    assert (status.paper_empty, status.selected, status.error) == (paper_empty, selected, error)
