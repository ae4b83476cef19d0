"""Decoding RFC 2790 error bits and mapping readings onto the status model (pure code)."""

from __future__ import annotations

import pytest

from printd.drivers.snmp import SnmpReading, SupplyRow, merge_status, status_from_reading
from printd.drivers.snmp.mib import ERROR_STATE_BITS, decode_error_state
from printd.drivers.snmp.reading import CoverRow, InputRow
from printd.drivers.snmp.status import ribbon_code, ribbon_row
from printd.drivers.status import (
    Condition,
    Level,
    LevelKind,
    PrinterState,
    PrinterStatus,
    Supplies,
)

# RFC 2790 masks over the first two octets, as CUPS lists them (research §5).
MASKS = {
    "lowPaper": 0x8000,
    "noPaper": 0x4000,
    "lowToner": 0x2000,
    "noToner": 0x1000,
    "doorOpen": 0x0800,
    "jammed": 0x0400,
    "offline": 0x0200,
    "serviceRequested": 0x0100,
    "inputTrayMissing": 0x0080,
    "outputTrayMissing": 0x0040,
    "markerSupplyMissing": 0x0020,
    "outputNearFull": 0x0010,
    "outputFull": 0x0008,
    "inputTrayEmpty": 0x0004,
    "overduePreventMaint": 0x0002,
}


@pytest.mark.parametrize("name", ERROR_STATE_BITS)
def test_every_bit_decodes_from_two_octets(name: str) -> None:
    assert decode_error_state(MASKS[name].to_bytes(2, "big")) == {name}


@pytest.mark.parametrize("name", ERROR_STATE_BITS[:8])
def test_first_octet_bits_decode_from_a_single_octet(name: str) -> None:
    assert decode_error_state(bytes([MASKS[name] >> 8])) == {name}


def test_empty_and_zero_error_states_have_no_bits() -> None:
    assert decode_error_state(b"") == frozenset()
    assert decode_error_state(b"\x00") == frozenset()
    assert decode_error_state(b"\x00\x00\x00") == frozenset()


def test_all_bits_and_undefined_trailing_bits() -> None:
    assert decode_error_state(b"\xff\xff\xff") == frozenset(ERROR_STATE_BITS)


EXPECTED_CONDITION = {
    "doorOpen": Condition.COVER_OPEN,
    "noPaper": Condition.HOPPER_EMPTY,
    "inputTrayEmpty": Condition.HOPPER_EMPTY,
    "jammed": Condition.JAM,
    "markerSupplyMissing": Condition.RIBBON_MISSING,
    "noToner": Condition.RIBBON_OUT,
    "outputFull": Condition.REJECT_BOX_FULL,
    "offline": Condition.OFFLINE,
    "serviceRequested": Condition.SERVICE_REQUESTED,
}


@pytest.mark.parametrize("name", ERROR_STATE_BITS)
def test_each_bit_maps_to_its_condition_or_none(name: str) -> None:
    raw = MASKS[name].to_bytes(2, "big")
    reading = SnmpReading(
        address="x", printer_status=3, error_state=raw, error_bits=decode_error_state(raw)
    )
    status = status_from_reading(reading)
    expected = {EXPECTED_CONDITION[name]} if name in EXPECTED_CONDITION else set()
    assert status.conditions == expected
    assert status.source == "snmp"
    if not expected:
        assert status.state is PrinterState.IDLE  # warnings do not stop printing
    elif expected == {Condition.OFFLINE}:
        assert status.state is PrinterState.OFFLINE
    else:
        assert status.state is PrinterState.NEEDS_OPERATOR


def _supply(
    index: int, cls: int, typ: int, descr: str, cap: int, level: int, unit: int = 7
) -> SupplyRow:
    return SupplyRow((1, index), cls, typ, unit, descr, Level.from_mib(cap), Level.from_mib(level))


def test_ribbon_is_the_ink_ribbon_row_not_the_first_row() -> None:
    reading = SnmpReading(
        address="x",
        supplies=(
            _supply(1, 3, 18, "Cleaning counter", 1000, 640),
            _supply(2, 3, 13, "KO ribbon", 600, 12),
        ),
    )
    row = ribbon_row(reading)
    assert row is not None
    assert row.index == (1, 2)
    s = status_from_reading(reading).supplies
    assert (s.ribbon_type, s.ribbon_remaining, s.ribbon_capacity) == (
        "ko",
        Level.known(12),
        Level.known(600),
    )


def test_without_a_ribbon_type_the_first_consumed_supply_is_used() -> None:
    reading = SnmpReading(
        address="x",
        supplies=(
            _supply(1, 4, 1, "Reject box", 20, 2),
            _supply(2, 3, 3, "Black toner", -2, -3),
        ),
    )
    s = status_from_reading(reading).supplies
    assert s.ribbon_remaining.kind is LevelKind.SOME_REMAINING
    assert s.ribbon_capacity.kind is LevelKind.UNKNOWN


def test_percent_levels_are_not_taken_as_prints() -> None:
    reading = SnmpReading(address="x", supplies=(_supply(1, 3, 7, "YMCKO", 100, 40, unit=19),))
    s = status_from_reading(reading).supplies
    assert s.ribbon_remaining == Level.unknown()
    assert s.ribbon_type == "ymcko"


def test_receptacle_is_inverted_and_full_means_reject_box_full() -> None:
    half = _supply(1, 4, 1, "Reject box", 20, 5)
    full = _supply(1, 4, 1, "Reject box", 20, 20)
    assert half.is_receptacle
    assert half.remaining_fraction == pytest.approx(0.75)
    assert full.remaining_fraction == 0.0
    consumed = _supply(2, 3, 7, "YMCKO", 400, 100)
    assert consumed.remaining_fraction == pytest.approx(0.25)
    status = status_from_reading(SnmpReading(address="x", supplies=(full,)))
    assert Condition.REJECT_BOX_FULL in status.conditions


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (-1, LevelKind.UNRESTRICTED),
        (-2, LevelKind.UNKNOWN),
        (-3, LevelKind.SOME_REMAINING),
        (0, LevelKind.KNOWN),
    ],
)
def test_sentinel_levels_in_the_hopper_are_their_own_state(raw: int, kind: LevelKind) -> None:
    reading = SnmpReading(
        address="x",
        inputs=(InputRow((1, 1), "Hopper", Level.known(100), Level.from_mib(raw)),),
        hopper_index=(1, 1),
    )
    status = status_from_reading(reading)
    assert status.supplies.hopper_level.kind is kind
    # Only a known zero is an empty hopper; "some remaining" and "unknown" are not.
    assert (Condition.HOPPER_EMPTY in status.conditions) == (raw == 0)


def test_open_cover_or_interlock_is_cover_open() -> None:
    for value in (3, 5):
        reading = SnmpReading(address="x", covers=(CoverRow((1, 1), "Cover", value),))
        assert status_from_reading(reading).conditions == {Condition.COVER_OPEN}
    closed = SnmpReading(address="x", covers=(CoverRow((1, 1), "Cover", 4),))
    assert status_from_reading(closed).conditions == frozenset()


@pytest.mark.parametrize(
    ("device", "printer", "state"),
    [
        (2, 3, PrinterState.IDLE),
        (2, 4, PrinterState.PRINTING),
        (2, 5, PrinterState.UNKNOWN),
        (3, 1, PrinterState.IDLE),
        (4, 1, PrinterState.PRINTING),
        (5, 1, PrinterState.OFFLINE),
        (None, None, PrinterState.UNKNOWN),
    ],
)
def test_state_from_host_resources(device: int | None, printer: int | None, state: str) -> None:
    reading = SnmpReading(address="x", device_status=device, printer_status=printer)
    assert status_from_reading(reading).state is state


@pytest.mark.parametrize(
    ("description", "code"),
    [
        ("YMCKO colour ribbon", "ymcko"),
        ("ymckok", "ymckok"),
        ("Ribbon YMCKOS half panel", "ymckos"),
        ("KO ribbon", "ko"),
        ("Black Toner Cartridge", None),
        ("", None),
    ],
)
def test_ribbon_code_from_description(description: str, code: str | None) -> None:
    assert ribbon_code(description) == code


def _status(state: PrinterState, *conds: Condition, **supplies: object) -> PrinterStatus:
    return PrinterStatus(
        state=state,
        conditions=frozenset(conds),
        supplies=Supplies(**supplies),  # type: ignore[arg-type]
    )


def test_merge_usb_wins_and_disagreements_are_named() -> None:
    usb = _status(
        PrinterState.IDLE,
        hopper_level=Level.known(40),
        ribbon_remaining=Level.unknown(),
        ribbon_type="ymcko",
    )
    snmp = _status(
        PrinterState.NEEDS_OPERATOR,
        Condition.COVER_OPEN,
        hopper_level=Level.known(42),
        ribbon_remaining=Level.known(300),
        ribbon_type="ko",
    )
    merged, disagreements = merge_status(usb, snmp)
    assert merged.state is PrinterState.IDLE
    assert merged.conditions == frozenset()
    assert merged.supplies.hopper_level == Level.known(40)  # USB's count wins
    assert merged.supplies.ribbon_remaining == Level.known(300)  # SNMP fills the unknown
    assert merged.supplies.ribbon_type == "ymcko"
    assert disagreements == ["state", "condition:cover_open", "hopper_level", "ribbon_type"]


def test_merge_with_one_side_missing() -> None:
    snmp = _status(PrinterState.IDLE)
    assert merge_status(None, snmp) == (snmp, [])
    assert merge_status(snmp, None) == (snmp, [])
    merged, disagreements = merge_status(None, None)
    assert merged.state is PrinterState.UNKNOWN
    assert disagreements == []


def test_merge_agreeing_sources_reports_nothing() -> None:
    a = _status(PrinterState.IDLE, hopper_level=Level.known(5))
    assert merge_status(a, a)[1] == []
