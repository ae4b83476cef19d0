"""SIGKILL the real daemon at random points while it prints on the simulator, restart it, and
prove after every restart: no job lost, none printed twice, every job killed mid-card is
`interrupted`, the ledger balances and the audit chain verifies.

Counting cards across kills. The simulator lives inside the daemon and dies with it, so each
life's ejected cards are read from its control channel, and the kill is timed so that the last
reading is exact: a card leaves the printer no sooner than `print_seconds` after it was fed
(`Se` starts the timer, and `Se` follows `Ss`), so a kill sent within `print_seconds` of the
last reading that did not yet show the card in the printer cannot miss an ejected card. Kills
therefore land anywhere in a card's life except its last `MARGIN` seconds, including straight
after the card came out and before the daemon booked it (the case that must end
`interrupted`, reconciled `--printed`). Per life: ejected − booked printed is 0 or 1, and 1
only when exactly that one job was `printing` at death. Over the run every job is printed
exactly once and the cards ejected add up to the jobs.

CI runs 8 kills; `make soak` (PRINTD_SOAK=full) runs 200. PRINTD_CRASH_SEED replays a run.
"""

from __future__ import annotations

import base64
import io
import json
import os
import random
import signal
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from printd.sim.control import SimControlClient
from tests.conftest import DaemonProcess

FULL = os.environ.get("PRINTD_SOAK") == "full"
PRINT_SECONDS = 0.3
MARGIN = 0.08  # seconds kept clear of a card's earliest possible exit
PRINTER = "counter-1"
CARDS_PER_LIFE = 4  # roughly what one life prints before its kill
JOBS_PER_KILL = 6  # enough that the queue never runs dry before the last kill


@dataclass
class Death:
    ejected: int  # cards the simulator put out in this life
    printing: list[str]  # jobs the database held `printing` at the moment of death


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (1016, 648), (200, 220, 240)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def write_jobs(folder: Path, count: int) -> list[str]:
    folder.mkdir()
    front = _png()
    ids = []
    for i in range(count):
        job_id = f"crash-{i:04d}"
        body = {
            "id": job_id,
            "document": "ktp-el",
            "holder": {"nik": f"9902{i:012d}", "name": f"WARGA {i}"},
            "front": front,
        }
        (folder / f"{job_id}.json").write_text(json.dumps(body))
        ids.append(job_id)
    return ids


def read_db(daemon: DaemonProcess) -> sqlite3.Connection:
    """The durable state itself, read while no daemon runs."""
    return sqlite3.connect(daemon.state_dir / "printd.sqlite3", isolation_level=None)


def ledger_balances(daemon: DaemonProcess) -> None:
    db = read_db(daemon)
    try:
        moved: Counter[str] = Counter()
        for kind, quantity in db.execute("SELECT kind, quantity FROM ledger WHERE item = 'blanks'"):
            moved[kind] += quantity
        totals = {(n, p): v for n, p, v in db.execute("SELECT name, printer, value FROM totals")}
        hopper = moved["loaded"] - moved["unloaded"] - moved["printed"] - moved["spoiled"]
        assert hopper == totals.get(("hopper", PRINTER), 0)
        stock = moved["received"] - moved["loaded"] + moved["unloaded"]
        assert stock == totals.get(("stock_blanks", ""), 0)
        counted = dict(db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
        for state, count in counted.items():
            row = db.execute(
                "SELECT value FROM totals WHERE name = 'jobs_state' AND label = ?", (state,)
            ).fetchone()
            assert row is not None and row[0] == count, (state, count, row)
    finally:
        db.close()


def restore_printer(daemon: DaemonProcess, sim: SimControlClient) -> None:
    """A real printer keeps its blanks and ribbon while the daemon is down; the simulator
    restarts with the daemon. The daemon seeds it from the ledger at start; whatever is still
    missing, the operator's hands put back."""
    status = daemon.ctl_json("status")["printers"][0]
    snap = sim.snapshot()
    if status["hopper"] > snap.hopper:
        sim.load_blanks(status["hopper"] - snap.hopper)
    ribbon = status["ribbon"]
    if ribbon is not None and snap.ribbon_type is None and ribbon["remaining"] > 0:
        sim.install_ribbon(ribbon["type"], ribbon["capacity"], ribbon["remaining"])


def top_up(daemon: DaemonProcess) -> None:
    status = daemon.ctl_json("status")["printers"][0]
    if status["hopper"] < 20:
        daemon.ctl("stock", "receive", "--blanks", "60")
        daemon.load_blanks(60)
    if status["ribbon"] is None or status["ribbon"]["remaining"] < 20:
        daemon.ctl("stock", "receive", "--ribbons", "1")
        daemon.install_ribbon("ymcko")


def kill_at_random(
    daemon: DaemonProcess, sim: SimControlClient, rng: random.Random, *, ready: bool = True
) -> Death:
    assert daemon.proc is not None
    not_before = time.monotonic() + rng.uniform(0.1, 2.5 * PRINT_SECONDS * CARDS_PER_LIFE)
    # A third of the kills wait for a card to come out and strike at once: the moment between
    # the printer's answer and the daemon's commit, where a card is out but not yet booked.
    just_out = rng.random() < 0.35
    ejected = -1
    inserted = -1
    previous: float | None = None  # when the reading before this one was asked for
    fed_after: float | None = None  # the card in the printer was fed after this instant
    while True:
        asked = time.monotonic()
        snap = sim.snapshot()
        if snap.cards_inserted != inserted:
            fed_after = previous
            inserted = snap.cards_inserted
        previous = asked
        came_out = ejected >= 0 and snap.cards_ejected > ejected
        ejected = snap.cards_ejected
        # A card now in the printer leaves no sooner than print_seconds after its feed; one
        # not yet fed leaves no sooner than print_seconds after this reading.
        start = fed_after if snap.printing else asked
        if just_out and time.monotonic() > not_before + 10 * PRINT_SECONDS:
            just_out = False  # no card is coming (the printer waits for the operator)
        now = time.monotonic()
        wanted = now >= not_before and (came_out or not just_out)
        if wanted and start is not None and now < start + PRINT_SECONDS - MARGIN:
            os.kill(daemon.proc.pid, signal.SIGKILL)
            daemon.proc.wait(10)
            break
        time.sleep(0.005)
    db = read_db(daemon)
    try:
        printing = [r[0] for r in db.execute("SELECT id FROM jobs WHERE state = 'printing'")]
    finally:
        db.close()
    return Death(snap.cards_ejected, printing)


def booked_from_printer(daemon: DaemonProcess, since_seq: int) -> tuple[int, int]:
    """(cards the daemon booked printed straight from the printer after event `since_seq`,
    the last event seq)."""
    db = read_db(daemon)
    try:
        booked = db.execute(
            "SELECT count(*) FROM events WHERE seq > ? AND kind = 'job'"
            " AND from_state = 'printing' AND to_state = 'printed'",
            (since_seq,),
        ).fetchone()[0]
        last = db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
    finally:
        db.close()
    return int(booked), int(last)


def run_kills(make_daemon: Any, tmp_path: Path, kills: int) -> None:
    seed = int(os.environ.get("PRINTD_CRASH_SEED", time.time_ns() % 2**32))
    rng = random.Random(seed)
    print(f"PRINTD_CRASH_SEED={seed}")
    daemon = make_daemon(device=f"sim://primacy?print_seconds={PRINT_SECONDS}")
    jobs = write_jobs(tmp_path / "jobs", kills * JOBS_PER_KILL + 10)
    daemon.start()
    daemon.stock_up(60)
    daemon.ctl("submit", str(tmp_path / "jobs"))
    sim_socket = str(daemon.state_dir / f"sim-{PRINTER}.sock")

    ejected_total = 0
    last_seq = 0
    reconciled: Counter[str] = Counter()
    for life in range(kills):
        with SimControlClient(sim_socket) as sim:
            death = kill_at_random(daemon, sim, rng)
        booked, last_seq_now = booked_from_printer(daemon, last_seq)
        last_seq = last_seq_now
        extra = death.ejected - booked
        assert extra in (0, 1), f"life {life}: {death.ejected} cards out, {booked} booked printed"
        assert extra <= len(death.printing), f"life {life}: a card out with no job to show it"
        assert len(death.printing) <= 1
        ejected_total += death.ejected
        ledger_balances(daemon)

        daemon.start()
        interrupted = {j["id"] for j in daemon.ctl_json("jobs", "--state", "interrupted")["jobs"]}
        assert interrupted == set(death.printing), f"life {life}: killed mid-card != interrupted"
        for job_id in death.printing:
            outcome = "--printed" if extra else "--spoiled"
            daemon.ctl("reconcile", job_id, outcome)
            reconciled[outcome] += 1
        assert daemon.ctl_json("audit", "verify")["ok"] is True
        with SimControlClient(sim_socket) as sim:
            restore_printer(daemon, sim)
        top_up(daemon)

    # The last life: no kill; let every job print, then count its cards. Spoiled cards were
    # printed again on new blanks, so the operator keeps the hopper filled meanwhile.
    def finished() -> bool:
        top_up(daemon)
        queue = daemon.ctl_json("status")["queue"]
        return queue["queued"] == 0 and queue["printing"] == 0

    daemon.wait_for(finished, timeout=60 + len(jobs) * PRINT_SECONDS * 3, what="queue drained")
    with SimControlClient(sim_socket) as sim:
        ejected_total += sim.snapshot().cards_ejected
    assert daemon.ctl_json("audit", "verify")["ok"] is True
    assert daemon.stop() == 0
    ledger_balances(daemon)

    db = read_db(daemon)
    try:
        # Every job, read from the file itself (the API lists the newest 1,000).
        listed = db.execute("SELECT id, state FROM jobs ORDER BY id").fetchall()
        twice = db.execute(
            "SELECT job_id FROM events WHERE kind = 'job' AND to_state = 'printed'"
            " GROUP BY job_id HAVING count(*) > 1"
        ).fetchall()
        cards = db.execute(
            "SELECT coalesce(sum(quantity), 0) FROM ledger WHERE item = 'blanks'"
            " AND kind = 'printed'"
        ).fetchone()[0]
    finally:
        db.close()
    assert [job_id for job_id, _ in listed] == jobs, "a job was lost"
    assert {state for _, state in listed} == {"printed"}
    assert twice == [], "a job was printed twice"
    assert ejected_total == len(jobs) == cards, (ejected_total, len(jobs), cards, reconciled)
    print(f"{kills} kills, {len(jobs)} cards, reconciled {dict(reconciled)}")


@pytest.mark.timeout(600)
def test_sigkill_while_printing_loses_nothing_and_prints_nothing_twice(
    make_daemon: Any, tmp_path: Path
) -> None:
    run_kills(make_daemon, tmp_path, 8)


@pytest.mark.slow
@pytest.mark.timeout(7200)
def test_sigkill_soak(make_daemon: Any, tmp_path: Path) -> None:
    run_kills(make_daemon, tmp_path, 200 if FULL else 20)
