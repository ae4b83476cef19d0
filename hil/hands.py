"""The operator's hands: one interface, two implementations.

A guided step ("open the cover") is performed by a technician at a real printer, who reads a
prompt on the terminal, or by the simulator's control channel on ``sim://``. Either way the
test then watches the printer through printd's own driver until the condition shows and
clears, so the same test body qualifies both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from printd.sim.control import SimControlClient
from printd.sim.evolis_model import SimSnapshot

SIM_RIBBON: Final = ("ymcko", 450)  # what a technician would load for a KTP-el run


@dataclass(frozen=True, slots=True)
class Step:
    """One thing a person does to the printer. ``prompt`` is what a technician reads;
    ``{cable}`` and ``{blanks}`` are filled in when the step is announced."""

    key: str
    prompt: str


OPEN_COVER: Final = Step("open_cover", "Open the printer's cover and leave it open.")
CLOSE_COVER: Final = Step("close_cover", "Close the printer's cover.")
UNPLUG: Final = Step("unplug", "Unplug the printer's {cable} cable (leave the printer on).")
REPLUG: Final = Step("replug", "Plug the printer's {cable} cable back in.")
EMPTY_HOPPER: Final = Step(
    "empty_hopper", "Take every blank out of the hopper (keep them: they go back in next)."
)
REFILL_HOPPER: Final = Step("refill_hopper", "Put the blanks back into the hopper.")
LOAD_BLANKS: Final = Step("load_blanks", "Load at least {blanks} blank card(s) into the hopper.")
INSTALL_RIBBON: Final = Step(
    "install_ribbon", "Install a ribbon (YMCKO for KTP-el cards) and close the cover."
)
EMPTY_REJECT_BOX: Final = Step("empty_reject_box", "Empty the reject box.")
# Only the simulator can do this one (capability "forced_reject"); the prompt is never shown.
FORCE_REJECT: Final = Step("force_reject", "Make the next card go to the reject box.")


class Hands(Protocol):
    """Who performs guided steps. ``witness`` is the printer's own truth when it is known
    (the simulator), to tell a driver fault from a step that was not done."""

    @property
    def kind(self) -> str: ...

    def perform(self, step: Step, *, blanks: int = 1) -> None: ...

    def witness(self) -> SimSnapshot | None: ...


class SimulatorHands:
    """Performs each step through the simulator's control channel (JSON over a socket)."""

    kind = "simulator control channel"

    def __init__(self, control: SimControlClient) -> None:
        self._control = control
        self._taken_out = 0  # blanks removed by EMPTY_HOPPER, put back by REFILL_HOPPER

    def perform(self, step: Step, *, blanks: int = 1) -> None:
        snapshot = self._control.snapshot()
        if step is EMPTY_HOPPER:
            self._taken_out = snapshot.hopper
            if snapshot.hopper:
                self._control.unload_blanks(snapshot.hopper)
        elif step is REFILL_HOPPER:
            self._control.load_blanks(max(self._taken_out, 1))
            self._taken_out = 0
        elif step is LOAD_BLANKS:
            missing = blanks - snapshot.hopper
            if missing > 0:
                self._control.load_blanks(missing)
        elif step is INSTALL_RIBBON:
            self._control.install_ribbon(*SIM_RIBBON)
            self._control.close_cover()
        else:
            actions: dict[str, Callable[[], None]] = {
                OPEN_COVER.key: self._control.open_cover,
                CLOSE_COVER.key: self._control.close_cover,
                UNPLUG.key: self._control.unplug,
                REPLUG.key: self._control.replug,
                EMPTY_REJECT_BOX.key: self._control.empty_reject_box,
                FORCE_REJECT.key: lambda: self._control.inject("reject"),
            }
            actions[step.key]()

    def witness(self) -> SimSnapshot:
        return self._control.snapshot()


class TechnicianHands:
    """Asks the technician at the printer; ``say`` writes to their terminal even while pytest
    captures output. The step is done when the driver sees it, not when a key is pressed."""

    kind = "technician"

    def __init__(self, say: Callable[[str], None], cable: str, timeout: float) -> None:
        self._say = say
        self._cable = cable
        self._timeout = timeout
        self._count = 0

    def perform(self, step: Step, *, blanks: int = 1) -> None:
        self._count += 1
        text = step.prompt.format(cable=self._cable, blanks=blanks)
        self._say(
            f"\n>>> STEP {self._count}: {text}\n"
            f"    (printd is watching the printer; waiting up to {self._timeout:.0f} s)"
        )

    def witness(self) -> None:
        return None
