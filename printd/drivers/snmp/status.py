"""Map an SNMP reading onto the common status model, and merge it with the USB view.

The USB command set is the printer speaking for itself; SNMP is a second opinion (and the
only one when USB is busy printing). So USB wins for state and conditions, SNMP fills in
supplies USB could not read, and every disagreement is named so it can be counted.
"""

from __future__ import annotations

import re
from dataclasses import replace

import printd.drivers.snmp.mib as mib  # noqa: PLR0402  (a from-import of the package would import its facade, a circle)
from printd.drivers.snmp.reading import InputRow, SnmpReading, SupplyRow
from printd.drivers.status import (
    Condition,
    Level,
    LevelKind,
    PrinterState,
    PrinterStatus,
    Supplies,
)

# Error-state bits that need a person. Low-supply warnings (lowPaper, lowToner,
# outputNearFull) and overduePreventMaint are kept in `detail` only: printing continues.
BIT_CONDITIONS: dict[str, Condition] = {
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
_UNIT_PERCENT = 19
# Ribbon codes as the Evolis command set names them (docs/evolis-protocol.md), longest first
# so "ymckok" is not read as "ymcko".
_RIBBON_CODES = ("ymckoks", "ymckok", "ymckos", "ymcko", "kbl", "kgr", "kgo", "ksi", "ksc")
_RIBBON_CODES_SHORT = ("ko", "kb", "kw", "kr", "k")
_WORD = re.compile(r"[A-Za-z]+")


def ribbon_row(reading: SnmpReading) -> SupplyRow | None:
    """The ribbon: an inkRibbon/ribbonWax row, else the first supply that is consumed."""
    for row in reading.supplies:
        if row.is_ribbon:
            return row
    for row in reading.supplies:
        if row.supply_class == mib.SUPPLY_CLASS_CONSUMED:
            return row
    return None


def hopper_row(reading: SnmpReading) -> InputRow | None:
    """The input the reading chose as the card hopper; None when it could not tell."""
    return reading.hopper


def ribbon_code(description: str) -> str | None:
    """A ribbon code named in a supply description ("YMCKO ribbon" → "ymcko"), if any."""
    for word in _WORD.findall(description.lower()):
        if word in _RIBBON_CODES or word in _RIBBON_CODES_SHORT:
            return str(word)
    return None


def _supplies(reading: SnmpReading) -> Supplies:
    hopper = hopper_row(reading)
    ribbon = ribbon_row(reading)
    ribbon_level, ribbon_capacity, ribbon_type = Level.unknown(), Level.unknown(), None
    if ribbon is not None:
        ribbon_type = ribbon_code(ribbon.description or "")
        if ribbon.unit != _UNIT_PERCENT:  # a percentage is not a count of prints
            ribbon_level, ribbon_capacity = ribbon.level, ribbon.capacity
    return Supplies(
        hopper_level=hopper.level if hopper else Level.unknown(),
        hopper_capacity=hopper.capacity if hopper else Level.unknown(),
        ribbon_type=ribbon_type,
        ribbon_capacity=ribbon_capacity,
        ribbon_remaining=ribbon_level,
    )


def _is_zero(level: Level) -> bool:
    return level.kind is LevelKind.KNOWN and level.value == 0


def conditions_of(reading: SnmpReading) -> frozenset[Condition]:
    found = {BIT_CONDITIONS[b] for b in reading.error_bits if b in BIT_CONDITIONS}
    if any(cover.is_open for cover in reading.covers):
        found.add(Condition.COVER_OPEN)
    # Agents that never set the error bits still report levels: an empty hopper or ribbon
    # at a known zero, or a full reject receptacle, stops printing all the same.
    hopper = hopper_row(reading)
    if hopper is not None and _is_zero(hopper.level):
        found.add(Condition.HOPPER_EMPTY)
    ribbon = ribbon_row(reading)
    if ribbon is not None and _is_zero(ribbon.level):
        found.add(Condition.RIBBON_OUT)
    for row in reading.supplies:
        if row.is_receptacle and row.remaining_fraction == 0.0:
            found.add(Condition.REJECT_BOX_FULL)
    return frozenset(found)


def _state(reading: SnmpReading, conditions: frozenset[Condition]) -> PrinterState:
    if conditions - {Condition.OFFLINE}:
        return PrinterState.NEEDS_OPERATOR
    if Condition.OFFLINE in conditions:
        return PrinterState.OFFLINE
    printer = reading.printer_status
    if printer == 3:
        return PrinterState.IDLE
    if printer == 4:
        return PrinterState.PRINTING
    # other(1), unknown(2), warmup(5) or absent: the device status decides.
    device = reading.device_status
    if printer == 5:
        return PrinterState.UNKNOWN  # warming up: not ready, not faulted
    if device in (2, 3):  # running, warning (warnings are low supplies)
        return PrinterState.IDLE
    if device == 4:
        return PrinterState.PRINTING  # testing: busy with itself
    if device == 5:
        return PrinterState.OFFLINE
    return PrinterState.UNKNOWN


def _detail(reading: SnmpReading) -> str:
    parts = [
        f"hrDeviceStatus={reading.device_status_name or '-'}",
        f"hrPrinterStatus={reading.printer_status_name or '-'}",
        f"errorState={reading.error_state.hex() if reading.error_state is not None else '-'}",
    ]
    if reading.error_bits:
        parts.append("bits=" + ",".join(sorted(reading.error_bits)))
    open_covers = [
        c.description or ".".join(map(str, c.index)) for c in reading.covers if c.is_open
    ]
    if open_covers:
        parts.append("open=" + ",".join(open_covers))
    if reading.problems:
        parts.append(f"problems={len(reading.problems)}")
    return " ".join(parts)


def status_from_reading(reading: SnmpReading) -> PrinterStatus:
    conditions = conditions_of(reading)
    return PrinterStatus(
        state=_state(reading, conditions),
        conditions=conditions,
        supplies=_supplies(reading),
        source="snmp",
        detail=_detail(reading),
    )


def _merge_level(name: str, usb: Level, snmp: Level, disagreements: list[str]) -> Level:
    if usb.kind is LevelKind.KNOWN and snmp.kind is LevelKind.KNOWN and usb.value != snmp.value:
        disagreements.append(name)
    return snmp if usb.kind is LevelKind.UNKNOWN else usb


def merge_status(
    usb: PrinterStatus | None, snmp: PrinterStatus | None
) -> tuple[PrinterStatus, list[str]]:
    """USB wins for state and conditions; SNMP fills unknown supplies.

    The list names each field the two sources disagree on (`state`, `condition:<name>`,
    `hopper_level`, …): short, bounded strings fit for a metric label.
    """
    if usb is None:
        if snmp is None:
            return PrinterStatus(state=PrinterState.UNKNOWN, source="none"), []
        return snmp, []
    if snmp is None:
        return usb, []
    disagreements: list[str] = []
    if usb.state != snmp.state:
        disagreements.append("state")
    disagreements.extend(f"condition:{c.value}" for c in sorted(usb.conditions ^ snmp.conditions))
    u, s = usb.supplies, snmp.supplies
    supplies = Supplies(
        hopper_level=_merge_level("hopper_level", u.hopper_level, s.hopper_level, disagreements),
        hopper_capacity=_merge_level(
            "hopper_capacity", u.hopper_capacity, s.hopper_capacity, disagreements
        ),
        ribbon_type=u.ribbon_type or s.ribbon_type,
        ribbon_capacity=_merge_level(
            "ribbon_capacity", u.ribbon_capacity, s.ribbon_capacity, disagreements
        ),
        ribbon_remaining=_merge_level(
            "ribbon_remaining", u.ribbon_remaining, s.ribbon_remaining, disagreements
        ),
    )
    if u.ribbon_type and s.ribbon_type and u.ribbon_type != s.ribbon_type:
        disagreements.append("ribbon_type")
    return replace(usb, supplies=supplies), disagreements
