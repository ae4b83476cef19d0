"""The Evolis driver: "How printd prints one card" of docs/evolis-protocol.md, step by step.

It has a transport and a codec and keeps no state beyond "is the link in step". Every command
is answered before the next is sent (lockstep), so a reply can never be taken for another's.
After any transport or protocol failure the link is closed and reopened on the next call: a
reply that arrives late must not be read as the answer to a later command.

Where a card can be lost, the rule is "sent is not printed": once `Ss` has gone out, the blank
may have moved, so a failure from then on is `Outcome.UNKNOWN`, never a retry.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, NoReturn

import structlog

from printd.drivers import raster
from printd.drivers.base import Outcome, PrintResult
from printd.drivers.evolis import codec
from printd.drivers.status import (
    OPERATOR_HINTS,
    Condition,
    Identity,
    Level,
    LevelKind,
    PrinterState,
    PrinterStatus,
    Supplies,
)
from printd.errors import (
    JobError,
    NeedsOperator,
    ProtocolError,
    TransportError,
    TransportTimeout,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from PIL.Image import Image

    from printd.drivers.base import CardRequest
    from printd.drivers.profiles import Profile
    from printd.drivers.transport import Transport

READ_CHUNK: Final = 256
DRAIN_QUIET_SECONDS: Final = 0.05  # silence that proves no stale reply is in flight
DRAIN_MAX_READS: Final = 64
SENSOR_HIGH_VOLTS: Final = 2.5  # Rse;f and Rse;o read about 5 V (cards, cover shut) or 0 V
COLOUR_RIBBONS: Final = frozenset({"ymcko", "ymckos", "ymckok"})
K_BACK_RIBBONS: Final = frozenset({"ymckok"})  # the back prints on the set's trailing K
KO_RIBBONS: Final = frozenset({"ko"})
# Which condition is reported first when the printer shows several: the one that stops the
# most, so the operator fixes it first.
CONDITION_ORDER: Final = (
    Condition.OFFLINE,
    Condition.JAM,
    Condition.COVER_OPEN,
    Condition.RIBBON_MISSING,
    Condition.RIBBON_WRONG,
    Condition.RIBBON_OUT,
    Condition.REJECT_BOX_FULL,
    Condition.HOPPER_EMPTY,
    Condition.SERVICE_REQUESTED,
)
# Spoil reasons (metric label values) by the condition an error word leaves behind (A5, A6).
SPOIL_REASONS: Final = {
    Condition.RIBBON_OUT: "ribbon_out",
    Condition.RIBBON_MISSING: "ribbon_out",
    Condition.JAM: "jam",
    Condition.COVER_OPEN: "cover_open",
}
PRINTER_ERROR: Final = "printer_error"
# Reads status is built from, each asked once at connect: a firmware that refuses one keeps
# working without it (docs/evolis-protocol.md, P1..P4).
STATUS_READS: Final[tuple[tuple[str, ...], ...]] = (
    ("Rse", "f"),
    ("Rlr", "p"),
    ("Rr",),
    ("Rco", "l"),
    ("Rse", "o"),  # cover sensor: 0 V open, 5 V closed (S7)
)
# Feeder selection, newest form first: `Pcim;F` in SDK-era code, `Pmi;F;s` in older captures.
FEEDER_COMMANDS: Final[tuple[tuple[str, ...], ...]] = (("Pcim", "F"), ("Pmi", "F", "s"))
REFUSAL_BACKOFF_SECONDS: Final = 5.0
REFUSAL_BACKOFF_MAX_SECONDS: Final = 300.0

log = structlog.get_logger("printd.evolis")


def wire(command: tuple[str, ...]) -> str:
    return ";".join(command)


@dataclass(frozen=True, slots=True)
class Refusal:
    """The printer's last refusal of a card, shown until the next attempt is due."""

    condition: Condition
    words: str
    retry_at: float


def ribbon_prints(ribbon_type: str, has_back: bool) -> int:
    """Prints one card takes from the ribbon (DESIGN §3)."""
    if has_back and ribbon_type.lower() not in K_BACK_RIBBONS:
        return 2  # a second panel set (colour) or a second mono/KO print
    return 1


def first_condition(conditions: frozenset[Condition]) -> Condition:
    return min(conditions, key=lambda c: CONDITION_ORDER.index(c) if c in CONDITION_ORDER else 99)


class EvolisDriver:
    def __init__(
        self,
        transport: Transport,
        profile: Profile,
        *,
        command_timeout: float = 30.0,  # the SDK's EVOLIS_TIMEOUT (S1 S2): a waking printer is slow
        print_timeout: float = 120.0,
        min_throughput: int = 50_000,
        mono_method: Literal["threshold", "dither"] = "threshold",
        compress_colour: bool = False,
        clock: Callable[[], float] = time.monotonic,
        refusal_backoff: float = REFUSAL_BACKOFF_SECONDS,
        owns_error_management: bool = True,
    ) -> None:
        self._transport = transport
        self._profile = profile
        self._command_timeout = command_timeout
        self._print_timeout = print_timeout
        # Writes of a panel get command_timeout plus the time the slowest link we support
        # (bytes per second) needs to carry it.
        self._min_throughput = min_throughput
        self._mono_method: Literal["threshold", "dither"] = mono_method
        self._compress_colour = compress_colour  # A9 is unverified: off unless asked for
        self._connected = False
        self._buffer = bytearray()
        # Rasterised frames of cards prepared ahead (the next job, while this one prints).
        self._prepared: dict[str, list[tuple[str, bytes]]] = {}
        self._prepared_lock = threading.Lock()
        self._clock = clock
        self._owns_error_management = owns_error_management
        self._refusal_backoff = refusal_backoff
        # What this printer's firmware answered at connect, by wire form ("Rse;f": True).
        self.supported: dict[str, bool] = {}
        self._feeder_command: tuple[str, ...] | None = None
        self._refusal: Refusal | None = None
        self._jam_inside = False  # the last card jammed: no reset may hide it from a person
        self._refusals_in_a_row = 0

    # -- link ------------------------------------------------------------------------------

    def connect(self) -> Identity:
        """Open the link, read the identity, hand error management to the host (`Pem;2`), and
        learn which status reads and feeder command this firmware answers."""
        self._drop_link()
        self._open()
        try:
            model = self._text("Rtp")
            serial = self._text("Rsn")
            firmware = self._text("Rfv")
            if self._owns_error_management:
                self._note("Pem;2", self._try("Pem", 2))
            else:
                log.info("error_management_left_to_the_printer", model=model)
            self._clear_abandoned_card(self._probe_commands())
        except ProtocolError as error:
            raise TransportError(f"printer identity not readable: {error}") from error
        log.info(
            "firmware_commands_probed",
            model=model,
            firmware=firmware,
            supported=sorted(k for k, v in self.supported.items() if v),
            refused=sorted(k for k, v in self.supported.items() if not v),
        )
        return Identity(manufacturer="Evolis", model=model, serial=serial, firmware=firmware)

    def _open(self) -> None:
        self._transport.open()
        self._connected = True
        self._drain()

    def _try(self, command: str, *params: str | int) -> codec.Reply | None:
        """Ask once; None when the firmware refuses or answers something unreadable. The link
        is reopened after an unreadable answer, so the next command is in step."""
        try:
            reply = self._ask(command, *params)
        except ProtocolError:
            self._open()
            return None
        return None if isinstance(reply, codec.ErrorReply) else reply

    def _note(self, key: str, reply: codec.Reply | None) -> codec.Reply | None:
        self.supported[key] = reply is not None
        return reply

    def _probe_commands(self) -> codec.Reply | None:
        """Ask each status read and feeder command once; the answer to `Rlr;p` is returned,
        since it also says whether a card was left inside."""
        replies = {wire(c): self._note(wire(c), self._try(*c)) for c in STATUS_READS}
        self._feeder_command = None
        for command in FEEDER_COMMANDS:
            if self._note(wire(command), self._try(*command)) is not None:
                self._feeder_command = command
                break
        return replies["Rlr;p"]

    def commands_summary(self) -> str:
        """Which probed commands this printer answers, for `printctl status` and the logs."""
        if not self.supported:
            return ""
        return "commands: " + ", ".join(
            f"{key} {'yes' if ok else 'refused'}" for key, ok in self.supported.items()
        )

    def _clear_abandoned_card(self, position: codec.Reply | None) -> None:
        """A card left inside by a sequence that never finished (its job is `interrupted`)
        would block every later `Ss`. Reset the printer so it goes to the reject box, where
        the operator finds it when reconciling."""
        if not _card_inside(position):
            self._jam_inside = False
            return
        if self._jam_inside:
            log.warning("jammed_card_left_for_the_operator")
            return
        # As field code does (S7): reset, read the position again once the printer answers,
        # and eject a card the reset left inside explicitly, to the reject box.
        self._expect_ok("Srs")
        if self._owns_error_management:
            self._try("Pem", 2)  # a reset may restore the printer's own error management
        if _card_inside(self._try("Rlr", "p")) and self._try("Ser") is None:
            log.warning("card_still_inside_after_reset")

    def close(self) -> None:
        self._drop_link()

    def _drain(self) -> None:
        """Discard replies left on the link by a previous connection (a late `Se` answer)."""
        try:
            for _ in range(DRAIN_MAX_READS):
                self._transport.read(READ_CHUNK, DRAIN_QUIET_SECONDS)
        except TransportTimeout:
            return  # quiet: the link is in step
        except TransportError:
            self._drop_link()
            raise
        self._drop_link()
        raise TransportError("the printer keeps sending unrequested data; reconnecting")

    def _drop_link(self) -> None:
        self._connected = False
        self._buffer.clear()
        self._transport.close()

    def _ensure_connected(self) -> None:
        if not self._connected:
            self.connect()

    def _exchange(self, frame: bytes, command: str, timeout: float) -> codec.Reply:
        """Send one command, read its one reply (A1). Any failure drops the link."""
        try:
            write_timeout = self._command_timeout + len(frame) / self._min_throughput
            self._transport.write(frame, write_timeout)
            deadline = time.monotonic() + timeout
            while (raw := codec.split_reply(self._buffer)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    remaining = 0.001  # one last look, so a slow read reports as a timeout
                self._buffer += self._transport.read(READ_CHUNK, remaining)
            return codec.decode_reply(command, raw)
        except (TransportError, ProtocolError):
            self._drop_link()
            raise

    def _ask(self, command: str, *params: str | int) -> codec.Reply:
        return self._exchange(
            codec.encode_command(command, *params), command, self._command_timeout
        )

    def _text(self, command: str) -> str:
        reply = self._ask(command)
        if not isinstance(reply, codec.Text):
            raise ProtocolError(f"{command}: expected text, got {reply}")
        return reply.value

    def _expect_ok(self, command: str, *params: str | int) -> None:
        reply = self._ask(command, *params)
        if isinstance(reply, codec.ErrorReply):
            raise ProtocolError(f"{command}: the printer answered {reply.words!r}")

    # -- status ----------------------------------------------------------------------------

    def status(self) -> PrinterStatus:
        """The reads this firmware answered at connect, plus the printer's last refusal.

        There is no status command every firmware answers (`Rst` is in no source), so the
        conditions are what the sensors show and what the printer last said when it refused a
        card. Raises `TransportError` when the printer cannot be reached.
        """
        self._ensure_connected()
        feeder = self._read_if_supported("Rse", "f")
        ribbon = self._read_if_supported("Rr")
        left = self._read_if_supported("Rco", "l")
        cover = self._read_if_supported("Rse", "o")
        hopper = _hopper_level(feeder)
        conditions: set[Condition] = set()
        words: list[str] = []
        if hopper.value == 0:
            conditions.add(Condition.HOPPER_EMPTY)
            words.append("Rse;f: feeder empty")
        if isinstance(cover, codec.Volts) and cover.value < SENSOR_HIGH_VOLTS:
            conditions.add(Condition.COVER_OPEN)
            words.append("Rse;o: cover open")
        if isinstance(ribbon, codec.Ribbon) and ribbon.code is None:
            # An explicit "NO RIBBON" (A7); a printer whose Rr only echoes the Pr setting never
            # says it, and the survey's Rr row tells which kind the printer is.
            conditions.add(Condition.RIBBON_MISSING)
            words.append("Rr: no ribbon")
        refusal = self._current_refusal(hopper)
        if refusal is not None:
            conditions.add(refusal.condition)
            words.append(f"the printer said {refusal.words!r}")
        supplies = Supplies(
            hopper_level=hopper,
            ribbon_type=ribbon.code if isinstance(ribbon, codec.Ribbon) else None,
            ribbon_remaining=(
                Level.known(left.value)
                if isinstance(left, codec.Number) and left.value is not None
                else Level.unknown()
            ),
        )
        state = PrinterState.NEEDS_OPERATOR if conditions else PrinterState.IDLE
        return PrinterStatus(
            state,
            frozenset(conditions),
            supplies,
            source="usb",
            detail="; ".join(words),
            commands=self.commands_summary(),
        )

    def _read_if_supported(self, command: str, *params: str) -> codec.Reply | None:
        if not self.supported.get(wire((command, *params))):
            return None
        try:
            reply = self._ask(command, *params)
        except ProtocolError as error:
            raise TransportError(f"printer status not readable: {error}") from error
        return None if isinstance(reply, codec.ErrorReply) else reply

    def _current_refusal(self, hopper: Level) -> Refusal | None:
        """The last refusal while its backoff runs; a feeder seen loaded again ends an
        empty-feeder refusal at once, since the operator has acted."""
        refusal = self._refusal
        if refusal is None:
            return None
        loaded = hopper.kind is LevelKind.SOME_REMAINING
        if self._clock() >= refusal.retry_at or (
            refusal.condition is Condition.HOPPER_EMPTY and loaded
        ):
            self._refusal = None
            return None
        return refusal

    # -- printing --------------------------------------------------------------------------

    def prepare(self, card: CardRequest) -> None:
        """Rasterise a card ahead of time, so the printer does not wait for it."""
        downloads = self.downloads_for(card)
        with self._prepared_lock:
            self._prepared = {card.job_id: downloads}  # only the next card is ever kept

    def print_card(self, card: CardRequest) -> PrintResult:
        """Print one card (doc steps 2-4). Raises only while no blank can have moved."""
        ribbon = card.ribbon_type.lower()
        with self._prepared_lock:
            prepared = self._prepared.pop(card.job_id, None)
        downloads = prepared or self.downloads_for(card)  # JobError before any I/O
        prints = ribbon_prints(ribbon, card.back is not None)
        self._ensure_connected()
        try:
            self._before_feed("Pr", ribbon)
            if self._feeder_command is not None:
                self._before_feed(*self._feeder_command)
        except ProtocolError as error:
            raise TransportError(f"printer answer not understood: {error}") from error
        # From here on the blank may move: failures become outcomes, never exceptions.
        try:
            started = self._ask("Ss")
        except (TransportError, ProtocolError) as error:
            return _unknown(f"no clear answer to Ss (the blank may have been fed): {error}", prints)
        if isinstance(started, codec.ErrorReply):
            self._refuse_start(started)  # a refusal: no blank moved (A4)
        self._refusals_in_a_row = 0
        result = self._print_fed_card(downloads, prints)
        self._jam_inside = result.condition is Condition.JAM
        return result

    def _before_feed(self, command: str, *params: str | int) -> None:
        reply = self._ask(command, *params)
        if isinstance(reply, codec.ErrorReply):
            self._refuse_start(reply, command)

    def _refuse_start(self, error: codec.ErrorReply, command: str = "Ss") -> NoReturn:
        """An error word before or at `Ss`: no blank moved (A4). The job waits with the
        printer's words, and the refusal stands until its backoff step is over."""
        said = f"the printer refused {command}: {error.words!r}"
        if error.fault is codec.Fault.JOB_FAULT:
            raise JobError(f"{said}; this job cannot print as sent")
        condition = error.condition or Condition.SERVICE_REQUESTED
        if error.fault is codec.Fault.TRANSIENT:
            condition = Condition.SERVICE_REQUESTED  # nothing to do but wait for the retry
        delay = min(self._refusal_backoff * 2**self._refusals_in_a_row, REFUSAL_BACKOFF_MAX_SECONDS)
        self._refusals_in_a_row += 1
        self._refusal = Refusal(condition, error.words, self._clock() + delay)
        log.info("firmware_refused", command=command, words=error.words, retry_in=delay)
        raise NeedsOperator(condition, f"{said}; {OPERATOR_HINTS[condition]}")

    def _print_fed_card(self, downloads: list[tuple[str, bytes]], prints: int) -> PrintResult:
        failed: codec.ErrorReply | None = None
        try:
            for command, frame in downloads:
                reply = self._exchange(frame, command, self._command_timeout)
                if isinstance(reply, codec.ErrorReply):
                    if reply.condition not in (None, Condition.SERVICE_REQUESTED):
                        return _spoiled(reply, prints)  # the printer stopped the card itself
                    if reply.fault is codec.Fault.CARD_SPOILED:
                        return _spoiled(reply, prints)
                    failed = reply  # a refused download: eject with Se, the card is spoiled
                    break
            end = self._exchange(codec.encode_command("Se"), "Se", self._print_timeout)
        except TransportError as error:
            return _unknown(f"link lost after the blank was fed: {error}", prints)
        except ProtocolError as error:
            return _unknown(f"unreadable answer after the blank was fed: {error}", prints)
        if isinstance(end, codec.ErrorReply):
            return _spoiled(end, prints)
        if failed is not None:
            return PrintResult(Outcome.SPOILED, PRINTER_ERROR, None, prints)
        return PrintResult(Outcome.PRINTED, None, None, prints)

    def downloads_for(self, card: CardRequest) -> list[tuple[str, bytes]]:
        """Every frame from `Sr` to before `Se`, as (command, bytes). Pure: no I/O."""
        ribbon = card.ribbon_type.lower()
        if not self._profile.supports_ribbon(ribbon):
            raise JobError(
                f"ribbon type {card.ribbon_type!r} is not supported by {self._profile.model};"
                f" expected one of {', '.join(sorted(self._profile.ribbon_types))}"
            )
        if card.back is not None and not self._profile.duplex:
            raise JobError(f"{self._profile.model} prints one side only; drop the back image")
        frames = [("Sr", codec.encode_command("Sr"))]
        frames += self._side(card.front, ribbon, back=False)
        if card.back is not None:
            frames.append(("Sv", codec.encode_command("Sv")))
            frames += self._side(card.back, ribbon, back=True)
        return frames

    def _side(self, image: Image, ribbon: str, *, back: bool) -> list[tuple[str, bytes]]:
        frames: list[tuple[str, bytes]] = []
        if ribbon in COLOUR_RIBBONS and not (back and ribbon in K_BACK_RIBBONS):
            panels = raster.colour_panels(image)
            for name, levels in (("y", panels.y), ("m", panels.m), ("c", panels.c)):
                if self._compress_colour:
                    data = codec.compress_colour_panel(levels)
                else:
                    data = codec.pack_colour_panel(levels)
                frames.append(_download(name, 32, data, compressed=self._compress_colour))
            frames.append(_download("k", 2, codec.compress_mono_panel(panels.k), compressed=True))
            frames.append(_download("o", 2, codec.compress_mono_panel(panels.o), compressed=True))
            return frames
        black = raster.mono_panel(image, self._mono_method)
        frames.append(_download("k", 2, codec.compress_mono_panel(black), compressed=True))
        if ribbon in KO_RIBBONS:
            varnish = codec.compress_mono_panel(raster.varnish_panel())
            frames.append(_download("o", 2, varnish, compressed=True))
        return frames


def _download(panel: str, levels: int, data: bytes, *, compressed: bool) -> tuple[str, bytes]:
    command = "Dbc" if compressed else "Db"
    return command, codec.encode_download(panel, levels, data, compressed=compressed)


def _hopper_level(reply: codec.Reply | None) -> Level:
    if not isinstance(reply, codec.Volts):
        return Level.unknown()
    if reply.value >= SENSOR_HIGH_VOLTS:
        return Level(LevelKind.SOME_REMAINING)  # the sensor says "cards", not how many
    return Level.known(0)


def _card_inside(position: codec.Reply | None) -> bool:
    return isinstance(position, codec.Text) and position.value == "CARD"


def _spoiled(error: codec.ErrorReply, prints: int) -> PrintResult:
    if error.fault is codec.Fault.CARD_SPOILED:
        return PrintResult(Outcome.SPOILED, "rejected", None, prints)
    if error.fault is codec.Fault.OUTCOME_UNKNOWN:
        return _unknown(f"the printer answered {error.words!r} during the card", prints)
    reason = SPOIL_REASONS.get(error.condition, PRINTER_ERROR) if error.condition else PRINTER_ERROR
    return PrintResult(Outcome.SPOILED, reason, error.condition, prints)


def _unknown(reason: str, prints: int) -> PrintResult:
    return PrintResult(Outcome.UNKNOWN, reason, None, prints)
