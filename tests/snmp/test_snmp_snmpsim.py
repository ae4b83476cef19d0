"""The poller against snmpsim (a separate agent process) replaying tests/data/*.snmprec.

Each file is a shape real agents have: a card printer with several supplies and a receptacle,
a laser printer's sentinels (-2/-3) and one-octet error state among other host devices, a
faulted printer, an agent without the Printer-MIB, wrong value types, a runaway table.
"""

from __future__ import annotations

import pytest
from snmp_support import Snmpsim, poll_once

from printd.drivers.snmp import status_from_reading
from printd.drivers.status import Condition, Level, LevelKind, PrinterState


def test_card_printer(snmpsim: Snmpsim) -> None:
    reading = poll_once(snmpsim.uri("card-printer"))
    assert reading.problems == ()
    assert reading.absent_tables == ()
    assert reading.life_count == 1234
    assert reading.uptime_seconds == pytest.approx(86400.0)
    assert [(r.type_name, r.is_receptacle) for r in reading.supplies] == [
        ("cleanerUnit", False),
        ("inkRibbon", False),
        ("other", True),
    ]
    assert reading.supplies[2].remaining_fraction == pytest.approx(17 / 20)
    assert [a.description for a in reading.alerts] == ["Ribbon low"]
    status = status_from_reading(reading)
    assert status.state is PrinterState.IDLE
    assert status.conditions == frozenset()
    s = status.supplies
    assert (s.hopper_level, s.hopper_capacity) == (Level.known(57), Level.known(100))
    assert (s.ribbon_type, s.ribbon_remaining, s.ribbon_capacity) == (
        "ymcko",
        Level.known(312),
        Level.known(450),
    )


def test_laser_printer_sentinels_and_one_octet_error_state(snmpsim: Snmpsim) -> None:
    reading = poll_once(snmpsim.uri("laser-sentinels"))
    # hrDeviceTable lists a CPU (running) and a network card (down) too: the printer's own
    # row (index 1, warning) is the one read.
    assert reading.device_status == 3
    assert reading.error_state == b"\x00"
    assert reading.error_bits == frozenset()
    assert [i.name for i in reading.inputs] == ["AUTO", "MANUAL TRAY", "TRAY1"]
    assert {i.level.kind for i in reading.inputs} == {LevelKind.SOME_REMAINING}
    toner, drum = reading.supplies
    assert (toner.capacity.kind, toner.level.kind) == (LevelKind.UNKNOWN, LevelKind.SOME_REMAINING)
    assert toner.remaining_fraction is None  # never a guessed 50 %
    assert drum.remaining_fraction == pytest.approx(11501 / 12000)
    assert set(reading.absent_tables) == {"prtAlertTable", "prtCoverTable", "prtGeneralTable"}
    assert reading.serial_number is None
    # Three paper trays, none a card hopper: the reading says so instead of taking the first.
    assert reading.hopper_index is None
    assert reading.hopper_reason == (
        "3 inputs (1, 2, 3) and none is named as a card hopper; "
        "set hopper_input=INDEX in the status URI"
    )
    status = status_from_reading(reading)
    assert status.state is PrinterState.IDLE
    assert status.conditions == frozenset()  # "some remaining" is not empty
    assert status.supplies.hopper_level.kind is LevelKind.UNKNOWN


def test_faulted_printer(snmpsim: Snmpsim) -> None:
    reading = poll_once(snmpsim.uri("faults"))
    assert reading.error_bits == {"doorOpen", "jammed"}
    status = status_from_reading(reading)
    assert status.state is PrinterState.NEEDS_OPERATOR
    assert status.conditions == {
        Condition.COVER_OPEN,  # the bit, and the ribbon door's interlockOpen
        Condition.JAM,
        Condition.HOPPER_EMPTY,  # hopper level 0
        Condition.RIBBON_OUT,  # ribbonWax level 0
        Condition.REJECT_BOX_FULL,  # receptacle 20 of 20
    }
    assert status.supplies.ribbon_type == "ko"


def test_agent_without_printer_mib(snmpsim: Snmpsim) -> None:
    reading = poll_once(snmpsim.uri("minimal"))
    assert reading.sys_descr == "Print server without Printer-MIB"
    assert reading.problems == ()
    assert "prtMarkerSuppliesTable" in reading.absent_tables
    assert (reading.supplies, reading.inputs, reading.covers) == ((), (), ())
    status = status_from_reading(reading)
    assert status.state is PrinterState.UNKNOWN
    assert status.supplies.hopper_level == Level.unknown()


def test_wrong_types_are_problems_not_crashes(snmpsim: Snmpsim) -> None:
    reading = poll_once(snmpsim.uri("wrong-types"))
    text = "\n".join(reading.problems)
    for expected in (
        "sysDescr.0: expected a string",
        "hrPrinterDetectedErrorState.1: expected an OCTET STRING",
        "prtMarkerSuppliesLevel.1.1: expected an integer, agent sent OctetString",
        "prtMarkerSuppliesMaxCapacity.1.1: expected an integer, agent sent ObjectIdentifier",
        "prtInputCurrentLevel.1.1: expected an integer",
    ):
        assert expected in text
    status = status_from_reading(reading)
    assert status.supplies.hopper_level == Level.unknown()
    assert status.supplies.hopper_capacity == Level.known(100)
    assert status.supplies.ribbon_remaining == Level.unknown()
    assert "problems=" in status.detail


def test_huge_table_is_capped_and_says_so(snmpsim: Snmpsim) -> None:
    reading = poll_once(snmpsim.uri("huge-table"), max_rows=50)
    assert len(reading.supplies) == 50
    assert any(
        "prtMarkerSuppliesTable: more rows than the limit of 50" in p for p in reading.problems
    )


@pytest.mark.parametrize("community", ["card-printer", "laser-sentinels", "faults"])
def test_v1_getnext_matches_v2c_getbulk(snmpsim: Snmpsim, community: str) -> None:
    bulk = poll_once(snmpsim.uri(community))
    uri = f"snmp://127.0.0.1:{snmpsim.port}?version=1&community={community}"
    walk = poll_once(uri)
    assert walk.method == "getnext"
    assert (walk.supplies, walk.inputs, walk.covers, walk.alerts, walk.error_bits) == (
        bulk.supplies,
        bulk.inputs,
        bulk.covers,
        bulk.alerts,
        bulk.error_bits,
    )


def test_small_max_repetitions_reads_the_same(snmpsim: Snmpsim) -> None:
    one = poll_once(snmpsim.uri("card-printer"), max_repetitions=1)
    many = poll_once(snmpsim.uri("card-printer"))
    assert one.supplies == many.supplies
