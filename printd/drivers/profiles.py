"""Printer capabilities as typed, frozen data (CONVENTIONS 5): no I/O, no lookups at import.

A profile says what a model can do; drivers read it instead of branching on model names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class StatusSource(StrEnum):
    """Where a printer's status and supplies can be read from."""

    COMMAND_SET = "command_set"  # the printer's own read commands over the data link (Evolis R…)
    USB_PORT_STATUS = "usb_port_status"  # the USB printer-class port status byte
    SNMP = "snmp"  # Printer-MIB / Host Resources MIB over the network


@dataclass(frozen=True, slots=True)
class PanelGeometry:
    """One ribbon panel as the print head sees it: dots across the head x lines along the card."""

    dots: int
    lines: int

    @property
    def bytes_per_line_1bit(self) -> int:
        return (self.dots + 7) // 8


@dataclass(frozen=True, slots=True)
class Profile:
    model: str
    dpi: int
    panel: PanelGeometry
    # The image a job supplies, landscape (width x height), before rotation to panel geometry.
    card_width_px: int
    card_height_px: int
    ribbon_types: frozenset[str]
    duplex: bool
    status_sources: frozenset[StatusSource]
    colour_levels: int = 32  # grey levels sent per Y/M/C dot

    def supports_ribbon(self, ribbon_type: str) -> bool:
        return ribbon_type.lower() in self.ribbon_types


EVOLIS_RIBBONS = frozenset(
    {"ymcko", "ymckos", "ymckok", "ko", "k", "kb", "kw", "kr", "kbl", "kgr", "kgo", "ksi", "ksc"}
)

PRIMACY = Profile(
    model="Evolis Primacy",
    dpi=300,
    panel=PanelGeometry(dots=648, lines=1016),
    card_width_px=1016,
    card_height_px=648,
    ribbon_types=EVOLIS_RIBBONS,
    duplex=True,
    status_sources=frozenset({StatusSource.COMMAND_SET, StatusSource.USB_PORT_STATUS}),
)

# A printer driven through the raw passthrough (Fargo, Zebra, Entrust): we know nothing of its
# command set, so status comes only from SNMP.
GENERIC_RAW = Profile(
    model="generic raw card printer",
    dpi=300,
    panel=PanelGeometry(dots=648, lines=1016),
    card_width_px=1016,
    card_height_px=648,
    ribbon_types=frozenset({"ymcko", "ymckok", "ko", "k", "kb"}),
    duplex=True,
    status_sources=frozenset({StatusSource.SNMP}),
)
