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
from typing import TYPE_CHECKING, Final, Literal, NoReturn

from printd.drivers import raster
from printd.drivers.base import Outcome, PrintResult
from printd.drivers.evolis import codec
from printd.drivers.status import (
    Condition,
    Identity,
    Level,
    LevelKind,
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
    from PIL.Image import Image

    from printd.drivers.base import CardRequest
    from printd.drivers.profiles import Profile
    from printd.drivers.transport import Transport

READ_CHUNK: Final = 256
DRAIN_QUIET_SECONDS: Final = 0.05  # silence that proves no stale reply is in flight
DRAIN_MAX_READS: Final = 64
FEEDER_LOADED_VOLTS: Final = 2.5  # Rse;f reads about 5 V with cards, 0 V empty
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
# Spoil reasons (metric label values) and the condition each error leaves behind (A5, A6).
SPOIL_REASONS: Final = {
    codec.ErrorName.REJECTED: "rejected",
    codec.ErrorName.RIBBON_ENDED: "ribbon_out",
    codec.ErrorName.MECHANICAL: "jam",
    codec.ErrorName.COVER_OPEN: "cover_open",
    codec.ErrorName.NO_RIBBON: "ribbon_out",
}
PRINTER_ERROR: Final = "printer_error"


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
        command_timeout: float = 5.0,
        print_timeout: float = 120.0,
        min_throughput: int = 50_000,
        mono_method: Literal["threshold", "dither"] = "threshold",
        compress_colour: bool = False,
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

    # -- link ------------------------------------------------------------------------------

    def connect(self) -> Identity:
        """Open the link, read the identity, hand error management to the host (`Pem;2`)."""
        self._drop_link()
        self._transport.open()
        self._connected = True
        self._drain()
        try:
            model = self._text("Rtp")
            serial = self._text("Rsn")
            firmware = self._text("Rfv")
            self._expect_ok("Pem", 2)
            self._clear_abandoned_card()
        except ProtocolError as error:
            raise TransportError(f"printer identity not readable: {error}") from error
        return Identity(manufacturer="Evolis", model=model, serial=serial, firmware=firmware)

    def _clear_abandoned_card(self) -> None:
        """A card left inside by a sequence that never finished (its job is `interrupted`)
        would block every later `Ss`. Reset the printer so it goes to the reject box, where
        the operator finds it when reconciling. A jammed card is left for the operator."""
        position = self._ask("Rlr", "p")
        if not (isinstance(position, codec.Text) and position.value == "CARD"):
            return
        if "ERR_MECHANICAL" in self._read_rst().minors:
            return
        self._expect_ok("Srs")
        self._expect_ok("Pem", 2)  # a reset may restore the printer's own error management

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
            raise ProtocolError(f"{command}: printer answered ERR {reply.name}")

    # -- status ----------------------------------------------------------------------------

    def status(self) -> PrinterStatus:
        """`Rst`, `Rr`, `Rco;l`, `Rse;f` as one `PrinterStatus`.

        Raises `TransportError` when the printer cannot be reached or answers nonsense; the
        caller decides whether that is OFFLINE.
        """
        self._ensure_connected()
        try:
            rst = self._read_rst()
            ribbon = self._ask("Rr")
            left = self._ask("Rco", "l")
            feeder = self._ask("Rse", "f")
        except ProtocolError as error:
            raise TransportError(f"printer status not readable: {error}") from error
        state, conditions = codec.status_from_rst(rst)
        supplies = Supplies(
            hopper_level=_hopper_level(feeder),
            ribbon_type=ribbon.code if isinstance(ribbon, codec.Ribbon) else None,
            ribbon_remaining=(
                Level.known(left.value)
                if isinstance(left, codec.Number) and left.value is not None
                else Level.unknown()
            ),
        )
        detail = ";".join((rst.major, *rst.minors))
        return PrinterStatus(state, conditions, supplies, source="usb", detail=detail)

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
            self._check_ready()
            self._before_feed("Pr", ribbon)
            self._before_feed("Pmi", "F", "s")
        except ProtocolError as error:
            raise TransportError(f"printer answer not understood: {error}") from error
        # From here on the blank may move: failures become outcomes, never exceptions.
        try:
            started = self._ask("Ss")
        except (TransportError, ProtocolError) as error:
            return _unknown(f"no clear answer to Ss (the blank may have been fed): {error}", prints)
        if isinstance(started, codec.ErrorReply):
            self._refuse_start(started)
        return self._print_fed_card(downloads, prints)

    def _read_rst(self) -> codec.RawStatus:
        rst = self._ask("Rst")
        if not isinstance(rst, codec.RawStatus):
            raise ProtocolError(f"Rst: expected a status, got {rst}")
        return rst

    def _check_ready(self) -> None:
        rst = self._read_rst()
        _, conditions = codec.status_from_rst(rst)
        if conditions:
            condition = first_condition(conditions)
            raise NeedsOperator(condition, f"printer needs an operator: {';'.join(rst.minors)}")

    def _before_feed(self, command: str, *params: str | int) -> None:
        reply = self._ask(command, *params)
        if isinstance(reply, codec.ErrorReply):
            self._refuse_start(reply, command)

    def _refuse_start(self, error: codec.ErrorReply, command: str = "Ss") -> NoReturn:
        """An ERR before or at `Ss`: no blank moved (A4)."""
        if error.condition is not None:
            raise NeedsOperator(error.condition)
        if error.name is codec.ErrorName.PARAM:
            raise JobError(f"the printer refused {command} for this job (ERR PARAM)")
        raise TransportError(f"the printer refused {command} (ERR {error.name}); reconnecting")

    def _print_fed_card(self, downloads: list[tuple[str, bytes]], prints: int) -> PrintResult:
        failed: codec.ErrorReply | None = None
        try:
            for command, frame in downloads:
                reply = self._exchange(frame, command, self._command_timeout)
                if isinstance(reply, codec.ErrorReply):
                    if reply.condition is not None or reply.name is codec.ErrorName.REJECTED:
                        return _spoiled(reply, prints)
                    failed = reply  # CMD/PARAM/NO SEQUENCE: eject with Se, the card is spoiled
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


def _hopper_level(reply: codec.Reply) -> Level:
    if not isinstance(reply, codec.Volts):
        return Level.unknown()
    if reply.value >= FEEDER_LOADED_VOLTS:
        return Level(LevelKind.SOME_REMAINING)  # the sensor says "cards", not how many
    return Level.known(0)


def _spoiled(error: codec.ErrorReply, prints: int) -> PrintResult:
    reason = SPOIL_REASONS.get(error.name, PRINTER_ERROR)
    return PrintResult(Outcome.SPOILED, reason, error.condition, prints)


def _unknown(reason: str, prints: int) -> PrintResult:
    return PrintResult(Outcome.UNKNOWN, reason, None, prints)
