"""Cards the suite prints and the ledger rule each must follow (DESIGN §3)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from PIL import Image

from hil.rig import Counters, Rig
from printd.drivers.base import CardRequest, PrintResult


def ribbon_prints_for(ribbon_type: str, front: bool, back: bool, back_is_mono: bool) -> int:
    """Prints (panel sets) one card takes from a ribbon, as DESIGN §3 writes the rule: the
    suite's own statement of it, to hold the driver and the printer's counters against."""
    sides = int(front) + int(back)
    if ribbon_type == "ymckok" and back and back_is_mono:
        return 1
    return sides


def installed_ribbon(rig: Rig) -> str:
    ribbon = rig.printer_status().supplies.ribbon_type
    if ribbon is None:
        raise AssertionError("the printer reports no ribbon: install one and run again")
    return ribbon


def card_request(cards: dict[str, Image.Image], ribbon: str, *, duplex: bool) -> CardRequest:
    # A job id per attempt, as the queue would give; no holder data at all.
    return CardRequest(
        job_id=f"hil-{time.time_ns()}",
        front=cards["front"],
        back=cards["back"] if duplex else None,
        ribbon_type=ribbon,
    )


@dataclass(frozen=True, slots=True)
class Printed:
    result: PrintResult
    before: Counters
    after: Counters
    expected_prints: int  # printd's ledger rule for this card

    def moved(self, name: str) -> int | None:
        first, last = getattr(self.before, name), getattr(self.after, name)
        return None if first is None or last is None else last - first

    def figures(self) -> dict[str, object]:
        return {
            "outcome": self.result.outcome.value,
            "reason": self.result.reason,
            "ledger_rule_prints": self.expected_prints,
            "driver_ribbon_prints": self.result.ribbon_prints,
            "cards_inserted_delta": self.moved("cards_inserted"),
            "panels_printed_delta": self.moved("panels_printed"),
            "ribbon_remaining_delta": self.moved("ribbon_remaining"),
            "hopper_delta": self.moved("hopper"),
            **self.before.as_figures("before"),
            **self.after.as_figures("after"),
        }


def print_and_count(rig: Rig, request: CardRequest) -> Printed:
    """Print one card between two read-outs of the printer's own counters."""
    back_is_mono = True  # the back test card is black only, as a KTP-el back is
    expected = ribbon_prints_for(
        request.ribbon_type.lower(), True, request.back is not None, back_is_mono
    )
    before = rig.counters()
    result = rig.driver.print_card(request)
    after = rig.counters()
    return Printed(result, before, after, expected)


def assert_ledger_moves(printed: Printed, *, blanks: int = 1) -> None:
    """The printer's counters moved exactly as printd's ledger books the card."""
    assert printed.result.ribbon_prints == printed.expected_prints, (
        f"the driver reports {printed.result.ribbon_prints} ribbon prints for this card, "
        f"the ledger rule says {printed.expected_prints}"
    )
    assert printed.moved("cards_inserted") == blanks, (
        f"Rco;c moved by {printed.moved('cards_inserted')}, the ledger books {blanks} blank(s)"
    )
    used = printed.moved("ribbon_remaining")
    if used is not None:  # a printer that reports no count leaves the ledger as the only count
        assert -used == printed.expected_prints, (
            f"the printer's ribbon count fell by {-used}, the ledger books "
            f"{printed.expected_prints} print(s)"
        )
    hopper = printed.moved("hopper")
    if hopper is not None:
        assert -hopper == blanks, f"the hopper fell by {-hopper}, the ledger books {blanks}"
