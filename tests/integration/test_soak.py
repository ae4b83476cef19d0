"""Soak: thousands of cards on the simulator with a random fault every ~50 cards, a scripted
operator doing only what a person must (load blanks, change ribbons, close covers, clear jams,
empty the reject box, reconcile interrupted cards). None lost, none duplicated, memory flat.

CI prints 400 cards; `make soak` (PRINTD_SOAK=full) prints 2,000."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from printd.sim.control import SimControlClient
from tests.conftest import EXAMPLES, DaemonProcess

FULL = os.environ.get("PRINTD_SOAK") == "full"
CARDS = 2000 if FULL else 400
MEMORY_FROM = 200 if FULL else 100
FAULTS = ["jam", "reject", "ribbon_ends", "vanish_mid_card", "garbage", "cover", "unplug"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


class Operator:
    """Does what the person at the counter does, when printctl status asks for it."""

    def __init__(self, daemon: DaemonProcess, sim: SimControlClient) -> None:
        self.daemon = daemon
        self.sim = sim
        self.actions: dict[str, int] = {}

    def act(self, what: str) -> None:
        self.actions[what] = self.actions.get(what, 0) + 1

    def tend(self) -> None:
        status = self.daemon.ctl_json("status")
        printer = status["printers"][0]
        snap = self.sim.snapshot()
        if snap.cover_open:
            self.sim.close_cover()
            self.act("close cover")
        if snap.jammed:
            self.sim.clear_jam()
            self.act("clear jam")
        if not snap.plugged:
            self.sim.replug()
            self.act("replug")
        if snap.reject_box >= 40:
            self.sim.empty_reject_box()
            self.act("empty reject box")
        if printer["hopper"] < 10:
            # What fits both in the printer and by printd's count (a card fed when printd
            # died leaves the two a blank apart until it is settled).
            room = 100 - max(printer["hopper"], snap.hopper)
            self.daemon.load_blanks(room)
            self.act("load blanks")
        # The person looks at the ribbon itself: a refusal printd still holds on to (it backs
        # off before asking again) is no reason to change a new ribbon once more.
        if (snap.ribbon_remaining or 0) < 3 or (printer["ribbon"] or {}).get("remaining", 0) < 3:
            # The ribbon is changed knowingly, whatever prints printd still counts on it.
            self.daemon.install_ribbon("ymcko", None, "--yes")
            self.act("change ribbon")
        interrupted = self.daemon.ctl_json("jobs", "--state", "interrupted")["jobs"]
        if interrupted:
            self.reconcile(interrupted)

    def reconcile(self, interrupted: list[dict[str, Any]]) -> None:
        """What a person does: stop the printer (open the cover), wait for it to settle, look
        in the output tray, and settle each interrupted card by what is there."""
        self.sim.open_cover()
        deadline = time.monotonic() + 10
        while self.sim.snapshot().printing and time.monotonic() < deadline:
            time.sleep(0.05)
        # Let printd book the card that just came out, if one did: no job is left printing.
        self.daemon.wait_for(
            lambda: not self.daemon.ctl_json("jobs", "--state", "printing")["jobs"],
            what="the last card booked",
            timeout=120,
        )
        out = self.sim.snapshot().cards_ejected - self.daemon_printed()
        for job in sorted(interrupted, key=lambda j: j["updated_at"]):
            self.daemon.ctl("reconcile", job["id"], "--printed" if out > 0 else "--spoiled")
            out -= 1
            self.act("reconcile")
        self.sim.close_cover()

    def daemon_printed(self) -> int:
        return int(self.daemon.ctl_json("status")["queue"]["printed"])


def make_jobs(folder: Path, count: int) -> list[Path]:
    template = json.loads((EXAMPLES / "example-0001.json").read_text())
    paths = []
    for i in range(count):
        job = dict(template, id=f"soak-{i:05d}", front=str(EXAMPLES / template["front"]))
        job["holder"] = {"nik": f"9901{i:012d}", "name": f"CONTOH {i}"}
        path = folder / f"soak-{i:05d}.json"
        path.write_text(json.dumps(job))
        paths.append(path)
    return paths


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_soak_with_random_faults(make_daemon: Any, tmp_path: Path) -> None:
    rng = random.Random(20261127)
    daemon = make_daemon(device="sim://primacy?print_seconds=0.02&reject_box_capacity=50")
    daemon.config.write_text(
        daemon.config.read_text().replace("max_attempts = 3", "max_attempts = 5")
    )
    daemon.start()
    assert daemon.proc is not None
    sim = SimControlClient(str(daemon.state_dir / "sim-counter-1.sock"))
    daemon.ctl("stock", "receive", "--blanks", str(CARDS + 500), "--ribbons", str(CARDS // 400 + 4))
    daemon.load_blanks(100)
    daemon.install_ribbon("ymcko")
    operator = Operator(daemon, sim)
    jobs = make_jobs(tmp_path, CARDS)
    for start in range(0, CARDS, 200):
        daemon.ctl("submit", *map(str, jobs[start : start + 200]))
    next_fault = rng.randint(30, 70)
    memory: dict[int, float] = {}
    injected: dict[str, int] = {}
    deadline = time.monotonic() + (1800 if FULL else 600)
    printed = 0
    while printed < CARDS:
        assert time.monotonic() < deadline, (
            f"soak stalled at {printed} cards\n{daemon.log()[-3000:]}"
        )
        operator.tend()
        printed = operator.daemon_printed()
        for mark in (MEMORY_FROM, CARDS - 1):
            if printed >= mark and mark not in memory:
                memory[mark] = rss_mb(daemon.proc.pid)
        if printed >= next_fault:
            fault = rng.choice(FAULTS)
            injected[fault] = injected.get(fault, 0) + 1
            if fault == "cover":
                sim.open_cover()
            elif fault == "unplug":
                sim.unplug()
            else:
                sim.inject(fault)
            next_fault = printed + rng.randint(30, 70)
        if printed // 100 != getattr(operator, "reported", -1):
            operator.reported = printed // 100  # type: ignore[attr-defined]
            print(f"soak: {printed}/{CARDS} printed, faults {injected}", flush=True)
        time.sleep(0.2)

    queue = daemon.ctl_json("status")["queue"]
    # None lost: every job is printed and nothing is left in any other state.
    assert queue["printed"] == CARDS, queue
    assert sum(queue.values()) == CARDS, queue
    snapshot = sim.snapshot()
    assert snapshot.cards_ejected == CARDS  # none duplicated: the printer's own count
    report = daemon.ctl_json("report")
    assert report["balance"] == 0
    assert report["printed"] == CARDS
    assert daemon.ctl_json("audit", "verify")["ok"]
    growth = memory[CARDS - 1] - memory[MEMORY_FROM]
    print(
        f"soak: {CARDS} cards, faults {injected}, operator {operator.actions}, "
        f"RSS {memory[MEMORY_FROM]:.1f} MB at card {MEMORY_FROM} -> {memory[CARDS - 1]:.1f} MB"
    )
    assert sum(injected.values()) >= CARDS // 80
    assert growth < 5.0, f"RSS grew {growth:.1f} MB from card {MEMORY_FROM} to {CARDS}"
