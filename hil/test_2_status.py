"""Status, supplies and counters: readable, and the same over USB and over SNMP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hil.rig import Rig
from printd.drivers.snmp import merge_status
from printd.drivers.status import Level, LevelKind, PrinterState


def _level(level: Level) -> object:
    return level.value if level.kind is LevelKind.KNOWN else level.kind.value


@pytest.mark.needs("snmp")
def test_status_and_supplies_agree_over_usb_and_snmp(
    printer: Rig, figures: Callable[..., None]
) -> None:
    usb = printer.printer_status()
    snmp = printer.snmp_status()
    assert snmp is not None
    _, disagreements = merge_status(usb, snmp)
    figures(
        usb_state=usb.state.value,
        snmp_state=snmp.state.value,
        usb_ribbon=f"{usb.supplies.ribbon_type} {_level(usb.supplies.ribbon_remaining)}",
        snmp_ribbon=f"{snmp.supplies.ribbon_type} {_level(snmp.supplies.ribbon_remaining)}"
        f"/{_level(snmp.supplies.ribbon_capacity)}",
        usb_hopper=_level(usb.supplies.hopper_level),
        snmp_hopper=f"{_level(snmp.supplies.hopper_level)}/{_level(snmp.supplies.hopper_capacity)}",
        disagreements=",".join(disagreements) or "none",
    )
    assert snmp.state is not PrinterState.OFFLINE, f"the SNMP agent does not answer: {snmp.detail}"
    assert not disagreements, f"USB and SNMP disagree on {disagreements}: {usb} vs {snmp}"
    # The feeder sensor says only "cards" or "empty"; a counted hopper must say the same.
    usb_empty = usb.supplies.hopper_level == Level.known(0)
    snmp_hopper = snmp.supplies.hopper_level
    if snmp_hopper.kind is LevelKind.KNOWN:
        assert usb_empty == (snmp_hopper.value == 0), (usb.supplies, snmp.supplies)


def test_counters_are_readable(printer: Rig, figures: Callable[..., None]) -> None:
    counters = printer.counters()
    figures(**counters.as_figures("now"))
    assert counters.cards_inserted is not None, "Rco;c unreadable"
    assert counters.cards_inserted >= 0
    assert counters.panels_printed is not None, "Rco;p unreadable"
    assert counters.panels_printed >= 0
    witness = printer.hands.witness()
    if witness is not None:
        assert counters.cards_inserted == witness.cards_inserted
        assert counters.panels_printed == witness.panels_printed
        assert counters.ribbon_remaining == witness.ribbon_remaining
        assert counters.hopper == witness.hopper
