"""What a driver promises the dispatcher: the contract between queue and printer.

A driver *has* a transport (never is one). Calls block; the dispatcher runs them in a worker
thread. The outcome of a card is explicit: "sent" is never "printed".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PIL.Image import Image

    from printd.drivers.status import Condition, Identity, PrinterStatus


class Outcome(StrEnum):
    PRINTED = "printed"  # the printer confirmed the card left through the output
    SPOILED = "spoiled"  # a blank was consumed without a good card
    UNKNOWN = "unknown"  # a blank may have been fed and we cannot tell what became of it


@dataclass(frozen=True, slots=True)
class CardRequest:
    """One card to print. Images are RGB, 1016 × 648 (CR-80 at 300 dpi, landscape)."""

    job_id: str
    front: Image
    back: Image | None
    ribbon_type: str


@dataclass(frozen=True, slots=True)
class PrintResult:
    outcome: Outcome
    reason: str | None = None  # spoil reason (label value), or why the outcome is unknown
    # A condition the printer is left in after this card (a jam, the ribbon ran out):
    # the dispatcher pauses the printer until it clears.
    condition: Condition | None = None
    ribbon_prints: int = 0  # prints this card took from the ribbon (DESIGN §3)


class CardDriver(Protocol):
    """A card printer, as the dispatcher sees it.

    `print_card` raises `NeedsOperator` or `TransportError` only when no blank was fed (the job
    keeps its place); once a blank may have moved it returns a `PrintResult` instead.
    `JobError` means the request itself cannot be printed.
    """

    def connect(self) -> Identity: ...

    def status(self) -> PrinterStatus: ...

    def prepare(self, card: CardRequest) -> None:
        """Optional work ahead of time (rasterising); `print_card` must not depend on it."""

    def print_card(self, card: CardRequest) -> PrintResult: ...

    def close(self) -> None: ...
