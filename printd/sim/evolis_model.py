"""``SimPrinter``: a thread-safe model of an Evolis Primacy-class card printer.

Written from docs/evolis-protocol.md (assumptions A1..A10), never from the driver. The host side
writes command bytes with ``write`` and reads replies with ``read``; the operator's hands
(``load_blanks``, ``open_cover``, …) and fault injection (``inject``) act on the same state, and
``snapshot`` shows all of it. Every command and its reply is one row of ``REPLY_TABLE``; every
condition that stops a card is one row of ``CONDITIONS``.

Mechanics:

- ``Ss`` feeds a blank from the hopper, or answers its firmware's word for the condition (``ERR
  FEEDER EMPTY``, or bare ``FEEDER EMPTY`` on older firmware; ``printd.sim.firmware``) and moves
  nothing (A4). Commands it does not know, ``Rst`` among them, answer ``ERROR CDE``.
- ``Se`` answers once the card has left the printer, ``print_seconds`` after it arrives (A5);
  commands written meanwhile wait, and are answered in order after it (A1).
- Ribbon use per card (DESIGN §3): one print per printed side, except YMCKOK with a K-only back
  (one print for the card). A card that needs more prints than are left ends the ribbon: it goes
  to the reject box with ``ERR RIBBON ENDED``.
- Operator actions during a card (cover, hopper) take effect on the next one; a ribbon removed
  during a card ends it as ``ERR RIBBON ENDED``.

Faults (``inject(name, **params)``); each fires once, then disarms:

- ``jam`` (``on_card=1``): the ``on_card``-th card fed from now jams after printing; ``Se``
  answers ``ERR MECHANICAL``, the card stays inside (``Rlr;p`` = ``CARD``) and the printer is in
  ERROR until ``clear_jam()``. The ribbon prints are used.
- ``ribbon_ends``: the ribbon runs out on the next card fed: ``Se`` answers ``ERR RIBBON
  ENDED``, the card goes to the reject box, prints left become 0.
- ``reject``: the next card fed is printed and rejected: ``ERR REJECTED``, reject box + 1.
- ``vanish_mid_card``: the link drops (as ``unplug()``) when the next card's ``Se`` arrives,
  before it answers; the printer itself finishes that card into the output tray.
- ``garbage``: the next reply is replaced by ``GARBAGE_REPLY`` (non-ASCII bytes ended by CR).
- ``silent``: the next command is carried out but gets no reply.
- ``slow`` (``seconds=S``): the next card takes S more seconds to finish.

The model knows nothing of USB, serial or TCP; the endpoints in this package carry its bytes.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from printd.sim.firmware import (
    BAD_PARAMETER,
    BAD_RIBBON,
    DEFAULT_FIRMWARE,
    NEED_CLEANING,
    UNKNOWN_COMMAND,
    firmware_named,
)
from printd.sim.framing import CommandFramer, Frame
from printd.sim.keeping import KeepingCondition, read_kept
from printd.sim.panels import Panel, PanelError, decode_compressed, decode_raw

READY: Final = "READY"
WARNING: Final = "WARNING"
ERROR: Final = "ERROR"
OFF: Final = "OFF"
_SEVERITY: Final = {READY: 0, WARNING: 1, ERROR: 2}

# Ribbon codes the printer recognises (Pr/Rr), with how a card uses prints (DESIGN §3).
# "k" is what the vendor's driver sends for a black ribbon (captures).
COLOUR_RIBBONS: Final = frozenset({"ymcko", "ymckos"})
COLOUR_K_BACK_RIBBONS: Final = frozenset({"ymckok"})
PER_SIDE_RIBBONS: Final = frozenset(
    {"ko", "k", "kb", "kw", "kr", "kbl", "kgr", "kgo", "ksi", "ksc"}
)
RIBBON_CODES: Final = COLOUR_RIBBONS | COLOUR_K_BACK_RIBBONS | PER_SIDE_RIBBONS

RIBBON_LOW_FRACTION: Final = 0.1  # INF_RIBBON_LOW at or below 10 % of capacity
FEEDER_NEAR_EMPTY: Final = 10  # INF_FEEDER_NEAR_EMPTY at or below this many blanks
GARBAGE_REPLY: Final = b"\xfe\x81?#\x07\x9c\r"
FEEDER_VOLTS: Final = ("0,00 Volts", "5,00 Volts")  # Rse;f: (empty, cards present)
SIDES: Final = ("front", "back")
HOST_LINK: Final = "host"  # the link name of callers that do not give one


@dataclass(frozen=True, slots=True)
class Condition:
    """A printer condition: its Rst minor (A3), its ERR name (A6) and the major it implies."""

    minor: str
    error: str | None  # None: informational, does not stop a card
    major: str


# Order matters: it is the order of Rst minors and of which condition Ss reports first.
CONDITIONS: Final[Mapping[str, Condition]] = {
    "cover_open": Condition("DEF_COVER_OPEN", "COVER OPEN", WARNING),
    "jammed": Condition("ERR_MECHANICAL", "MECHANICAL", ERROR),
    "no_ribbon": Condition("DEF_NO_RIBBON", "NO RIBBON", WARNING),
    "unsupported_ribbon": Condition("DEF_UNSUPPORTED_RIBBON", "UNSUPPORTED RIBBON", WARNING),
    "ribbon_ended": Condition("RIBBON_ENDED", "RIBBON ENDED", ERROR),
    "feeder_empty": Condition("FEEDER_EMPTY", "FEEDER EMPTY", ERROR),
    "reject_box_full": Condition("ERR_REJECT_BOX_FULL", "REJECT BOX FULL", ERROR),
    "output_full": Condition("ERR_HOPPER_FULL", "HOPPER FULL", ERROR),
    "card_on_eject": Condition("WAR_CARD_ON_EJECT", "CARD ON EJECT", ERROR),
    "ribbon_low": Condition("INF_RIBBON_LOW", None, READY),
    "feeder_near_empty": Condition("INF_FEEDER_NEAR_EMPTY", None, READY),
}

FAULTS: Final[Mapping[str, frozenset[str]]] = {
    "jam": frozenset({"on_card"}),
    "ribbon_ends": frozenset(),
    "reject": frozenset(),
    "vanish_mid_card": frozenset(),
    "garbage": frozenset(),
    "silent": frozenset(),
    "slow": frozenset({"seconds"}),
}


class PrinterUnpluggedError(ConnectionError):
    """The simulated printer is unplugged: nothing reaches it and nothing comes back."""


@dataclass(frozen=True, slots=True)
class PrintedCard:
    """The last card that finished: its outcome and its decoded panels per side.

    ``card["front"]["k"]`` is the panel as ``printd.sim.panels`` decodes it: bytes in line
    order, 1 bit per dot for K/O, one level byte per dot for Y/M/C.
    """

    number: int  # cards_inserted when it was fed
    outcome: str  # "ejected", "rejected", "ribbon_ended", "jammed"
    reply: str
    prints_used: int
    sides: Mapping[str, Mapping[str, Panel]]

    def __getitem__(self, side: str) -> Mapping[str, Panel]:
        return self.sides[side]


@dataclass(frozen=True, slots=True)
class SimSnapshot:
    """Everything the printer knows about itself at one instant."""

    model: str
    serial: str
    firmware: str
    plugged: bool
    state: str  # Rst major: READY, WARNING, ERROR
    minors: tuple[str, ...]
    hopper: int
    hopper_capacity: int
    ribbon_type: str | None
    ribbon_capacity: int | None
    ribbon_remaining: int | None
    reject_box: int
    reject_box_capacity: int
    cover_open: bool
    jammed: bool
    card_position: str  # "none", "printing", "jammed"
    printing: bool  # a card is inside between Ss and the end of Se
    cards_inserted: int
    panels_printed: int
    cards_ejected: int
    cards_rejected: int
    cards_jammed: int
    ribbon_prints_used: int
    error_management: int  # last Pem value
    pending_faults: tuple[str, ...]
    link_epoch: int  # bumps on unplug/power cycle: open handles from before are dead


@dataclass(slots=True)
class UsbAttachment:
    """USB-side state that belongs to the device, shared by every host that opens it."""

    kernel_driver_bound: bool = True
    claimed_by: object | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


@dataclass(slots=True)
class _Card:
    number: int
    side: str = "front"
    panels: dict[str, dict[str, Panel]] = field(default_factory=lambda: {s: {} for s in SIDES})
    downloads: int = 0
    jam: bool = False
    ribbon_ends: bool = False
    reject: bool = False
    vanish: bool = False
    extra_seconds: float = 0.0


@dataclass(slots=True)
class _Reply:
    data: bytes | None  # None while Se is still printing
    garbage: bool = False
    ready_at: float = 0.0  # monotonic time before which a waking printer keeps it back


@dataclass(slots=True)
class _Link:
    """One host interface: its partial command and its replies, in command order (A1)."""

    framer: CommandFramer = field(default_factory=CommandFramer)
    replies: deque[_Reply] = field(default_factory=deque)
    head_offset: int = 0
    closed: bool = False

    def take(self, max_bytes: int) -> bytes:
        out = bytearray()
        while self.replies and self.replies[0].data is not None and len(out) < max_bytes:
            data = self.replies[0].data
            chunk = data[self.head_offset : self.head_offset + max_bytes - len(out)]
            out += chunk
            self.head_offset += len(chunk)
            if self.head_offset >= len(data):
                self.replies.popleft()
                self.head_offset = 0
        return bytes(out)


class _Deferred:
    """Handler result: the reply comes when the card has left the printer."""


DEFERRED: Final = _Deferred()
Handler = Callable[["SimPrinter", Frame], "str | _Deferred"]


@dataclass(frozen=True, slots=True)
class ReplyRow:
    """One row of the reply table: a command, what it answers, and the assumption behind it."""

    command: str
    answers: str
    assumption: str
    handler: Handler


def prints_for_card(ribbon: str, panels: Mapping[str, Mapping[str, Panel]]) -> int:
    """Ribbon prints a card uses (DESIGN §3) given the panels downloaded per side."""
    front, back = panels.get("front", {}), panels.get("back", {})
    if ribbon in COLOUR_K_BACK_RIBBONS and front and back and set(back) <= {"k"}:
        return 1  # YMCKOK: the trailing K panel prints the back
    return sum(1 for side in (front, back) if side)


class SimPrinter:
    """A simulated Evolis Primacy-class printer (see the module docstring)."""

    def __init__(
        self,
        *,
        model: str = "Primacy",
        serial: str = "SIM000001",
        firmware: str = "1.0.0-sim",
        hopper: int = 100,
        hopper_capacity: int = 100,
        ribbon_type: str | None = "ymcko",
        ribbon_capacity: int = 450,
        ribbon_remaining: int | None = None,
        reject_box_capacity: int = 50,
        print_seconds: float = 0.0,
        firmware_profile: str = DEFAULT_FIRMWARE,
        state_file: Path | None = None,
    ) -> None:
        if not 0 <= hopper <= hopper_capacity:
            raise ValueError(
                f"hopper={hopper} must be between 0 and hopper_capacity={hopper_capacity}"
            )
        if reject_box_capacity < 1:
            raise ValueError(f"reject_box_capacity={reject_box_capacity} must be at least 1")
        if print_seconds < 0:
            raise ValueError(f"print_seconds={print_seconds} must not be negative")
        self.model = model
        self.serial = serial
        self.firmware = firmware
        self.profile = firmware_named(firmware_profile)
        self.print_seconds = print_seconds
        self.usb = UsbAttachment()
        self._cond = threading.Condition(threading.RLock())
        self._links: dict[str, _Link] = {}
        self._backlog: deque[tuple[_Link, Frame]] = deque()
        self._last_command_at: float | None = None  # None: just powered on, so in standby
        self._pending_reply: _Reply | None = None  # Se's reply slot while the card finishes
        self._hopper = hopper
        self._hopper_capacity = hopper_capacity
        self._ribbon_type: str | None = None
        self._ribbon_capacity: int | None = None
        self._ribbon_remaining: int | None = None
        if ribbon_type is not None:
            self._set_ribbon(ribbon_type, ribbon_capacity, ribbon_remaining)
        self._reject_box = 0
        self._reject_box_capacity = self.profile.reject_capacity or reject_box_capacity
        self._cover_open = False
        self._jammed = False
        self._plugged = True
        self._link_epoch = 0
        self._card: _Card | None = None
        self._finishing = False  # Se received, card not out yet
        self._timer: threading.Timer | None = None
        self._cards_inserted = 0
        self._panels_printed = 0
        self._cards_ejected = 0
        self._output_tray = 0  # printed cards in the output hopper
        self._card_at_eject = False  # a printed card waiting in the eject slot to be taken
        self._cards_rejected = 0
        self._cards_jammed = 0
        self._ribbon_prints_used = 0
        self._error_management = 0
        self._job_ribbon: str | None = None
        self._last_card: PrintedCard | None = None
        self._jam_countdown: int | None = None
        self._armed: set[str] = set()
        self._needs_cleaning = self.profile.cleaning_mandatory
        self._received: Counter[str] = Counter()  # commands by name, as the printer saw them
        self._slow_seconds = 0.0
        if state_file is not None:
            self._restore(read_kept(state_file))
            self._cond = KeepingCondition(threading.RLock(), self._kept, state_file)

    def _kept(self) -> dict[str, Any]:
        return {
            "hopper": self._hopper,
            "ribbon_type": self._ribbon_type,
            "ribbon_capacity": self._ribbon_capacity,
            "ribbon_remaining": self._ribbon_remaining,
            "reject_box": self._reject_box,
            "cover_open": self._cover_open,
            "jammed": self._jammed,
            "needs_cleaning": self._needs_cleaning,
        }

    def _restore(self, kept: Mapping[str, Any]) -> None:
        for name, value in kept.items():
            setattr(self, f"_{name}", value)

    # ------------------------------------------------------------------ host side
    def write(self, data: bytes, *, link: str = HOST_LINK) -> None:
        """Bytes from the host. Raises ``PrinterUnpluggedError`` when unplugged.

        ``link`` names the interface (``usb``, ``tcp``, ``pty``…): each has its own partial
        command and its own replies, as a printer answers on the port a command came in on.
        """
        with self._cond:
            self._require_plugged()
            port = self._link(link)
            self._backlog.extend((port, frame) for frame in port.framer.feed(bytes(data)))
            self._run_backlog()

    def read(self, max_bytes: int, timeout: float | None, *, link: str = HOST_LINK) -> bytes:
        """Up to ``max_bytes`` of reply bytes; waits up to ``timeout`` s (None: forever).

        Returns ``b""`` when nothing came in time; raises ``PrinterUnpluggedError`` when
        unplugged (also when unplugged while waiting).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                self._require_plugged()
                port = self._link(link)
                now = time.monotonic()
                head = port.replies[0] if port.replies else None
                if head is not None and head.data is not None and head.ready_at <= now:
                    return port.take(max_bytes)
                wait = None if deadline is None else deadline - now
                if wait is not None and wait <= 0:
                    return b""
                if head is not None and head.data is not None:
                    wait = head.ready_at - now if wait is None else min(wait, head.ready_at - now)
                self._cond.wait(wait)

    def device_id(self) -> bytes:
        """IEEE 1284 device id with its big-endian length prefix (A8)."""
        text = (
            f"MFG:Evolis;MDL:{self.model};CMD:EVOLIS;CLS:PRINTER;"
            f"DES:Evolis {self.model};SN:{self.serial};"
        ).encode("ascii")
        return (len(text) + 2).to_bytes(2, "big") + text

    def port_status(self) -> int:
        """1284 status byte: 0x20 paper empty, 0x10 selected, 0x08 not-error."""
        with self._cond:
            conditions = self._conditions()
            status = 0x10
            if self._hopper == 0:
                status |= 0x20
            if not any(CONDITIONS[name].error for name in conditions):
                status |= 0x08
            return status

    def soft_reset(self, link: str | None = None) -> None:
        """USB SOFT_RESET: drop partial input and unread replies of ``link`` (None: every
        link); the mechanics are untouched."""
        with self._cond:
            for name, port in list(self._links.items()):
                if link is None or name == link:
                    del self._links[name]
                    port.closed = True
            self._backlog = deque(item for item in self._backlog if not item[0].closed)

    # ------------------------------------------------------------------ operator's hands
    def load_blanks(self, n: int) -> None:
        with self._cond:
            if n < 1:
                raise ValueError(f"load_blanks({n}): load at least 1 blank")
            if self._hopper + n > self._hopper_capacity:
                raise ValueError(
                    f"load_blanks({n}): hopper holds {self._hopper} of {self._hopper_capacity}; "
                    f"at most {self._hopper_capacity - self._hopper} more fit"
                )
            self._hopper += n
            self._cond.notify_all()

    def unload_blanks(self, n: int) -> None:
        with self._cond:
            if not 1 <= n <= self._hopper:
                raise ValueError(f"unload_blanks({n}): the hopper holds {self._hopper} blanks")
            self._hopper -= n

    def open_cover(self) -> None:
        with self._cond:
            self._cover_open = True

    def close_cover(self) -> None:
        with self._cond:
            self._cover_open = False

    def clean(self) -> None:
        """The operator runs a cleaning card through the printer."""
        with self._cond:
            self._needs_cleaning = False

    def standby(self) -> None:
        """Time passes with no command: the printer drops into standby (INF_SLEEP_MODE)."""
        with self._cond:
            self._last_command_at = None

    def received(self, command: str) -> int:
        """How many `command` frames the printer has received since it was made."""
        with self._cond:
            return self._received[command]

    def clear_jam(self) -> None:
        """Pull the jammed card out (it is spoiled; counted in ``cards_jammed`` when it jammed)."""
        with self._cond:
            if not self._jammed:
                raise ValueError("clear_jam(): there is no jam to clear")
            self._jammed = False

    def empty_output_hopper(self) -> None:
        """The operator takes the printed cards out of the output hopper."""
        with self._cond:
            self._output_tray = 0

    def take_card(self) -> None:
        """The operator takes the printed card waiting in the eject slot."""
        with self._cond:
            self._card_at_eject = False

    def empty_reject_box(self) -> None:
        with self._cond:
            self._reject_box = 0

    def install_ribbon(self, ribbon_type: str, capacity: int, remaining: int | None = None) -> None:
        """Put a ribbon in. An unknown code is accepted, as a wrong ribbon would be: the
        printer then reports DEF_UNSUPPORTED_RIBBON."""
        with self._cond:
            self._set_ribbon(ribbon_type, capacity, remaining)

    def remove_ribbon(self) -> None:
        with self._cond:
            self._ribbon_type = self._ribbon_capacity = self._ribbon_remaining = None

    def unplug(self) -> None:
        """Pull the cable: the link drops, unread replies are lost, the mechanics carry on."""
        with self._cond:
            self._drop_link()
            self._plugged = False

    def replug(self) -> None:
        with self._cond:
            if not self._plugged:
                self._plugged = True
                self.usb = UsbAttachment()  # fresh enumeration: the kernel driver binds again
            self._cond.notify_all()

    def power_cycle(self) -> None:
        """Off and on: links reset (the cable stays as it is), a card inside (not jammed) goes
        to the reject box."""
        with self._cond:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._drop_link()
            self._abort_card()
            self.usb = UsbAttachment()
            self._cond.notify_all()

    # ------------------------------------------------------------------ faults and views
    def inject(self, fault: str, **params: Any) -> None:
        """Arm a fault (see the module docstring for what each does)."""
        allowed = FAULTS.get(fault)
        if allowed is None:
            raise ValueError(f"unknown fault {fault!r}: expected one of {', '.join(FAULTS)}")
        unexpected = set(params) - allowed
        if unexpected:
            raise ValueError(
                f"fault {fault!r} takes {sorted(allowed) or 'no parameters'}, "
                f"not {sorted(unexpected)}"
            )
        with self._cond:
            if fault == "jam":
                on_card = params.get("on_card", 1)
                if not isinstance(on_card, int) or on_card < 1:
                    raise ValueError(f"jam on_card={on_card!r}: expected a whole number >= 1")
                self._jam_countdown = on_card
            elif fault == "slow":
                seconds = params.get("seconds")
                if not isinstance(seconds, int | float) or seconds <= 0:
                    raise ValueError(f"slow seconds={seconds!r}: expected a number > 0")
                self._slow_seconds = float(seconds)
                self._armed.add(fault)
            else:
                self._armed.add(fault)

    def snapshot(self) -> SimSnapshot:
        with self._cond:
            conditions = self._conditions()
            major, minors = self._status(conditions)
            pending = sorted(self._armed | ({"jam"} if self._jam_countdown else set()))
            return SimSnapshot(
                model=self.model,
                serial=self.serial,
                firmware=self.firmware,
                plugged=self._plugged,
                state=major,
                minors=minors,
                hopper=self._hopper,
                hopper_capacity=self._hopper_capacity,
                ribbon_type=self._ribbon_type,
                ribbon_capacity=self._ribbon_capacity,
                ribbon_remaining=self._ribbon_remaining,
                reject_box=self._reject_box,
                reject_box_capacity=self._reject_box_capacity,
                cover_open=self._cover_open,
                jammed=self._jammed,
                card_position=self._card_position(),
                printing=self._card is not None,
                cards_inserted=self._cards_inserted,
                panels_printed=self._panels_printed,
                cards_ejected=self._cards_ejected,
                cards_rejected=self._cards_rejected,
                cards_jammed=self._cards_jammed,
                ribbon_prints_used=self._ribbon_prints_used,
                error_management=self._error_management,
                pending_faults=tuple(pending),
                link_epoch=self._link_epoch,
            )

    def last_card(self) -> PrintedCard | None:
        with self._cond:
            return self._last_card

    @property
    def plugged(self) -> bool:
        with self._cond:
            return self._plugged

    @property
    def link_epoch(self) -> int:
        with self._cond:
            return self._link_epoch

    # ------------------------------------------------------------------ internals
    def _require_plugged(self) -> None:
        if not self._plugged:
            raise PrinterUnpluggedError(f"printer {self.serial} is unplugged")

    def _set_ribbon(self, ribbon_type: str, capacity: int, remaining: int | None) -> None:
        if capacity < 1:
            raise ValueError(f"ribbon capacity={capacity} must be at least 1 print")
        left = capacity if remaining is None else remaining
        if not 0 <= left <= capacity:
            raise ValueError(f"ribbon remaining={remaining} must be between 0 and {capacity}")
        self._ribbon_type = ribbon_type
        self._ribbon_capacity = capacity
        self._ribbon_remaining = left

    def _link(self, name: str) -> _Link:
        port = self._links.get(name)
        if port is None:
            port = self._links[name] = _Link()
        return port

    def _drop_link(self) -> None:
        for port in self._links.values():
            port.closed = True
        self._links.clear()
        self._backlog.clear()
        self._pending_reply = None
        self._link_epoch += 1
        self._cond.notify_all()

    def _abort_card(self) -> None:
        card, self._card, self._finishing = self._card, None, False
        if card is not None:
            self._cards_rejected += 1
            self._reject_box += 1

    def _conditions(self) -> list[str]:
        remaining, capacity = self._ribbon_remaining, self._ribbon_capacity
        active = {
            "cover_open": self._cover_open,
            "jammed": self._jammed,
            "no_ribbon": self._ribbon_type is None,
            "unsupported_ribbon": self._ribbon_type is not None
            and self._ribbon_type not in RIBBON_CODES,
            "ribbon_ended": remaining == 0,
            "feeder_empty": self._hopper == 0,
            "reject_box_full": self._reject_box >= self._reject_box_capacity,
            "output_full": 0 < self.profile.output_capacity <= self._output_tray,
            "card_on_eject": self._card_at_eject,
            "ribbon_low": remaining is not None
            and capacity is not None
            and 0 < remaining <= capacity * RIBBON_LOW_FRACTION,
            "feeder_near_empty": 0 < self._hopper <= FEEDER_NEAR_EMPTY,
        }
        return [name for name in CONDITIONS if active[name]]

    def _status(self, conditions: list[str]) -> tuple[str, tuple[str, ...]]:
        rows = [CONDITIONS[name] for name in conditions]
        major = max((row.major for row in rows), key=_SEVERITY.__getitem__, default=READY)
        blocking = [row.minor for row in rows if row.error]
        info = [row.minor for row in rows if not row.error]
        if not blocking:
            blocking = ["INF_PRINTING_RUNNING" if self._card is not None else "PRINTER_READY"]
        return major, (*blocking, *info)

    def _card_position(self) -> str:
        if self._jammed:
            return "jammed"
        return "printing" if self._card is not None else "none"

    def _run_backlog(self) -> None:
        while self._backlog and not self._finishing and self._plugged:
            self._execute(*self._backlog.popleft())

    def _execute(self, port: _Link, frame: Frame) -> None:
        self._received[frame.name] += 1
        silent = "silent" in self._armed
        self._armed.discard("silent")
        garbage = "garbage" in self._armed and not silent
        if garbage:
            self._armed.discard("garbage")
        if frame.error is not None:
            result: str | _Deferred = BAD_PARAMETER if frame.error == "PARAM" else UNKNOWN_COMMAND
        else:
            row = REPLY_TABLE.get(frame.name)
            if row is None or frame.name in self.profile.refused:
                result = UNKNOWN_COMMAND
            else:
                result = row.handler(self, frame)
        if isinstance(result, _Deferred):
            # The slot is queued before the card can finish, so its reply lands in it, in order.
            self._last_command_at = time.monotonic()
            if not silent and self._plugged:
                self._pending_reply = _Reply(None, garbage)
                port.replies.append(self._pending_reply)
            self._launch_finish()
        elif not silent:
            data = GARBAGE_REPLY if garbage else result.encode() + b"\r"
            port.replies.append(_Reply(data, ready_at=self._wake_until(port)))
        self._cond.notify_all()

    def _wake_until(self, port: _Link) -> float:
        """When this reply may leave: late if the command woke the printer from standby."""
        now = time.monotonic()
        last = self._last_command_at
        self._last_command_at = now
        if self.profile.wake_seconds <= 0:
            return 0.0
        ready = max((reply.ready_at for reply in port.replies), default=0.0)  # command order
        if last is None or now - last >= self.profile.sleep_after_seconds:
            ready = max(ready, now + self.profile.wake_seconds)
        self._last_command_at = max(now, ready)  # idle counts from the answer, not the ask
        return ready

    # Command handlers: each returns the reply text (without CR) or DEFERRED.
    def _answer_identity(self, frame: Frame) -> str:
        return {"Rtp": self.model, "Rsn": self.serial, "Rfv": self.firmware}[frame.name]

    def _answer_ribbon(self, frame: Frame) -> str:
        return self._ribbon_type or "NO RIBBON"

    def _answer_counter(self, frame: Frame) -> str:
        which = frame.params[0] if frame.params else ""
        if which == "c":
            return str(self._cards_inserted)
        if which == "p":
            return str(self._panels_printed)
        if which == "l":
            return str(-1 if self._ribbon_remaining is None else self._ribbon_remaining)
        return BAD_PARAMETER

    def _answer_position(self, frame: Frame) -> str:
        if frame.params == ("h",):
            # The reject box, almost full or full: CARD, else NO CARD (S7).
            return "CARD" if self._reject_box >= self._reject_box_capacity - 1 else "NO CARD"
        if frame.params != ("p",):
            return BAD_PARAMETER
        return "CARD" if self._card is not None or self._jammed else "OK"

    def _answer_sensor(self, frame: Frame) -> str:
        if frame.params == ("o",):
            return FEEDER_VOLTS[not self._cover_open]  # the cover sensor: 5 V when shut (S7)
        if frame.params != ("f",):
            return BAD_PARAMETER
        return FEEDER_VOLTS[self._hopper > 0]

    def _set_error_management(self, frame: Frame) -> str:
        if len(frame.params) != 1 or frame.params[0] not in ("0", "2"):
            return BAD_PARAMETER
        self._error_management = int(frame.params[0])
        return "OK"

    def _set_job_ribbon(self, frame: Frame) -> str:
        if len(frame.params) != 1 or frame.params[0] not in RIBBON_CODES:
            return BAD_PARAMETER
        # The printer prints with the ribbon it has; Pr only records what the host expects.
        self._job_ribbon = frame.params[0]
        return "OK"

    def _accept(self, frame: Frame) -> str:
        return "OK"

    def _start_sequence(self, frame: Frame) -> str:
        if self._card is not None:
            return "ERR CMD"  # a card is already inside this sequence
        if self._needs_cleaning:
            return NEED_CLEANING
        for name in self._conditions():
            if CONDITIONS[name].error:
                return self.profile.words[name]  # A4: no blank moves
        if self.profile.ribbon_checked and self._job_ribbon not in (None, self._ribbon_type):
            return BAD_RIBBON
        self._hopper -= 1
        self._cards_inserted += 1
        card = _Card(number=self._cards_inserted)
        if self._jam_countdown is not None:
            self._jam_countdown -= 1
            if self._jam_countdown == 0:
                card.jam, self._jam_countdown = True, None
        for fault in ("ribbon_ends", "reject", "vanish_mid_card"):
            if fault in self._armed:
                self._armed.discard(fault)
                setattr(card, "vanish" if fault == "vanish_mid_card" else fault, True)
        every = self.profile.cooling_every
        if every and self._cards_inserted % every == 0:
            card.extra_seconds += self.profile.cooling_seconds
        if "slow" in self._armed:
            self._armed.discard("slow")
            card.extra_seconds += self._slow_seconds
        self._card = card
        return "OK"

    def _select_side(self, frame: Frame) -> str:
        if self._card is None:
            return "ERR NO SEQUENCE"
        self._card.side = "front" if frame.name == "Sr" else "back"
        return "OK"

    def _download(self, frame: Frame) -> str:
        if self._card is None:
            return "ERR NO SEQUENCE"
        if frame.payload is None:
            return BAD_PARAMETER  # header ended before its data
        panel, levels = frame.params[0], int(frame.params[1])
        try:
            if frame.name == "Db":
                bitmap = decode_raw(panel, levels, frame.payload)
            else:
                first = int(frame.params[2]) if len(frame.params) == 4 else 0
                bitmap = decode_compressed(panel, levels, frame.payload, first)
        except PanelError:
            return BAD_PARAMETER
        self._card.panels[self._card.side][panel] = bitmap
        self._card.downloads += 1
        return "OK"

    def _end_sequence(self, frame: Frame) -> str | _Deferred:
        if self._card is None:
            return "ERR NO SEQUENCE"
        if frame.params not in ((), ("1",)):
            return BAD_PARAMETER
        self._finishing = True
        if self._card.vanish:
            self._drop_link()
            self._plugged = False
        return DEFERRED

    def _launch_finish(self) -> None:
        card = self._card
        delay = self.print_seconds + (card.extra_seconds if card else 0.0)
        if delay <= 0:
            self._finish_card()
        else:
            self._timer = threading.Timer(delay, self._finish_card_later)
            self._timer.daemon = True
            self._timer.start()

    def _finish_card_later(self) -> None:
        with self._cond:
            self._timer = None
            self._last_command_at = time.monotonic()  # the printer was busy, not asleep
            self._finish_card()
            self._run_backlog()

    def _finish_card(self) -> None:
        card = self._card
        if card is None or not self._finishing:
            return  # power cycled meanwhile
        self._card, self._finishing = None, False
        ribbon = self._ribbon_type
        cost = prints_for_card(ribbon or "", card.panels)
        left = self._ribbon_remaining or 0
        if card.jam:
            outcome, reply = "jammed", self.profile.words["jammed"]
            self._jammed = True
            self._cards_jammed += 1
            self._use_ribbon(min(cost, left))
        elif ribbon is None or card.ribbon_ends or cost > left:
            outcome, reply = "ribbon_ended", self.profile.words["ribbon_ended"]
            self._use_ribbon(left)
            self._reject_box += 1
            self._cards_rejected += 1
        elif card.reject:
            outcome, reply = "rejected", "ERR REJECTED"
            self._use_ribbon(cost)
            self._reject_box += 1
            self._cards_rejected += 1
        else:
            outcome, reply = "ejected", "OK"
            self._use_ribbon(cost)
            self._cards_ejected += 1
            self._output_tray += 1
            self._card_at_eject = self.profile.eject_holds
        self._panels_printed += card.downloads
        self._last_card = PrintedCard(
            number=card.number,
            outcome=outcome,
            reply=reply,
            prints_used=cost,
            sides={side: dict(panels) for side, panels in card.panels.items() if panels},
        )
        pending, self._pending_reply = self._pending_reply, None
        if pending is not None:
            pending.data = GARBAGE_REPLY if pending.garbage else reply.encode() + b"\r"
        self._cond.notify_all()

    def _use_ribbon(self, prints: int) -> None:
        if self._ribbon_remaining is not None:
            self._ribbon_remaining -= prints
            self._ribbon_prints_used += prints

    def _reset_command(self, frame: Frame) -> str:
        # Srs: like a power cycle without dropping the link; the card inside is rejected.
        self._abort_card()
        return "OK"


def _row(command: str, answers: str, assumption: str, handler: Handler) -> tuple[str, ReplyRow]:
    name = re.match(r"[A-Za-z]+", command)
    if name is None:
        raise ValueError(f"reply table row {command!r} does not start with a command name")
    return name.group(), ReplyRow(command, answers, assumption, handler)


# The reply table: the printer side of every assumption. Any command not in it, or refused by
# the firmware profile, answers ERROR CDE (S1 S9); a bad parameter ERROR PARAMETRES (S9).
REPLY_TABLE: Final[Mapping[str, ReplyRow]] = dict(
    [
        _row("Rtp", "model name", "fact", SimPrinter._answer_identity),
        _row("Rsn", "serial number", "fact", SimPrinter._answer_identity),
        _row("Rfv", "firmware version", "fact", SimPrinter._answer_identity),
        _row("Rr", "installed ribbon code, or NO RIBBON", "A7", SimPrinter._answer_ribbon),
        _row(
            "Rco;c|p|l",
            "cards inserted | panels printed | prints left (-1 unknown); ERR PARAM otherwise",
            "A7",
            SimPrinter._answer_counter,
        ),
        _row(
            "Rlr;p|h",
            "p: OK (no card inside) or CARD; h: CARD when the reject box is almost full (S7)",
            "fact",
            SimPrinter._answer_position,
        ),
        _row(
            "Rse;f|o",
            "f: 5,00 Volts with blanks, 0,00 Volts empty; o: 5,00 Volts cover shut (S7)",
            "fact",
            SimPrinter._answer_sensor,
        ),
        _row("Pem;0|2", "OK; ERR PARAM for other modes", "A2", SimPrinter._set_error_management),
        _row(
            "Pr;ribbon",
            "OK for a known ribbon code, else ERR PARAM",
            "A2",
            SimPrinter._set_job_ribbon,
        ),
        _row("Pmi;…", "OK (ERROR CDE on firmware that refuses it)", "S6", SimPrinter._accept),
        _row("Pcim;F", "OK (ERROR CDE on firmware that refuses it)", "S7 S10", SimPrinter._accept),
        _row("Pc;…", "OK", "A2", SimPrinter._accept),
        _row(
            "Pdt;…", "OK (the vendor's driver sends it: captures)", "captures", SimPrinter._accept
        ),
        _row(
            "Ppws;…", "OK (the vendor's driver sends it: captures)", "captures", SimPrinter._accept
        ),
        _row("Mr;…", "OK", "A2", SimPrinter._accept),
        _row("Scs", "OK (no latched status to clear)", "A2", SimPrinter._accept),
        _row("Srs", "OK; a card inside goes to the reject box", "A2", SimPrinter._reset_command),
        _row(
            "Ss",
            "OK and a blank fed; ERR <condition> and nothing moves (A4); ERR CMD inside Ss…Se",
            "A4",
            SimPrinter._start_sequence,
        ),
        _row("Sr", "OK; ERR NO SEQUENCE outside Ss…Se", "A6", SimPrinter._select_side),
        _row("Sv", "OK; ERR NO SEQUENCE outside Ss…Se", "A6", SimPrinter._select_side),
        _row(
            "Db;panel;levels;data",
            "OK; ERR PARAM for a payload that is not one full panel; ERR NO SEQUENCE",
            "A2",
            SimPrinter._download,
        ),
        _row(
            "Dbc;panel;levels;[first_line;]nb_bytes;data",
            "OK; ERR PARAM when the data does not decode to one full panel; ERR NO SEQUENCE",
            "A2",
            SimPrinter._download,
        ),
        _row(
            "Se[;1]",
            "after the card is out: OK | ERR REJECTED | ERR RIBBON ENDED | ERR MECHANICAL",
            "A5",
            SimPrinter._end_sequence,
        ),
    ]
)
