"""One dispatcher per printer: takes the next job, prints it, books the outcome.

Fault handling (DESIGN §5): transport faults reconnect with exponential backoff and jitter
(tenacity) and the job keeps its place; `NeedsOperator` pauses this printer and the loop keeps
polling status until the condition clears, then resumes by itself; a spoiled card is booked and
retried on a new blank up to `max_attempts`; a bad job fails; an unknown outcome becomes
`interrupted`, which only an operator resolves.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from printd.config import PrinterConfig, QueueConfig
from printd.drivers.base import CardDriver, CardRequest, Outcome, PrintResult
from printd.drivers.status import (
    Condition,
    Identity,
    LevelKind,
    PrinterState,
    PrinterStatus,
    describe_conditions,
)
from printd.errors import ConflictError, JobError, NeedsOperator, PrintdError, TransportError
from printd.memory import release_free_memory
from printd.queue.jobs import JobState
from printd.queue.ledger import Entry, Item, Kind
from printd.queue.ribbons import prints_on
from printd.queue.store import Job, Store

ACTOR = "printd"


@dataclass(frozen=True, slots=True)
class Timings:
    """Where the dispatcher reports durations (histograms the collector cannot derive)."""

    job_done: Callable[[float], None]  # submit → printed
    card_done: Callable[[float], None]  # one attempt in the printer


@dataclass
class PrinterRuntime:
    """What is known of one printer right now; read by /metrics and `printctl status`."""

    name: str
    state: PrinterState = PrinterState.UNKNOWN
    conditions: set[Condition] = field(default_factory=set)
    reason: str = ""
    up: bool = False
    identity: Identity | None = None
    status: PrinterStatus | None = None
    current_job: str | None = None
    printer_ribbon_remaining: int | None = None
    snmp_up: bool | None = None
    snmp_poll_seconds: float | None = None
    snmp_status: PrinterStatus | None = None
    snmp_life_count: int | None = None  # prtMarkerLifeCount: a raw printer's printed counter
    snmp_read_at: float | None = None  # wall time of the agent's last answer
    snmp_error: str = ""  # why the last poll failed
    snmp_problems: tuple[str, ...] = ()  # what the agent got wrong in its last answer
    snmp_serial: str | None = None  # prtGeneralSerialNumber, when the agent publishes it
    snmp_hopper_unknown: str | None = None  # why the agent's hopper could not be told
    disagreements: tuple[str, ...] = ()

    def printer_hopper_count(self) -> int | None:
        """Blanks in the hopper by the printer's own reading, where it gives a number: its SNMP
        agent's input level, else a feeder sensor that reads empty (0). A sensor that reads
        "cards" gives no number, and then there is nothing to hold printd's count against."""
        for status in (self.snmp_status, self.status):
            level = status.supplies.hopper_level if status else None
            if level is not None and level.kind is LevelKind.KNOWN and level.value is not None:
                return level.value
        return None

    def public(self) -> dict[str, Any]:
        supplies = self.status.supplies if self.status else None
        return {
            "name": self.name,
            "state": str(self.state),
            "conditions": sorted(str(c) for c in self.conditions),
            "reason": self.reason,
            "up": self.up,
            "model": self.identity.model if self.identity else None,
            "serial": self.identity.serial if self.identity else None,
            "firmware": self.identity.firmware if self.identity else None,
            "current_job": self.current_job,
            "printer_hopper": supplies.hopper_level.value if supplies else None,
            "printer_ribbon_remaining": self.printer_ribbon_remaining,
            "printer_ribbon_type": supplies.ribbon_type if supplies else None,
            # Which probed commands the firmware answers ("Pcim;F refused, Pmi;F;s yes", …).
            "firmware_commands": self.status.commands if self.status else None,
            "snmp": None
            if self.snmp_up is None
            else {
                "up": self.snmp_up,
                "state": str(self.snmp_status.state) if self.snmp_status else None,
                "conditions": sorted(str(c) for c in self.snmp_status.conditions)
                if self.snmp_status
                else [],
                "hopper": self.snmp_status.supplies.hopper_level.value
                if self.snmp_status
                else None,
                "ribbon_remaining": self.snmp_status.supplies.ribbon_remaining.value
                if self.snmp_status
                else None,
                "disagreements": list(self.disagreements),
                # The figures are as of the last poll, up to status_interval_seconds old.
                "read_seconds_ago": round(max(0.0, time.time() - self.snmp_read_at), 1)
                if self.snmp_read_at is not None
                else None,
                "error": self.snmp_error or None,
                "problems": list(self.snmp_problems),
                "serial": self.snmp_serial,
                "hopper_unknown_because": self.snmp_hopper_unknown,
            },
        }


class Dispatcher:
    def __init__(
        self,
        printer: PrinterConfig,
        driver: CardDriver,
        store: Store,
        queue: QueueConfig,
        wake: asyncio.Event,
        *,
        timings: Timings | None = None,
    ) -> None:
        self.printer = printer
        self.driver = driver
        self.store = store
        self.queue = queue
        self.wake = wake
        self.runtime = PrinterRuntime(printer.name)
        self.log = structlog.get_logger("printd.dispatcher").bind(printer=printer.name)
        self._timings = timings
        self._connected = False
        self._stopping = False
        # Links lost in a row: each waits twice as long before the next connect, so a printer
        # that answers every connect and fails every status read is not hammered.
        self._losses_in_a_row = 0
        # The next job's card, decoded and rasterised while the current card prints.
        self._next: tuple[str, asyncio.Task[CardRequest | None]] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    # ---- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except PrintdError as error:
                self.log.warning("dispatcher_step_failed", error=str(error))
                await self._sleep(self.queue.poll_seconds)
            except Exception:  # a bug must not stop the printer for good; it is logged
                self.log.exception("dispatcher_step_crashed")
                await self._sleep(self.queue.poll_seconds)
        await asyncio.to_thread(self._close_driver)

    async def stop(self, drain_timeout: float) -> None:
        """Let the card in the printer finish (bounded), then stop taking jobs."""
        self._stopping = True
        self.wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout=drain_timeout)

    def _close_driver(self) -> None:
        with contextlib.suppress(PrintdError):
            self.driver.close()
        self._connected = False

    async def _sleep(self, seconds: float) -> None:
        """Wait for `seconds`, or less when a job arrives or someone asks us to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout=seconds)
        self.wake.clear()

    # ---- state -----------------------------------------------------------------------------

    def _set_state(self, state: PrinterState, conditions: set[Condition], reason: str) -> None:
        if state != self.runtime.state or conditions != self.runtime.conditions:
            text = reason or str(state)
            self.log.info(
                "printer_state",
                state=str(state),
                conditions=sorted(str(c) for c in conditions),
                reason=text,
            )
            with contextlib.suppress(PrintdError):
                self.store.printer_event(self.printer.name, f"{state}: {text}")
        self.runtime.state = state
        self.runtime.conditions = conditions
        self.runtime.reason = reason

    async def _connect(self) -> None:
        def keep_trying(_: Any) -> bool:
            return self._stopping

        def note_retry(state: Any) -> None:
            error = state.outcome.exception() if state.outcome else None
            self.runtime.up = False
            self._set_state(PrinterState.OFFLINE, {Condition.OFFLINE}, f"not reachable: {error}")

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransportError),
            wait=wait_exponential_jitter(
                initial=self.queue.retry_initial_seconds, max=self.queue.reconnect_max_seconds
            ),
            stop=keep_trying,
            before_sleep=note_retry,
            sleep=self._sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                self.runtime.identity = await asyncio.to_thread(self.driver.connect)
        self._connected = True
        self.runtime.up = True
        self.log.info(
            "printer_connected",
            model=self.runtime.identity.model if self.runtime.identity else None,
        )

    # ---- one turn of the loop --------------------------------------------------------------

    async def _step(self) -> None:
        if not self._connected:
            await self._connect()
            if self._stopping:
                return
        try:
            status = await asyncio.to_thread(self.driver.status)
        except TransportError as error:
            await self._lost(error)
            return
        self.runtime.status = status
        self.runtime.up = True
        self._losses_in_a_row = 0
        remaining = status.supplies.ribbon_remaining
        self.runtime.printer_ribbon_remaining = remaining.value
        if status.conditions:
            # The operator does everything at one visit: what the printer reports, and what
            # printd's own records lack (a ribbon never recorded cannot be read off a printer).
            conditions = set(status.conditions) | self._unrecorded_supplies()
            reason = describe_conditions(conditions)
            if status.detail:
                reason = f"{reason} ({status.detail})"  # the printer's own words
            self._set_state(PrinterState.NEEDS_OPERATOR, conditions, reason)
            await self._sleep(self.queue.poll_seconds)
            return
        job = self.store.next_queued()
        if job is None:
            self._set_state(PrinterState.IDLE, set(), "")
            await self._sleep(self.queue.poll_seconds)
            return
        blocked = self._supplies_block(job, status)
        if blocked is not None:
            condition, reason = blocked
            self._set_state(PrinterState.NEEDS_OPERATOR, {condition}, reason)
            await self._sleep(self.queue.poll_seconds)
            return
        await self._print(job)

    def _unrecorded_supplies(self) -> set[Condition]:
        name = self.printer.name
        missing = set()
        if self.store.total("hopper", name) <= 0:
            missing.add(Condition.HOPPER_EMPTY)
        if self.store.ribbon(name) is None:
            missing.add(Condition.RIBBON_MISSING)
        return missing

    def _supplies_block(self, job: Job, status: PrinterStatus) -> tuple[Condition, str] | None:
        """Refuse to feed a blank that cannot become a card: pause with a reason instead."""
        name = self.printer.name
        if self.store.total("hopper", name) <= 0:
            return Condition.HOPPER_EMPTY, (
                f"no blanks in the hopper by our count; load them and record it with "
                f"`printctl blanks load N --printer {name}`"
            )
        level = status.supplies.hopper_level
        if level.value == 0:
            return Condition.HOPPER_EMPTY, "the printer reports an empty hopper; load blanks"
        ribbon = self.store.ribbon(name)
        if ribbon is None:
            return Condition.RIBBON_MISSING, (
                f"no ribbon recorded for {name}; install one and record it with "
                f"`printctl ribbon install --type TYPE --printer {name}`"
            )
        if ribbon["remaining"] < job.sides:
            return Condition.RIBBON_OUT, (
                f"the ribbon has {ribbon['remaining']} prints left by our count and this card "
                f"needs {job.sides}; change the ribbon (`printctl ribbon install`)"
            )
        if not prints_on(job.document, ribbon["type"]):
            # A colour photo on a black ribbon is a spoiled card and a lost blank: wait instead.
            return Condition.RIBBON_WRONG, (
                f"job {job.id} needs a colour ribbon and {name} has {ribbon['type'].upper()}; "
                "install a colour ribbon (`printctl ribbon install --type ymcko`)"
            )
        return None

    async def _lost(self, error: PrintdError) -> None:
        self.log.warning("printer_lost", error=str(error))
        await asyncio.to_thread(self._close_driver)
        self.runtime.up = False
        self._set_state(PrinterState.OFFLINE, {Condition.OFFLINE}, f"connection lost: {error}")
        self.store.record_retry(self.printer.name, "transport")
        delay = self._reconnect_delay()
        self._losses_in_a_row += 1
        await self._sleep(delay)

    def _reconnect_delay(self) -> float:
        """The wait before the next connect: doubles with each link lost in a row, up to the cap."""
        return min(
            self.queue.retry_initial_seconds * 2.0**self._losses_in_a_row,
            self.queue.reconnect_max_seconds,
        )

    def _load_images(self, job: Job) -> CardRequest:
        # Imported when the first card prints, not at start-up.
        from printd.drivers.raster import load_card_image

        front_path, back_path = self.store.image_paths(job.id)
        try:
            front = load_card_image(front_path.read_bytes())
            back = load_card_image(back_path.read_bytes()) if back_path is not None else None
        except FileNotFoundError:
            raise JobError(f"the images of job {job.id} are missing from the spool") from None
        ribbon = self.store.ribbon(self.printer.name)
        ribbon_type = ribbon["type"] if ribbon else self.printer.ribbon_type
        return CardRequest(job.id, front, back, ribbon_type)

    async def _request_for(self, job: Job) -> CardRequest:
        """The card for `job`: prepared while the previous card printed, or made now."""
        if self._next is not None and self._next[0] == job.id:
            prepared = await self._next[1]
            self._next = None
            if prepared is not None:
                return prepared
        return await asyncio.to_thread(self._load_images, job)

    def _print_printer_ready(self, job: Job) -> PrintResult:
        """A vendor-rendered file for a raw printer, sent untouched (printd/drivers/raw.py)."""
        from printd.drivers.raw import RawDriver, RawJob

        if not isinstance(self.driver, RawDriver):
            raise JobError(
                f"job {job.id} carries a printer-ready file, but printer {self.printer.name} "
                f"uses the {self.printer.driver} driver, which prints card images; send it to "
                'a printer configured with driver = "raw"'
            )
        path, _ = self.store.image_paths(job.id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise JobError(f"the file of job {job.id} is missing from the spool") from None
        ribbon = self.store.ribbon(self.printer.name)
        ribbon_type = ribbon["type"] if ribbon else self.printer.ribbon_type
        return self.driver.print_job(RawJob(job.id, data, job.sides, ribbon_type))

    def _prepare_next(self, after: str) -> None:
        upcoming = self.store.next_queued()
        if upcoming is None or upcoming.id == after or upcoming.printer_ready:
            self._next = None
            return
        job = upcoming

        def prepare() -> CardRequest | None:
            try:
                request = self._load_images(job)
                self.driver.prepare(request)
            except PrintdError:
                return None  # it fails again, properly, when its turn comes
            return request

        self._next = (job.id, asyncio.create_task(asyncio.to_thread(prepare)))

    async def _print(self, job: Job) -> None:
        name = self.printer.name
        try:
            job = self.store.transition(
                job.id,
                JobState.PRINTING,
                actor=ACTOR,
                printer=name,
                expect=JobState.QUEUED,
                reason=f"printing on {name}",
            )
        except ConflictError:
            return  # another printer of the pool took it first
        log = self.log.bind(job_id=job.id)
        self._idle.clear()
        self.runtime.current_job = job.id
        self._set_state(PrinterState.PRINTING, set(), f"printing job {job.id}")
        log.info("job_printing", attempt=job.attempts + 1)
        started = time.monotonic()
        try:
            try:
                if job.printer_ready:
                    result = await asyncio.to_thread(self._print_printer_ready, job)
                else:
                    request = await self._request_for(job)
                    printing = asyncio.create_task(
                        asyncio.to_thread(self.driver.print_card, request)
                    )
                    self._prepare_next(after=job.id)
                    result = await printing
            except JobError as error:
                self.store.transition(job.id, JobState.FAILED, actor=ACTOR, reason=str(error))
                log.warning("job_failed", reason=str(error))
                return
            except NeedsOperator as error:
                # Refused before a blank moved: the job keeps its place at the head.
                self.store.transition(job.id, JobState.QUEUED, actor=ACTOR, reason=str(error))
                self.store.record_retry(name, error.condition)
                self._set_state(
                    PrinterState.NEEDS_OPERATOR, {Condition(error.condition)}, str(error)
                )
                log.info("job_requeued", reason=str(error))
                return
            except TransportError as error:
                self.store.transition(
                    job.id,
                    JobState.QUEUED,
                    actor=ACTOR,
                    reason=f"printer unreachable before the blank was fed: {error}",
                )
                log.info("job_requeued", reason=str(error))
                await self._lost(error)
                return
            except Exception as error:  # a bug after the blank may have moved: never guess
                log.exception("job_outcome_unknown")
                result = PrintResult(Outcome.UNKNOWN, reason=f"internal error: {error}")
            self._book(job, result, log)
        finally:
            self.runtime.current_job = None
            self._idle.set()
            release_free_memory()
            if self._timings is not None:
                self._timings.card_done(time.monotonic() - started)

    def _book(self, job: Job, result: PrintResult, log: Any) -> None:
        name = self.printer.name
        ribbon = self.store.ribbon(name)
        ribbon_entries = []
        if result.ribbon_prints and ribbon is not None:
            ribbon_entries.append(
                Entry(
                    Item.RIBBON_PRINTS,
                    Kind.USED,
                    result.ribbon_prints,
                    name,
                    job_id=job.id,
                    ribbon_id=ribbon["id"],
                )
            )
        if result.outcome is Outcome.PRINTED:
            self.store.transition(
                job.id,
                JobState.PRINTED,
                actor=ACTOR,
                reason="card left the printer",
                entries=[Entry(Item.BLANKS, Kind.PRINTED, 1, name, job_id=job.id), *ribbon_entries],
            )
            log.info("job_printed")
            if self._timings is not None:
                self._timings.job_done(max(0.0, time.time() - job.submitted_at))
        elif result.outcome is Outcome.SPOILED:
            reason = result.reason or "rejected"
            attempts = job.attempts + 1
            final = attempts >= self.queue.max_attempts
            next_state = JobState.FAILED if final else JobState.QUEUED
            self.store.transitions(
                job.id,
                [
                    (JobState.SPOILED, f"card spoiled: {reason}"),
                    (
                        next_state,
                        f"gave up after {attempts} spoiled cards"
                        if final
                        else f"retrying on a new blank (attempt {attempts + 1})",
                    ),
                ],
                actor=ACTOR,
                entries=[
                    Entry(Item.BLANKS, Kind.SPOILED, 1, name, reason, job.id),
                    *ribbon_entries,
                ],
                count_attempt=True,
            )
            self.store.record_retry(name, reason)
            log.warning("job_spoiled", reason=reason, attempts=attempts, final=final)
            if result.condition is not None:
                self._set_state(
                    PrinterState.NEEDS_OPERATOR,
                    {result.condition},
                    f"card spoiled ({reason}); {describe_conditions({result.condition})}",
                )
        else:
            self.store.transition(
                job.id,
                JobState.INTERRUPTED,
                actor=ACTOR,
                reason=(result.reason or "outcome unknown")
                + "; check the output and reject trays, then `printctl reconcile`",
            )
            log.error("job_interrupted", reason=result.reason)
            self._connected = False
            with contextlib.suppress(PrintdError):
                self.driver.close()
