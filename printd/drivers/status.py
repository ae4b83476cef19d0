"""The printer-status and supplies model every source maps into (USB driver, SNMP poller).

The dispatcher and the metrics read only this model, so they cannot tell where a reading came
from. "Unknown" is always explicit (None or a Level sentinel), never a guessed number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class PrinterState(StrEnum):
    IDLE = "idle"
    PRINTING = "printing"
    NEEDS_OPERATOR = "needs_operator"  # a condition below stops printing until a human acts
    OFFLINE = "offline"  # not reachable (unplugged, powered off, no answer)
    UNKNOWN = "unknown"


class Condition(StrEnum):
    """Conditions that need a person. Values are metric label values and API strings."""

    COVER_OPEN = "cover_open"
    HOPPER_EMPTY = "hopper_empty"
    RIBBON_OUT = "ribbon_out"  # the installed ribbon reached its end mark
    RIBBON_MISSING = "ribbon_missing"
    RIBBON_WRONG = "ribbon_wrong"  # installed ribbon is not the type the job or config needs
    JAM = "jam"
    REJECT_BOX_FULL = "reject_box_full"
    OFFLINE = "offline"
    SERVICE_REQUESTED = "service_requested"


# What the person at the printer does about each condition (shown by `printctl status`).
OPERATOR_HINTS: dict[Condition, str] = {
    Condition.COVER_OPEN: "close the printer's cover",
    Condition.HOPPER_EMPTY: "load blanks and record them with `printctl blanks load N`",
    Condition.RIBBON_OUT: "change the ribbon and record it with `printctl ribbon install --type T`",
    Condition.RIBBON_MISSING: "install a ribbon and record it with `printctl ribbon install`",
    Condition.RIBBON_WRONG: "install a ribbon of the type this printer is set up for",
    Condition.JAM: "open the printer, take out the jammed card (it counts as spoiled), close it",
    Condition.REJECT_BOX_FULL: "empty the reject box",
    Condition.OFFLINE: "check the printer's power and cable",
    Condition.SERVICE_REQUESTED: "call a technician",
}


def describe_conditions(conditions: frozenset[Condition] | set[Condition]) -> str:
    return "; ".join(f"{c.replace('_', ' ')}: {OPERATOR_HINTS[c]}" for c in sorted(conditions))


class LevelKind(StrEnum):
    """RFC 3805 level semantics: a number, or one of the sentinels, never a guess."""

    KNOWN = "known"
    UNRESTRICTED = "unrestricted"  # -1: other / no restriction
    UNKNOWN = "unknown"  # -2
    SOME_REMAINING = "some_remaining"  # -3: at least one unit remains


@dataclass(frozen=True, slots=True)
class Level:
    kind: LevelKind
    value: int | None = None

    @classmethod
    def known(cls, value: int) -> Level:
        return cls(LevelKind.KNOWN, value)

    @classmethod
    def unknown(cls) -> Level:
        return cls(LevelKind.UNKNOWN)

    @classmethod
    def from_mib(cls, raw: int) -> Level:
        """Map a Printer-MIB level or capacity integer, sentinels included."""
        if raw >= 0:
            return cls(LevelKind.KNOWN, raw)
        return {
            -1: cls(LevelKind.UNRESTRICTED),
            -3: cls(LevelKind.SOME_REMAINING),
        }.get(raw, cls(LevelKind.UNKNOWN))


@dataclass(frozen=True, slots=True)
class Supplies:
    hopper_level: Level = field(default_factory=Level.unknown)
    hopper_capacity: Level = field(default_factory=Level.unknown)
    ribbon_type: str | None = None  # lower-case ribbon code, e.g. "ymcko", "k"
    ribbon_capacity: Level = field(default_factory=Level.unknown)  # prints
    ribbon_remaining: Level = field(default_factory=Level.unknown)  # prints


@dataclass(frozen=True, slots=True)
class Identity:
    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    state: PrinterState
    conditions: frozenset[Condition] = frozenset()
    supplies: Supplies = field(default_factory=Supplies)
    source: str = "usb"  # "usb" (the printer's own command set), "snmp", …
    detail: str = ""  # the raw status words, for logs and `printctl status`
    commands: str = ""  # which probed commands the firmware answers, for `printctl status`

    @property
    def ready(self) -> bool:
        return self.state in (PrinterState.IDLE, PrinterState.PRINTING) and not self.conditions
