"""Random sequences of everything that happens at a print station, against a real store on a
temporary SQLite file, with every invariant checked after every step.

Operator actions go through `Service` (the code behind the API). Whether a printer may take the
next job is the dispatcher's own `_supplies_block`, asked with the simulated printer's real
status (a printer that always has blanks and ribbon, so only printd's counts can refuse); the job
moves with the same store call the dispatcher makes, and outcomes are booked by the dispatcher's
own `_book` (an outcome on an idle printer first has it take the next job). A crash closes the
store without ceremony and reopens it the way the daemon starts (`interrupt_orphans`). A model of
what should be true runs beside it.

CI runs a short search; `make soak` (PRINTD_SOAK=full) a much deeper one, and a spoil-heavy
variant reaches a job's last attempt often in both.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import os
import shutil
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from PIL import Image

from printd.config import Config, load_config
from printd.devices import BuiltPrinter, build_printer
from printd.drivers.base import Outcome, PrintResult
from printd.drivers.status import Condition
from printd.errors import ConflictError
from printd.queue.dispatcher import ACTOR, Dispatcher
from printd.queue.jobs import FINAL_STATES, JobState
from printd.queue.store import Store
from printd.service import Service
from tests.conftest import write_config

PRINTERS = ("counter-1", "counter-2")
MAX_ATTEMPTS = 3  # write_config's [queue] max_attempts
HOPPER_CAPACITY = 100  # the [[printer]] default
# The printer's own hopper and ribbon never run out here: only printd's counts may refuse a card.
DEVICE = "sim://primacy?hopper=100&ribbon=ymcko"
FULL = os.environ.get("PRINTD_SOAK") == "full"


def _card_png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (1016, 648), "white").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


CARD = _card_png()


def _note(what: str) -> None:
    """Count a happening in Hypothesis's statistics (a no-op when a rule is called directly)."""
    with contextlib.suppress(InvalidArgument):
        event(what)


class StationMachine(RuleBasedStateMachine):
    submitted = Bundle("submitted")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="printd-stateful-"))
        self.config: Config = load_config(
            write_config(self.folder, printers=len(PRINTERS), device=DEVICE)
        )
        self.built: dict[str, BuiltPrinter] = {}
        self.logs = structlog.testing.capture_logs()
        self.captured: list[dict[str, Any]] = self.logs.__enter__()
        # The model: what the station must look like.
        self.state: dict[str, JobState] = {}
        self.attempts: dict[str, int] = {}
        self.sides: dict[str, int] = {}
        self.bodies: dict[str, dict[str, Any]] = {}
        self.in_printer: dict[str, str | None] = dict.fromkeys(PRINTERS)
        self.job_printer: dict[str, str] = {}
        self.stock = 0
        self.ribbon_stock = 0
        self.hopper = dict.fromkeys(PRINTERS, 0)
        self.ribbon_left: dict[str, int | None] = dict.fromkeys(PRINTERS)
        self.ribbon_type: dict[str, str | None] = dict.fromkeys(PRINTERS)
        self.personal: set[str] = set()
        self._open()

    # ---- wiring ----------------------------------------------------------------------------

    def _open(self) -> list[str]:
        self.store = Store(self.config.daemon.state_dir)
        self.store.open()
        orphans = self.store.interrupt_orphans()
        wake = asyncio.Event()
        for printer in self.config.printers:
            if printer.name not in self.built:
                self.built[printer.name] = build_printer(printer, self.config.daemon.state_dir)
                self.built[printer.name].driver.connect()
        self.dispatchers = {
            p.name: Dispatcher(p, self.built[p.name].driver, self.store, self.config.queue, wake)
            for p in self.config.printers
        }
        self.service = Service(
            self.config,
            self.store,
            lambda: [d.runtime for d in self.dispatchers.values()],
            wake,
            {},
        )
        return orphans

    def teardown(self) -> None:
        self.logs.__exit__(None, None, None)
        self.store.close()
        for built in self.built.values():
            built.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _move(self, job_id: str, state: JobState) -> None:
        self.state[job_id] = state
        for printer, held in self.in_printer.items():
            if held == job_id:
                self.in_printer[printer] = None

    # ---- operators -------------------------------------------------------------------------

    @initialize()
    def first_delivery(self) -> None:
        # A station ready to print, so short runs reach the interesting states.
        self.service.stock_receive(200, 4, "operator")
        self.stock, self.ribbon_stock = 200, 4
        for printer in PRINTERS:
            self.service.blanks_load(20, printer, "operator")
            # A short ribbon, so runs reach the ribbon guard as often as the hopper's.
            self.service.ribbon_install("ymcko", 6, printer, "operator")
            self.stock, self.ribbon_stock = self.stock - 20, self.ribbon_stock - 1
            self.hopper[printer], self.ribbon_left[printer] = 20, 6
            self.ribbon_type[printer] = "ymcko"

    @initialize(target=submitted, sides=st.sampled_from([1, 2]))
    def a_job_waiting(self, sides: int) -> str:
        return self.submit(nik=0, sides=sides, priority=0)

    @rule(
        target=submitted,
        nik=st.integers(min_value=0, max_value=10**14 - 1),
        sides=st.sampled_from([1, 2]),
        priority=st.integers(-2, 2),
    )
    def submit(self, nik: int, sides: int, priority: int) -> str:
        job_id = f"job-{len(self.state) + 1}"
        holder = {"nik": f"99{nik:014d}", "name": f"WARGA QX{len(self.state):05d}Z"}
        body: dict[str, Any] = {
            "id": job_id,
            "document": "ktp-el",
            "holder": holder,
            "front": CARD,
            "priority": priority,
        }
        if sides == 2:
            body["back"] = CARD
        public, created = self.service.submit(body, "operator")
        assert created and public["state"] == "queued"
        assert holder["nik"] not in str(public) and holder["name"] not in str(public)
        self.state[job_id], self.attempts[job_id], self.sides[job_id] = JobState.QUEUED, 0, sides
        self.bodies[job_id] = body
        self.personal |= {holder["nik"], holder["name"]}
        return job_id

    @rule(job_id=submitted)
    def resubmit(self, job_id: str) -> None:
        public, created = self.service.submit(self.bodies[job_id], "operator")
        assert not created and public["state"] == self.state[job_id]

    @rule(blanks=st.integers(1, 150), ribbons=st.integers(0, 2))
    def receive(self, blanks: int, ribbons: int) -> None:
        self.service.stock_receive(blanks, ribbons or None, "operator")
        self.stock += blanks
        self.ribbon_stock += ribbons

    @rule(printer=st.sampled_from(PRINTERS), n=st.integers(1, 120))
    def load(self, printer: str, n: int) -> None:
        fits = n <= self.stock and self.hopper[printer] + n <= HOPPER_CAPACITY
        try:
            self.service.blanks_load(n, printer, "operator")
        except ConflictError:
            assert not fits
            return
        assert fits
        self.stock -= n
        self.hopper[printer] += n

    @rule(printer=st.sampled_from(PRINTERS), n=st.integers(1, 60))
    def unload(self, printer: str, n: int) -> None:
        try:
            self.service.blanks_unload(n, printer, "operator")
        except ConflictError:
            assert n > self.hopper[printer]
            return
        assert n <= self.hopper[printer]
        self.stock += n
        self.hopper[printer] -= n

    @rule(printer=st.sampled_from(PRINTERS))
    def empty_hopper(self, printer: str) -> None:
        """The operator takes every blank out, as before a card-stock change."""
        if self.hopper[printer] > 0:
            self.unload(printer, self.hopper[printer])

    @rule(
        printer=st.sampled_from(PRINTERS),
        ribbon=st.sampled_from(["ymcko", "kb", "ymckok"]),
        capacity=st.integers(1, 8),
    )
    def install_ribbon(self, printer: str, ribbon: str, capacity: int) -> None:
        try:
            self.service.ribbon_install(ribbon, capacity, printer, "operator")
        except ConflictError:
            assert self.ribbon_stock == 0
            return
        self.ribbon_stock -= 1
        self.ribbon_left[printer] = capacity
        self.ribbon_type[printer] = ribbon

    @rule(job_id=submitted, action=st.sampled_from(["cancel", "hold", "release"]))
    def operator_moves(self, job_id: str, action: str) -> None:
        current = self.state[job_id]
        allowed = {
            "cancel": current in (JobState.QUEUED, JobState.HELD),
            "hold": current is JobState.QUEUED,
            "release": current is JobState.HELD,
        }[action]
        try:
            getattr(self.service, action)(job_id, "operator")
        except ConflictError:
            assert not allowed
            return
        assert allowed
        target = {
            "cancel": JobState.CANCELLED,
            "hold": JobState.HELD,
            "release": JobState.QUEUED,
        }[action]
        self._move(job_id, target)

    @rule(job_id=submitted, outcome=st.sampled_from(["printed", "spoiled"]))
    def reconcile(self, job_id: str, outcome: str) -> None:
        interrupted = self.state[job_id] is JobState.INTERRUPTED
        try:
            self.service.reconcile(job_id, outcome, "operator")
        except ConflictError:
            assert not interrupted
            return
        assert interrupted
        _note(f"reconciled as {outcome}")
        printer = self.job_printer[job_id]
        self.hopper[printer] -= 1
        self._use_ribbon(printer, self.sides[job_id])
        if outcome == "printed":
            self._move(job_id, JobState.PRINTED)
        else:
            self.attempts[job_id] += 1
            self._move(job_id, JobState.QUEUED)

    # ---- the dispatcher --------------------------------------------------------------------

    def _use_ribbon(self, printer: str, prints: int) -> None:
        left = self.ribbon_left[printer]
        if left is not None:
            self.ribbon_left[printer] = left - prints

    def _next_queued(self) -> str | None:
        queued = [j for j, s in self.state.items() if s is JobState.QUEUED]
        if not queued:
            return None
        order = {j: int(j.split("-")[1]) for j in queued}
        return max(queued, key=lambda j: (self.bodies[j]["priority"], -order[j]))

    def _refusal(self, printer: str, sides: int) -> Condition | None:
        """Why the model says this printer must not feed a blank for a card of `sides`."""
        left = self.ribbon_left[printer]
        if self.hopper[printer] <= 0:
            return Condition.HOPPER_EMPTY
        if left is None:
            return Condition.RIBBON_MISSING
        if left < sides:
            return Condition.RIBBON_OUT
        # Every job here is a KTP-el, a colour photo: KB (black only) never prints it.
        if self.ribbon_type[printer] not in ("ymcko", "ymckok"):
            return Condition.RIBBON_WRONG
        return None

    @rule(printer=st.sampled_from(PRINTERS))
    def dispatch(self, printer: str) -> None:
        expected = self._next_queued()
        job = self.store.next_queued()
        assert (job.id if job else None) == expected
        if job is None or self.in_printer[printer] is not None:
            return  # nothing to print, or this printer is busy with a card
        assert job.sides == self.sides[job.id]
        status = self.built[printer].driver.status()
        blocked = self.dispatchers[printer]._supplies_block(job, status)
        refusal = self._refusal(printer, job.sides)
        assert (blocked[0] if blocked else None) == refusal, blocked
        if blocked is not None:
            _note(f"the dispatcher refused a blank: {refusal}")
            return  # the dispatcher pauses this printer with the reason instead
        self.store.transition(
            job.id,
            JobState.PRINTING,
            actor=ACTOR,
            printer=printer,
            expect=JobState.QUEUED,
            reason=f"printing on {printer}",
        )
        self._move(job.id, JobState.PRINTING)
        _note("a card went into a printer")
        self.in_printer[printer] = job.id
        self.job_printer[job.id] = printer

    def _book(self, printer: str, result: PrintResult) -> str:
        job_id = self.in_printer[printer]
        assert job_id is not None
        self.dispatchers[printer]._book(self.store.get(job_id), result, structlog.get_logger())
        return job_id

    def _card_in(self, printer: str) -> str | None:
        """The job whose card is in `printer`; an idle printer takes the next job first."""
        if self.in_printer[printer] is None:
            self.dispatch(printer)
        return self.in_printer[printer]

    @rule(printer=st.sampled_from(PRINTERS))
    def card_printed(self, printer: str) -> None:
        job_id = self._card_in(printer)
        if job_id is None:
            return
        sides = self.sides[job_id]
        job_id = self._book(printer, PrintResult(Outcome.PRINTED, ribbon_prints=sides))
        self.hopper[printer] -= 1
        self._use_ribbon(printer, sides)
        self._move(job_id, JobState.PRINTED)

    @rule(printer=st.sampled_from(PRINTERS), reason=st.sampled_from(["rejected", "jam"]))
    def card_spoiled(self, printer: str, reason: str) -> None:
        job_id = self._card_in(printer)
        if job_id is None:
            return
        self._book(printer, PrintResult(Outcome.SPOILED, reason, ribbon_prints=1))
        self.hopper[printer] -= 1
        self._use_ribbon(printer, 1)
        self.attempts[job_id] += 1
        final = self.attempts[job_id] >= MAX_ATTEMPTS
        if final:
            _note("a job failed on its last spoiled card")
        self._move(job_id, JobState.FAILED if final else JobState.QUEUED)

    @rule(printer=st.sampled_from(PRINTERS))
    def printer_vanished_mid_card(self, printer: str) -> None:
        job_id = self._card_in(printer)
        if job_id is None:
            return
        self._book(printer, PrintResult(Outcome.UNKNOWN, "the printer went away mid-card"))
        self._move(job_id, JobState.INTERRUPTED)

    @rule(printer=st.sampled_from(PRINTERS))
    def fault_before_feed(self, printer: str) -> None:
        job_id = self._card_in(printer)
        if job_id is None:
            return
        self.store.transition(
            job_id, JobState.QUEUED, actor=ACTOR, reason="printer unreachable before the feed"
        )
        self._move(job_id, JobState.QUEUED)

    @rule()
    def crash(self) -> None:
        # The daemon dies: no drain, no clean shutdown of the dispatchers.
        self.store.close()
        orphans = self._open()
        expected = sorted(j for j in self.in_printer.values() if j is not None)
        assert sorted(orphans) == expected
        for job_id in orphans:
            self._move(job_id, JobState.INTERRUPTED)
        _note(f"crash with {len(orphans)} card(s) in printers")

    # ---- invariants ------------------------------------------------------------------------

    @invariant()
    def jobs_are_where_the_model_says(self) -> None:
        rows = dict(self.store.db.execute("SELECT id, state FROM jobs").fetchall())
        assert rows == {j: str(s) for j, s in self.state.items()}
        for job_id, attempts in self.attempts.items():
            assert self.store.get(job_id).attempts == attempts

    @invariant()
    def blanks_balance_per_printer_and_in_the_store_room(self) -> None:
        sums: Counter[tuple[str, str]] = Counter()
        for kind, printer, quantity in self.store.db.execute(
            "SELECT kind, printer, quantity FROM ledger WHERE item = 'blanks'"
        ):
            sums[(kind, printer)] += quantity
        for printer in PRINTERS:

            def moved(kind: str, p: str = printer) -> int:
                return sums[(kind, p)]

            from_ledger = moved("loaded") - moved("unloaded") - moved("printed") - moved("spoiled")
            assert from_ledger == self.store.total("hopper", printer) == self.hopper[printer]
            assert moved("loaded") == self.store.total("blanks_loaded", printer)
            assert moved("printed") == self.store.total("cards_printed", printer)
        received = sum(q for (k, _), q in sums.items() if k == "received")
        loaded = sum(q for (k, _), q in sums.items() if k == "loaded")
        unloaded = sum(q for (k, _), q in sums.items() if k == "unloaded")
        assert received - loaded + unloaded == self.store.total("stock_blanks") == self.stock
        ribbons = self.store.db.execute(
            "SELECT sum(CASE kind WHEN 'received' THEN quantity ELSE -quantity END)"
            " FROM ledger WHERE item = 'ribbons'"
        ).fetchone()[0]
        assert ribbons == self.store.total("stock_ribbons") == self.ribbon_stock
        for printer in PRINTERS:
            ribbon = self.store.ribbon(printer)
            left = None if ribbon is None else ribbon["remaining"]
            assert left == self.ribbon_left[printer]

    @invariant()
    def no_job_printed_twice(self) -> None:
        printed = self.store.db.execute(
            "SELECT job_id, count(*) FROM events WHERE kind = 'job' AND to_state = 'printed'"
            " GROUP BY job_id HAVING count(*) > 1"
        ).fetchall()
        assert printed == []
        cards = self.store.db.execute(
            "SELECT job_id, sum(quantity) FROM ledger WHERE item = 'blanks' AND kind = 'printed'"
            " GROUP BY job_id HAVING sum(quantity) > 1"
        ).fetchall()
        assert cards == []
        done = sum(1 for s in self.state.values() if s is JobState.PRINTED)
        assert sum(self.store.total("cards_printed", p) for p in PRINTERS) == done

    @invariant()
    def state_totals_equal_a_count_of_the_jobs_table(self) -> None:
        counted = dict(
            self.store.db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall()
        )
        for state in JobState:
            assert self.store.total("jobs_state", "", state) == counted.get(str(state), 0)
        for state in FINAL_STATES:
            finished = self.store.db.execute(
                "SELECT count(*) FROM events WHERE kind = 'job' AND to_state = ?", (state,)
            ).fetchone()[0]
            assert self.store.total("jobs_completed", "", state) == finished
        assert self.store.total("jobs_submitted") == len(self.state)

    @invariant()
    def audit_chain_verifies(self) -> None:
        assert self.store.verify_chain() is None
        assert self.service.audit_verify() == {"ok": True, "first_broken_event": None}

    @invariant()
    def personal_data_only_in_the_jobs_table(self) -> None:
        if not self.personal:
            return
        outside = [
            line
            for line in self.store.db.iterdump()
            if not line.startswith('INSERT INTO "jobs"')
            and any(secret in line for secret in self.personal)
        ]
        assert outside == []
        logged = repr(self.captured)
        assert not [secret for secret in self.personal if secret in logged]
        finished = {str(j) for j, s in self.state.items() if s in FINAL_STATES}
        on_disk = {p.name for p in self.store.spool.iterdir()} | (
            {p.name for p in self.store.inline_copies.iterdir()}
            if self.store.inline_copies.exists()
            else set()
        )
        in_rows = {r[0] for r in self.store.db.execute("SELECT DISTINCT job_id FROM images")}
        assert finished & (on_disk | in_rows) == set()


class SpoilHeavyStation(StationMachine):
    """The same station where a printer often takes the next job and spoils its card at once:
    a job's last attempt, its failure and the blanks it took are reached in most runs."""

    @rule(printer=st.sampled_from(PRINTERS), reason=st.sampled_from(["ribbon_out", "rejected"]))
    def card_spoiled_again(self, printer: str, reason: str) -> None:
        self.card_spoiled(printer, reason)

    @rule(printer=st.sampled_from(PRINTERS), reason=st.sampled_from(["rejected", "jam"]))
    def cards_spoiled_in_a_row(self, printer: str, reason: str) -> None:
        for _ in range(MAX_ATTEMPTS):
            self.card_spoiled(printer, reason)


def _search(examples: int, steps: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


# `make mutate` reruns this for every mutant of the queue: a shorter search there.
MUTATING = "MUTANT_UNDER_TEST" in os.environ
StationMachine.TestCase.settings = _search(
    *((1000, 100) if FULL else (20, 30) if MUTATING else (60, 40))
)
SpoilHeavyStation.TestCase.settings = _search(
    *((500, 100) if FULL else (10, 30) if MUTATING else (25, 40))
)
test_station = pytest.mark.slow(StationMachine.TestCase)
test_station_spoil_heavy = pytest.mark.slow(SpoilHeavyStation.TestCase)


def test_the_invariants_can_fail(tmp_path: Path) -> None:
    """A tampered ledger row, totals row and event must each be caught by the checks above."""
    machine = StationMachine()
    try:
        machine.first_delivery()
        job_id = machine.submit(nik=1, sides=1, priority=0)
        machine.load("counter-1", 10)
        machine.install_ribbon("counter-1", "ymcko", 5)
        machine.dispatch("counter-1")
        machine.card_printed("counter-1")
        for check in (
            machine.jobs_are_where_the_model_says,
            machine.blanks_balance_per_printer_and_in_the_store_room,
            machine.no_job_printed_twice,
            machine.state_totals_equal_a_count_of_the_jobs_table,
            machine.audit_chain_verifies,
            machine.personal_data_only_in_the_jobs_table,
        ):
            check()
        db: sqlite3.Connection = machine.store.db
        db.execute("UPDATE ledger SET quantity = 2 WHERE kind = 'printed'")
        with pytest.raises(AssertionError):
            machine.blanks_balance_per_printer_and_in_the_store_room()
        with pytest.raises(AssertionError):
            machine.no_job_printed_twice()
        db.execute("UPDATE totals SET value = value + 1 WHERE name = 'jobs_state'")
        with pytest.raises(AssertionError):
            machine.state_totals_equal_a_count_of_the_jobs_table()
        db.execute("UPDATE events SET reason = 'edited' WHERE job_id = ?", (job_id,))
        with pytest.raises(AssertionError):
            machine.audit_chain_verifies()
        nik = machine.bodies[job_id]["holder"]["nik"]
        db.execute("UPDATE events SET reason = ? WHERE seq = 1", (nik,))
        with pytest.raises(AssertionError):
            machine.personal_data_only_in_the_jobs_table()
    finally:
        machine.teardown()


def test_release_of_a_card_in_the_printer_is_refused() -> None:
    machine = StationMachine()
    try:
        machine.first_delivery()
        job_id = machine.submit(nik=2, sides=1, priority=0)
        machine.load("counter-1", 5)
        machine.install_ribbon("counter-1", "ymcko", 5)
        machine.dispatch("counter-1")
        assert machine.state[job_id] is JobState.PRINTING
        with pytest.raises(ConflictError):
            machine.service.release(job_id, "operator")
    finally:
        machine.teardown()
