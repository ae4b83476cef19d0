"""The operations behind the API: what an operator can ask of printd, in one place.

The HTTP layer (api.py) only translates; every rule lives here or in the store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog

from printd.config import Config
from printd.drivers.status import Condition, PrinterState, describe_conditions
from printd.drivers.uri import RIBBON_TYPES
from printd.errors import ConfirmationNeeded, ConflictError, JobError, NotFoundError
from printd.jobfile import ParsedJob, parse_job
from printd.queue.dispatcher import PrinterRuntime
from printd.queue.jobs import FINAL_STATES, JobState
from printd.queue.ledger import Entry, Item, Kind
from printd.queue.store import Job, JobSpec, Store
from printd.telemetry.forecast import Forecast

# A reprint this soon after printd printed the same card itself asks for confirmation; past a
# day the holder has had the card in hand and a reprint replaces a lost or damaged one.
SECOND_CARD_WINDOW_SECONDS = 24 * 3600


class OperatorHands(Protocol):
    """For a simulated printer, the physical act an operator command stands for."""

    def load_blanks(self, count: int) -> None: ...

    def unload_blanks(self, count: int) -> None: ...

    def install_ribbon(self, ribbon_type: str, capacity: int) -> None: ...


@dataclass
class Service:
    config: Config
    store: Store
    runtimes: Callable[[], Sequence[PrinterRuntime]]
    wake: asyncio.Event
    hands: Mapping[str, OperatorHands]
    intake_status: Callable[[], dict[str, Any]] | None = None  # set when [intake] is configured
    # Config keys changed in the file that the running daemon has not applied (reload refused).
    restart_needed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.log = structlog.get_logger("printd.service")
        self.tz = ZoneInfo(self.config.daemon.timezone)

    def iso(self, at: float | None) -> str | None:
        """A moment for JSON readers: ISO 8601 in the station's zone, with its offset."""
        if at is None:
            return None
        return datetime.fromtimestamp(at, self.tz).isoformat(timespec="seconds")

    def _public(self, job: Job) -> dict[str, Any]:
        """A job as the API shows it. The epoch fields stay for the scripts written against
        them; the `*_iso` twins are what a person or a new script reads."""
        out = job.public()
        out["submitted_at_iso"] = self.iso(job.submitted_at)
        out["updated_at_iso"] = self.iso(job.updated_at)
        return out

    # ---- jobs ------------------------------------------------------------------------------

    def submit(self, body: Any, actor: str) -> tuple[dict[str, Any], bool]:
        parsed = parse_job(body)
        job, created = self.store.submit(parsed.spec, parsed.images, actor=actor)
        if created:
            self.log.info("job_submitted", job_id=job.id, sides=job.sides, actor=actor)
            self.wake.set()
        return self._public(job), created

    def submit_batch(self, bodies: Sequence[Any], actor: str) -> list[dict[str, Any]]:
        """Many jobs, one commit: each body gets its own outcome, as if submitted alone (a
        refused one is named with its reason, the others are stored)."""
        outcomes: list[dict[str, Any]] = [{} for _ in bodies]
        parsed: list[tuple[int, ParsedJob]] = []
        for index, body in enumerate(bodies):
            try:
                parsed.append((index, parse_job(body)))
            except JobError as error:
                outcomes[index] = {"error": str(error), "kind": type(error).__name__}
        items = [(p.spec, p.images) for _, p in parsed]
        results = self.store.submit_each(items, actor=actor) if items else []
        created = []
        for (index, _), result in zip(parsed, results, strict=True):
            if isinstance(result, ConflictError):
                outcomes[index] = {"error": str(result), "kind": type(result).__name__}
                continue
            job, new = result
            outcomes[index] = {"job": self._public(job), "created": new}
            if new:
                created.append(job.id)
        if created:
            # One line a batch: ids only (never the holder); each job's event is in the audit.
            self.log.info("jobs_submitted", jobs=created, actor=actor)
            self.wake.set()
        return outcomes

    def job(self, job_id: str) -> dict[str, Any]:
        out = self._public(self.store.get(job_id))
        out["events"] = [
            dict(event, at_iso=self.iso(event["at"])) for event in self.store.events(job_id)
        ]
        return out

    def jobs(self, state: str | None) -> list[dict[str, Any]]:
        try:
            wanted = JobState(state) if state else None
        except ValueError:
            known = ", ".join(s.value for s in JobState)
            raise JobError(f"state: unknown job state {state!r} (known: {known})") from None
        listed = [self._public(j) for j in self.store.jobs(wanted)]
        waiting = self._printers_wait_for()
        if waiting:
            for job in listed:
                if job["state"] == JobState.QUEUED:
                    job["waiting_for"] = waiting
        return listed

    def _printers_wait_for(self) -> str | None:
        """Why queued jobs do not print now: the reason of a printer waiting for a person,
        when no printer is free to take them."""
        runtimes = list(self.runtimes())
        free = [rt for rt in runtimes if rt.state in (PrinterState.IDLE, PrinterState.PRINTING)]
        reasons = [rt.reason for rt in runtimes if rt.reason]
        return reasons[0] if runtimes and not free and reasons else None

    def _move(
        self,
        job_id: str,
        target: JobState,
        actor: str,
        reason: str,
        expect: JobState | None = None,
    ) -> dict[str, Any]:
        job = self.store.transition(job_id, target, actor=actor, reason=reason, expect=expect)
        self.log.info("job_changed", job_id=job_id, state=str(target), actor=actor)
        self.wake.set()
        return self._public(job)

    def _refuse_unless(self, job_id: str, allowed: tuple[JobState, ...], rule: str) -> None:
        """An operator's action on a job in the wrong state, refused in a counter's words
        (the state machine's own message names states an operator never needs)."""
        state = self.store.get(job_id).state
        if state not in allowed:
            raise ConflictError(f"job {job_id} is {state}; {rule}")

    def cancel(self, job_id: str, actor: str) -> dict[str, Any]:
        job = self.store.get(job_id)
        if job.state is JobState.PRINTING:
            raise ConflictError(
                f"job {job_id} is in the printer now; let the card finish, then reprint or "
                "reconcile as needed"
            )
        self._refuse_unless(
            job_id, (JobState.QUEUED, JobState.HELD), "only a waiting or held job is cancelled"
        )
        return self._move(job_id, JobState.CANCELLED, actor, "cancelled by operator")

    def hold(self, job_id: str, actor: str) -> dict[str, Any]:
        self._refuse_unless(job_id, (JobState.QUEUED,), "only a waiting job is held")
        return self._move(job_id, JobState.HELD, actor, "held by operator")

    def release(self, job_id: str, actor: str) -> dict[str, Any]:
        # Only a held job is released: `printing → queued` is the dispatcher's alone (a fault
        # before the blank moved); from an operator it would print the card a second time.
        self._refuse_unless(job_id, (JobState.HELD,), "only a held job is released")
        return self._move(job_id, JobState.QUEUED, actor, "released by operator", JobState.HELD)

    def reprint(
        self, job_id: str, reason: str, actor: str, *, confirm: bool = False
    ) -> dict[str, Any]:
        if not reason.strip():
            raise JobError("reason: say why the card is printed again (it goes in the audit)")
        original = self.store.get(job_id)
        events = self.store.events(job_id)
        spoiled = [e for e in events if e["to"] == JobState.SPOILED]
        if original.state in (JobState.QUEUED, JobState.HELD, JobState.PRINTING) and spoiled:
            raise ConflictError(
                f"job {job_id} is {original.state}: its spoiled card prints again by itself on a "
                "new blank; do not reprint it"
            )
        if original.state is not JobState.PRINTED:
            raise ConflictError(
                f"job {job_id} is {original.state}; only a printed card is reprinted"
            )
        if not confirm:
            self._refuse_second_card(job_id, spoiled, events)
        front, back = self.store.image_paths(job_id)
        if not front.exists():
            raise ConflictError(
                f"the images of job {job_id} are gone (kept [queue] spool_retention_days "
                f"= {self.config.queue.spool_retention_days} after printing); submit it again"
            )
        images = [front.read_bytes()] + ([back.read_bytes()] if back else [])
        # Counted in the store, not in a listing: the API lists only the newest jobs, and a
        # stale count would reuse an id and quietly return the earlier reprint.
        count = self.store.reprint_count(job_id)
        spec = JobSpec(
            id=f"{job_id}.r{count + 1}",
            document=original.document,
            holder=self.store.holder(job_id),
            sides=original.sides,
            priority=original.priority,
            batch=original.batch,
            printer_ready=original.printer_ready,
        )
        job, _ = self.store.submit(
            spec, images, actor=actor, reprint_of=job_id, reason=f"reprint of {job_id}: {reason}"
        )
        # The reason is the operator's free text: it stays in the audit trail, not in the log.
        self.log.info("job_reprinted", job_id=job.id, reprint_of=job_id, actor=actor)
        self.wake.set()
        return self._public(job)

    def _refuse_second_card(
        self, job_id: str, spoiled: list[dict[str, Any]], events: list[dict[str, Any]]
    ) -> None:
        """A reprint soon after printd itself printed the card again (after a spoil), or while
        an earlier reprint is on its way, is most likely a second card for one holder: a
        security problem. It needs the operator's explicit confirmation."""
        since = time.time() - SECOND_CARD_WINDOW_SECONDS
        printed = [e for e in events if e["to"] == JobState.PRINTED]
        if spoiled and printed and printed[-1]["at"] >= since:
            raise ConfirmationNeeded(
                f"job {job_id} was spoiled at {self._clock(spoiled[-1]['at'])} and printd "
                f"printed it again on a new blank at {self._clock(printed[-1]['at'])}: the holder "
                "has that card. A reprint makes a second card; only if that card is lost or "
                "damaged, repeat with --yes"
            )
        for earlier in self.store.reprints(job_id):
            if earlier.state in FINAL_STATES and earlier.state is not JobState.PRINTED:
                continue
            if earlier.state is JobState.PRINTED and earlier.updated_at < since:
                continue
            raise ConfirmationNeeded(
                f"job {job_id} was reprinted already as {earlier.id}, which is {earlier.state}; "
                "another reprint makes one more card for the same holder; only if that is "
                "needed, repeat with --yes"
            )

    def _clock(self, at: float) -> str:
        """A moment as the station's people read it: their zone, to the minute."""
        moment = datetime.fromtimestamp(at, self.tz)
        return moment.strftime("%Y-%m-%d %H:%M")

    def reconcile(self, job_id: str, outcome: str, actor: str) -> dict[str, Any]:
        job = self.store.get(job_id)
        if job.state is not JobState.INTERRUPTED:
            raise ConflictError(
                f"job {job_id} is {job.state}; only an interrupted job is reconciled"
            )
        printer = job.printer or ""
        ribbon = self.store.ribbon(printer)
        entries = []
        if ribbon is not None:
            entries.append(
                Entry(
                    Item.RIBBON_PRINTS,
                    Kind.USED,
                    job.sides,
                    printer,
                    job_id=job_id,
                    ribbon_id=ribbon["id"],
                )
            )
        if outcome == "printed":
            entries.insert(0, Entry(Item.BLANKS, Kind.PRINTED, 1, printer, job_id=job_id))
            moved = self.store.transition(
                job_id,
                JobState.PRINTED,
                actor=actor,
                entries=entries,
                reason="reconciled: operator found the card printed",
            )
        elif outcome == "spoiled":
            entries.insert(0, Entry(Item.BLANKS, Kind.SPOILED, 1, printer, "interrupted", job_id))
            moved = self.store.transitions(
                job_id,
                [
                    (JobState.SPOILED, "reconciled: operator found the card spoiled"),
                    (JobState.QUEUED, "printing again on a new blank"),
                ],
                actor=actor,
                printer=printer,
                entries=entries,
                count_attempt=True,
            )
        else:
            raise JobError("outcome: must be 'printed' or 'spoiled'")
        self.log.info("job_reconciled", job_id=job_id, outcome=outcome, actor=actor)
        self.wake.set()
        return self._public(moved)

    # ---- supplies --------------------------------------------------------------------------

    def _printer(self, name: str | None) -> str:
        if name is None:
            if len(self.config.printers) == 1:
                return self.config.printers[0].name
            names = ", ".join(p.name for p in self.config.printers)
            raise JobError(
                f"printer: more than one printer here; name one with --printer ({names})"
            )
        if self.config.printer(name) is None:
            names = ", ".join(p.name for p in self.config.printers)
            raise NotFoundError(f"no printer {name!r} (printers: {names})")
        return name

    @staticmethod
    def _count(value: Any, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 100_000:
            raise JobError(f"{what}: a whole number from 1 to 100000")
        return value

    def stock_receive(self, blanks: Any, ribbons: Any, actor: str) -> dict[str, Any]:
        entries = []
        if blanks is not None:
            entries.append(Entry(Item.BLANKS, Kind.RECEIVED, self._count(blanks, "blanks")))
        if ribbons is not None:
            entries.append(Entry(Item.RIBBONS, Kind.RECEIVED, self._count(ribbons, "ribbons")))
        if not entries:
            raise JobError("say what arrived: --blanks N and/or --ribbons N")
        self.store.book(entries, actor=actor)
        return self.supplies()

    def blanks_load(self, count: Any, printer: str | None, actor: str) -> dict[str, Any]:
        name = self._printer(printer)
        n = self._count(count, "count")
        stock = self.store.total("stock_blanks")
        if n > stock:
            raise ConflictError(
                f"office stock has {stock} blanks, fewer than {n}; record deliveries with "
                "`printctl stock receive --blanks N`"
            )
        capacity = self.config.printer(name).hopper_capacity  # type: ignore[union-attr]
        hopper = self.store.total("hopper", name)
        if hopper + n > capacity:
            raise ConflictError(
                f"the hopper of {name} holds {capacity}; it has {hopper}, so at most "
                f"{capacity - hopper} more fit"
            )
        self.store.book([Entry(Item.BLANKS, Kind.LOADED, n, name)], actor=actor)
        if name in self.hands:
            self.hands[name].load_blanks(n)
        self.wake.set()
        return self.supplies()

    def blanks_unload(self, count: Any, printer: str | None, actor: str) -> dict[str, Any]:
        name = self._printer(printer)
        n = self._count(count, "count")
        hopper = self.store.total("hopper", name)
        if n > hopper:
            raise ConflictError(f"the hopper of {name} holds {hopper} blanks by our count, not {n}")
        self.store.book([Entry(Item.BLANKS, Kind.UNLOADED, n, name)], actor=actor)
        if name in self.hands:
            self.hands[name].unload_blanks(n)
        return self.supplies()

    def ribbon_install(
        self, ribbon_type: Any, capacity: Any, printer: str | None, actor: str
    ) -> dict[str, Any]:
        name = self._printer(printer)
        if not isinstance(ribbon_type, str) or ribbon_type.lower() not in RIBBON_TYPES:
            raise JobError(f"type: a ribbon code, one of {', '.join(sorted(RIBBON_TYPES))}")
        cfg = self.config.printer(name)
        prints = (
            self._count(capacity, "capacity")
            if capacity is not None
            else (cfg.ribbon_capacity if cfg else 450)
        )
        self.store.install_ribbon(name, ribbon_type.lower(), prints, actor=actor)
        if name in self.hands:
            self.hands[name].install_ribbon(ribbon_type.lower(), prints)
        self.wake.set()
        return self.supplies()

    def ribbon_warnings(self, ribbon_type: Any, printer: str | None) -> list[str]:
        """What a ribbon change would get wrong, for the operator to confirm: prints thrown
        away, or a type the printer is not set up for."""
        name = self._printer(printer)
        if not isinstance(ribbon_type, str) or ribbon_type.lower() not in RIBBON_TYPES:
            return []  # ribbon_install refuses it with the list of codes
        warnings = []
        current = self.store.ribbon(name)
        conditions: set[str] = set()
        for rt in self.runtimes():
            if rt.name == name:
                conditions = {str(c) for c in rt.conditions}
        # Below the low mark the office was told to change it; a printer that reports its
        # ribbon out or missing has nothing left to lose.
        if (
            current is not None
            and current["remaining"] >= self.config.supplies.ribbon_low
            and not conditions & {"ribbon_out", "ribbon_missing"}
        ):
            warnings.append(
                f"the {current['type'].upper()} ribbon in {name} still has {current['remaining']} "
                "prints by our count; a new ribbon throws them away"
            )
        cfg = self.config.printer(name)
        if cfg is not None and ribbon_type.lower() != cfg.ribbon_type:
            warnings.append(
                f"{name} is set up for {cfg.ribbon_type.upper()} ribbons (ribbon_type in "
                f"printd.toml), not {ribbon_type.upper()}"
            )
        if warnings:
            warnings.append("only if that is right, repeat with --yes")
        return warnings

    def supplies(self) -> dict[str, Any]:
        marks = self.config.supplies
        printers = {}
        for p in self.config.printers:
            hopper = self.store.total("hopper", p.name)
            ribbon = self.store.ribbon(p.name)
            low = ["hopper"] if hopper < marks.hopper_low else []
            if ribbon is not None and ribbon["remaining"] < marks.ribbon_low:
                low.append("ribbon")
            printers[p.name] = {
                "hopper": hopper,
                "hopper_capacity": p.hopper_capacity,
                "ribbon": ribbon,
                "low": low,  # below the `[supplies]` low marks, as the alerts see it
            }
        return {
            "stock_blanks": self.store.total("stock_blanks"),
            "stock_ribbons": self.store.total("stock_ribbons"),
            "printers": printers,
        }

    # ---- overview --------------------------------------------------------------------------

    def status(self, forecast: Mapping[str, Forecast]) -> dict[str, Any]:
        tz = ZoneInfo(self.config.daemon.timezone)
        today = self.report(datetime.now(tz).date().isoformat())
        supplies = self.supplies()
        printers = []
        for rt in self.runtimes():
            entry = rt.public()
            entry.update(supplies["printers"].get(rt.name, {}))
            entry.update(self._hopper_counts(rt))
            self._note_supplies(entry)
            printers.append(entry)
        queue = {s.value: self.store.total("jobs_state", "", s) for s in JobState}
        # Each interrupted card needs a person at the trays: named with the job, never only
        # counted, so it cannot hide behind an idle printer.
        interrupted = [
            {"id": j.id, "printer": j.printer, "updated_at_iso": self.iso(j.updated_at)}
            for j in self.store.jobs(JobState.INTERRUPTED)
        ]
        return {
            "station": self.config.daemon.station,
            # The zone every time shown to a person is read in (printctl has no config).
            "timezone": self.config.daemon.timezone,
            "printers": printers,
            "interrupted": interrupted,
            "queue": queue,
            "today": {"printed": today["printed"], "spoiled": today["spoiled_total"]},
            "intake": self.intake_status() if self.intake_status is not None else None,
            "restart_needed": list(self.restart_needed),
            "stock": {
                "blanks": supplies["stock_blanks"],
                "ribbons": supplies["stock_ribbons"],
                # Kept beside the dated forecast for scripts written against it.
                "days_remaining": {
                    item: None if f.days is None else f.days for item, f in forecast.items()
                },
                "forecast": {item: f.public() for item, f in forecast.items()},
                "low": sorted(
                    item
                    for item, f in forecast.items()
                    if f.days is not None and f.days < self.config.supplies.stock_days_low
                ),
            },
        }

    def report(self, day: str | None) -> dict[str, Any]:
        """The daily reconciliation an office signs: it balances to the card."""
        tz = self.tz
        today = datetime.now(tz).date()
        try:
            if day in (None, "today"):
                when = today
            elif day == "yesterday":
                when = today - timedelta(days=1)
            else:
                when = date.fromisoformat(str(day))
        except ValueError:
            raise JobError(
                f"day: {day!r} is not a date like 2026-11-27, today or yesterday"
            ) from None
        start = datetime(when.year, when.month, when.day, tzinfo=tz)
        end = start + timedelta(days=1)
        opening = {"stock": 0, "hoppers": 0}
        moves = {"received": 0, "loaded": 0, "unloaded": 0, "printed": 0}
        spoiled: dict[str, int] = {}
        for at, item, kind, _printer, qty, reason in self.store.ledger_rows(None, end.timestamp()):
            if item != "blanks":
                continue
            before = at < start.timestamp()
            if before:
                stock_delta = {"received": qty, "loaded": -qty, "unloaded": qty}.get(kind, 0)
                hopper_delta = {
                    "loaded": qty,
                    "unloaded": -qty,
                    "printed": -qty,
                    "spoiled": -qty,
                }.get(kind, 0)
                opening["stock"] += stock_delta
                opening["hoppers"] += hopper_delta
            elif kind == "spoiled":
                spoiled[reason or "unspecified"] = spoiled.get(reason or "unspecified", 0) + qty
            else:
                moves[kind] = moves.get(kind, 0) + qty
        spoiled_total = sum(spoiled.values())
        closing_stock = opening["stock"] + moves["received"] - moves["loaded"] + moves["unloaded"]
        closing_hoppers = (
            opening["hoppers"]
            + moves["loaded"]
            - moves["unloaded"]
            - moves["printed"]
            - spoiled_total
        )
        opening_total = opening["stock"] + opening["hoppers"]
        closing_total = closing_stock + closing_hoppers
        return {
            "station": self.config.daemon.station,
            "day": when.isoformat(),
            "timezone": self.config.daemon.timezone,
            "generated_at": self.iso(time.time()),
            "printers": self._report_printers(start.timestamp(), end.timestamp()),
            "cards": self._report_cards(start.timestamp(), end.timestamp()),
            "opening": {**opening, "total": opening_total},
            "received": moves["received"],
            "loaded": moves["loaded"],
            "unloaded": moves["unloaded"],
            "printed": moves["printed"],
            "spoiled": spoiled,
            "spoiled_total": spoiled_total,
            "closing": {"stock": closing_stock, "hoppers": closing_hoppers, "total": closing_total},
            # opening + received − printed − spoiled − closing: zero when every blank is
            # accounted for.
            "balance": opening_total
            + moves["received"]
            - moves["printed"]
            - spoiled_total
            - closing_total,
        }

    @staticmethod
    def _note_supplies(entry: dict[str, Any]) -> None:
        """An idle printer with an empty hopper or no usable ribbon by our count. The
        dispatcher checks only when a job waits, so with an empty queue nothing else says so
        before the next KTP-el is submitted."""
        if entry["state"] != PrinterState.IDLE:
            return
        found = set()
        if entry.get("hopper", 1) <= 0:
            found.add(Condition.HOPPER_EMPTY)
        ribbon = entry.get("ribbon", {})
        if ribbon is None:
            found.add(Condition.RIBBON_MISSING)
        elif ribbon and ribbon["remaining"] <= 0:
            found.add(Condition.RIBBON_OUT)
        if found:
            entry["conditions"] = sorted({*entry["conditions"], *(str(c) for c in found)})
            entry["reason"] = entry["reason"] or describe_conditions(found)

    def _hopper_counts(self, rt: PrinterRuntime) -> dict[str, int | None]:
        """printd's count of the hopper against the printer's own, where it reports one: blanks
        taken out or put in without `printctl` show here before they show in the ledger."""
        theirs = rt.printer_hopper_count()
        ours = self.store.total("hopper", rt.name)
        return {
            "printer_hopper_count": theirs,
            "hopper_drift": None if theirs is None else ours - theirs,
        }

    def _report_printers(self, start: float, end: float) -> list[dict[str, Any]]:
        """Per printer: what identifies it on paper and the day's ribbon figures."""
        runtimes = {rt.name: rt for rt in self.runtimes()}
        identity = {name: rt.public() for name, rt in runtimes.items()}
        out = []
        for p in self.config.printers:
            seen = identity.get(p.name, {})
            installed = self.store.db.execute(
                "SELECT count(*) FROM ribbons WHERE printer = ? AND installed_at >= ?"
                " AND installed_at < ?",
                (p.name, start, end),
            ).fetchone()[0]
            used = self.store.db.execute(
                "SELECT coalesce(sum(quantity), 0) FROM ledger WHERE item = ? AND kind = ?"
                " AND printer = ? AND at >= ? AND at < ?",
                (Item.RIBBON_PRINTS, Kind.USED, p.name, start, end),
            ).fetchone()[0]
            ribbon = self.store.ribbon(p.name)
            out.append(
                {
                    "name": p.name,
                    "model": seen.get("model"),
                    "serial": seen.get("serial"),
                    "ribbons_installed": int(installed),
                    "ribbon_prints_used": int(used),
                    # Left on the ribbon in the printer now, as the report is generated.
                    "ribbon_type": ribbon["type"] if ribbon else None,
                    "ribbon_left": ribbon["remaining"] if ribbon else None,
                    # The hopper as the report is generated: printd's count, the printer's.
                    "hopper": self.store.total("hopper", p.name),
                    **(self._hopper_counts(runtimes[p.name]) if p.name in runtimes else {}),
                }
            )
        return out

    def _report_cards(self, start: float, end: float) -> list[dict[str, Any]]:
        """The day's spoiled and interrupted cards, each with its job and reason: the list an
        office checks against the reject box before signing."""
        cards: list[tuple[float, dict[str, Any]]] = [
            (
                at,
                {
                    "at_iso": self.iso(at),
                    "job": job_id,
                    "printer": printer,
                    "outcome": "spoiled",
                    "reason": reason or "unspecified",
                },
            )
            for at, job_id, printer, reason in self.store.db.execute(
                "SELECT at, job_id, printer, reason FROM ledger WHERE item = ? AND kind = ?"
                " AND at >= ? AND at < ? ORDER BY seq",
                (Item.BLANKS, Kind.SPOILED, start, end),
            )
        ]
        for at, job_id, printer in self.store.db.execute(
            "SELECT at, job_id, printer FROM events WHERE to_state = ? AND at >= ? AND at < ?"
            " ORDER BY seq",
            (JobState.INTERRUPTED, start, end),
        ):
            job = self.store.get(job_id)
            state = job.state
            card = {
                "at_iso": self.iso(at),
                "job": job_id,
                "printer": printer or job.printer,  # recovery's event names no printer
                "outcome": "interrupted",
                # Still interrupted: nobody has looked yet; else what became of the job since.
                "reason": str(state),
            }
            cards.append((at, card))
        # In the order they happened (to the second, `at_iso` alone would not tell).
        return [card for _, card in sorted(cards, key=lambda item: item[0])]

    def audit_verify(self) -> dict[str, Any]:
        broken = self.store.verify_chain()
        return {"ok": broken is None, "first_broken_event": broken}

    def waiting_jobs(self) -> int:
        return sum(self.store.total("jobs_state", "", s) for s in JobState if s not in FINAL_STATES)
