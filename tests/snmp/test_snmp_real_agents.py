"""The poller against agents shaped like real printers' (RFC 3805 / RFC 2790), via snmpsim.

tests/data/multi-tray.snmprec: three inputs at sparse indexes 1, 3, 7; the hand-fed slot is
first and the card hopper is row 3. no-printer-table.snmprec: the printer is device 3 of
hrDeviceTable (beside a CPU and a network card) and there is no hrPrinterTable.
missing-columns.snmprec: supply rows without description, type or class, an input without
a name. Each publishes prtGeneralSerialNumber.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from snmp_support import Snmpsim, poll_once

from printd.cli.probe import main
from printd.drivers.snmp import InputRow, SupplyRow, status_from_reading
from printd.drivers.snmp.reading import choose_hopper
from printd.drivers.status import Level, PrinterState


def cells(out: list[str], section: str, next_section: str) -> list[list[str]]:
    """The rows of one table in `printd probe`'s text view, split at its column gaps."""
    rows = out[out.index(section) + 1 : out.index(next_section)]
    return [re.split(r"\s{2,}", row.strip()) for row in rows]


HOPPER_ROW = InputRow(
    (1, 3),
    "Feeder",
    Level.known(100),
    Level.known(64),
    input_type=4,
    media_name="CR-80 PVC card",
    description="Card hopper",
)


def test_multi_tray_hopper_is_the_card_input_not_the_first(snmpsim: Snmpsim) -> None:
    reading = poll_once(snmpsim.uri("multi-tray"))
    assert reading.problems == ()
    assert reading.serial_number == "MT-0042-7"
    assert reading.device_index == (1,)
    assert reading.inputs == (
        InputRow(
            (1, 1),
            "Manual slot",
            Level.known(1),
            Level.known(0),
            input_type=5,
            media_name="CR-80 PVC card",
            description="Single card feed by hand",
        ),
        HOPPER_ROW,
        InputRow(
            (1, 7),
            "Aux",
            Level.known(50),
            Level.from_mib(-3),
            input_type=3,
            media_name="",
            description="Auxiliary feeder",
        ),
    )
    assert (reading.hopper_index, reading.hopper_reason) == ((1, 3), None)
    assert reading.hopper == HOPPER_ROW
    status = status_from_reading(reading)
    # The empty hand-fed slot (row 1) is not an empty hopper.
    assert status.conditions == frozenset()
    assert status.state is PrinterState.IDLE
    assert (status.supplies.hopper_level, status.supplies.hopper_capacity) == (
        Level.known(64),
        Level.known(100),
    )


def test_multi_tray_configured_hopper_input(snmpsim: Snmpsim) -> None:
    reading = poll_once(snmpsim.uri("multi-tray", "&hopper_input=7"))
    assert (reading.hopper_index, reading.hopper_reason) == ((1, 7), None)
    assert status_from_reading(reading).supplies.hopper_level == Level.from_mib(-3)


def test_multi_tray_configured_input_the_agent_lacks_is_unknown(snmpsim: Snmpsim) -> None:
    reading = poll_once(snmpsim.uri("multi-tray", "&hopper_input=5"))
    assert reading.hopper_index is None
    assert reading.hopper_reason == (
        "hopper_input=5 names no prtInputTable row (the agent lists: 1, 3, 7)"
    )
    supplies = status_from_reading(reading).supplies
    assert (supplies.hopper_level, supplies.hopper_capacity) == (Level.unknown(), Level.unknown())


def test_multi_tray_text_view_keeps_each_supply_class(
    snmpsim: Snmpsim, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([snmpsim.uri("multi-tray")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "serial      MT-0042-7" in out
    assert "hopper      input 1.3: 64 / 100 blanks" in out
    assert cells(out, "supplies", "inputs") == [
        ["index", "class", "type", "description", "level", "max", "unit", "share"],
        [
            "1.1",
            "supplyThatIsConsumed",
            "inkRibbon",
            "YMCKO ribbon",
            "120",
            "300",
            "impressions",
            "40% left",
        ],
        # A reject box 18 of 20 full is a receptacle filling up, not a consumable running low.
        [
            "1.2",
            "receptacleThatIsFilled",
            "wastePaper",
            "Reject box",
            "18",
            "20",
            "items",
            "90% full",
        ],
    ]


def test_device_index_from_hr_device_table_without_hr_printer_table(snmpsim: Snmpsim) -> None:
    reading = poll_once(snmpsim.uri("no-printer-table"))
    assert reading.problems == ()
    assert "hrPrinterTable" in reading.absent_tables
    assert reading.device_index == (3,)
    # Device 3's own status (warning), not the CPU's (running) or the network card's (down).
    assert (reading.device_status, reading.printer_status, reading.error_state) == (3, None, None)
    assert reading.serial_number == "NPT-3003"
    assert [(i.index, i.name, i.level) for i in reading.inputs] == [
        ((3, 1), "Card hopper", Level.known(12))
    ]
    assert reading.hopper_index == (3, 1)
    assert reading.life_count == 777
    status = status_from_reading(reading)
    assert status.state is PrinterState.IDLE
    assert (status.supplies.ribbon_type, status.supplies.ribbon_remaining) == (
        "ymcko",
        Level.known(200),
    )


def test_absent_columns_are_absent(snmpsim: Snmpsim) -> None:
    reading = poll_once(snmpsim.uri("missing-columns"))
    assert reading.problems == ()
    assert reading.serial_number == "MC-1"
    assert reading.supplies == (
        SupplyRow((1, 1), None, None, 7, None, Level.known(400), Level.known(90)),
        SupplyRow((1, 2), 4, None, 18, None, Level.known(20), Level.known(19)),
        SupplyRow((1, 4), 3, 7, None, None, Level.known(300), Level.known(280)),
    )
    unclassed, waste, ribbon = reading.supplies
    assert (unclassed.class_name, unclassed.type_name, unclassed.unit_name) == (
        None,
        None,
        "impressions",
    )
    assert unclassed.remaining_fraction is None  # no class: 90 of 400 means nothing yet
    assert waste.remaining_fraction == pytest.approx(1 / 20)
    assert (ribbon.type_name, ribbon.unit_name) == ("inkRibbon", None)
    assert [(i.index, i.name, i.description, i.media_name) for i in reading.inputs] == [
        ((1, 1), None, None, None)
    ]
    assert [(c.index, c.description, c.status) for c in reading.covers] == [((1, 1), None, 4)]
    status = status_from_reading(reading)
    assert status.supplies.ribbon_type is None  # no description to read a ribbon code from
    assert status.supplies.ribbon_remaining == Level.known(280)


def test_absent_columns_text_view(snmpsim: Snmpsim, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([snmpsim.uri("missing-columns")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert cells(out, "supplies", "inputs") == [
        ["index", "class", "type", "description", "level", "max", "unit", "share"],
        ["1.1", "-", "-", "-", "90", "400", "impressions", "-"],
        ["1.2", "receptacleThatIsFilled", "-", "-", "19", "20", "items", "95% full"],
        ["1.4", "supplyThatIsConsumed", "inkRibbon", "-", "280", "300", "-", "93% left"],
    ]
    assert cells(out, "inputs", "covers") == [
        ["index", "name", "description", "media", "level", "max"],
        ["1.1 (hopper)", "-", "-", "-", "30", "100"],
    ]
    assert cells(out, "alerts", "not implemented by the agent: prtMarkerTable") == [
        ["index", "severity", "group", "code", "description"],
        ["1.1", "warning", "-", "-", "Ribbon low"],
    ]


def test_printctl_status_shows_the_serial_and_why_the_hopper_is_unknown(
    snmpsim: Snmpsim, make_daemon: Any
) -> None:
    device = "sim://primacy?print_seconds=0.05"
    daemon = make_daemon(device=device)
    uri = snmpsim.uri("multi-tray", "&hopper_input=5")
    text = daemon.config.read_text().replace(
        f'device = "{device}"',
        f'device = "{device}"\nstatus = "{uri}"\nstatus_interval_seconds = 1',
    )
    daemon.config.write_text(text)
    daemon.start()

    def polled() -> Any:
        snmp = daemon.ctl_json("status")["printers"][0]["snmp"]
        return snmp if snmp and snmp["up"] else None

    snmp = daemon.wait_for(polled, what="the daemon's first SNMP reading")
    reason = "hopper_input=5 names no prtInputTable row (the agent lists: 1, 3, 7)"
    assert (snmp["serial"], snmp["hopper"], snmp["hopper_unknown_because"]) == (
        "MT-0042-7",
        None,
        reason,
    )
    human = daemon.ctl("status").stdout
    line = next(line for line in human.splitlines() if line.strip().startswith("SNMP"))
    assert "answering; hopper unknown," in line, line
    assert f"; cannot tell which input is the hopper: {reason}" in line, line
    assert "serial number MT-0042-7" in human, human


def _input(index: int, name: str | None, input_type: int | None = 4) -> InputRow:
    return InputRow((1, index), name, Level.known(100), Level.known(50), input_type=input_type)


def test_two_card_inputs_are_not_told_apart_by_guessing() -> None:
    inputs = (_input(2, "Card hopper A"), _input(5, "Card hopper B"), _input(9, "Manual card", 5))
    assert choose_hopper(inputs, None) == (
        None,
        "several inputs look like the card hopper (2, 5); set hopper_input=INDEX in the status URI",
    )
    assert choose_hopper(inputs, 5) == ((1, 5), None)


def test_an_agent_without_inputs_has_no_hopper() -> None:
    assert choose_hopper((), None) == (None, "the agent lists no input (prtInputTable)")
    assert choose_hopper((_input(4, None),), None) == ((1, 4), None)  # one input, even unnamed
