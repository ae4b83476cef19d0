"""The JobsInterrupted runbook, followed to the letter, gives the holder exactly one card.

The commands are read from docs/runbook.md itself, so a runbook that tells the operator to
reprint a card printd already prints again fails here, and so does a printd that lets such a
reprint through without the operator's confirmation.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from printd.sim.control import SimControlClient
from tests.conftest import BIN, REPO, DaemonProcess
from tests.integration.test_faults import hands, states, submit_copies

RUNBOOK = REPO / "docs" / "runbook.md"
SETTLED = {"printed", "failed", "cancelled", "interrupted"}


def section(title: str) -> str:
    text = RUNBOOK.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def bullets(text: str) -> list[str]:
    """The `-` items of a list, each with its continuation lines joined."""
    items: list[str] = []
    current: str | None = None
    for line in text.splitlines():
        if re.match(r"\s+- ", line):
            current = line.strip()[2:]
            items.append(current)
        elif current is not None and re.match(r"\s{4,}\S", line):
            items[-1] = current = current + " " + line.strip()
        else:
            current = None
    return items


def commands(text: str) -> list[list[str]]:
    """The printctl commands a reader types: code spans that name the job (`JOB`)."""
    spans = re.findall(r"`(printctl [^`]+)`", text)
    return [shlex.split(s) for s in spans if "JOB" in s.split()]


def run(daemon: DaemonProcess, argv: list[str], job: str) -> Any:
    words = [job if w == "JOB" else w for w in argv[1:]]
    words = ["interrupted, spoiled" if w == "…" else w for w in words]
    return daemon.ctl(*words, check=False)


def settle(daemon: DaemonProcess, sim: SimControlClient) -> None:
    """Every job finished or waiting for a person, and no card inside the printer."""
    daemon.wait_for(
        lambda: set(states(daemon).values()) <= SETTLED and not sim.snapshot().printing,
        what="the queue to settle",
    )


@pytest.fixture
def interrupted(make_daemon: Any, tmp_path: Path) -> tuple[DaemonProcess, SimControlClient, str]:
    daemon: DaemonProcess = make_daemon(device="sim://primacy?print_seconds=0.05")
    daemon.start()
    daemon.stock_up(10)
    sim = hands(daemon)
    sim.inject("vanish_mid_card")
    (job,) = submit_copies(daemon, tmp_path, 1, "runbook")
    daemon.wait_for(lambda: states(daemon)[job] == "interrupted", what="interrupted")
    sim.replug()
    settle(daemon, sim)
    return daemon, sim, job


def test_spoiled_card_path_prints_one_card_for_the_holder(interrupted: Any) -> None:
    daemon, sim, job = interrupted
    (spoiled_path,) = [b for b in bullets(section("JobsInterrupted")) if "--spoiled" in b]
    steps = commands(spoiled_path)
    assert steps, f"no command in the runbook's spoiled-card step: {spoiled_path}"
    out_before = sim.snapshot().cards_ejected
    for argv in steps:
        result = run(daemon, argv, job)
        assert result.returncode == 0, (argv, result.stdout, result.stderr)
        settle(daemon, sim)
    assert sim.snapshot().cards_ejected - out_before == 1  # the holder's one new card
    assert states(daemon) == {job: "printed"}
    assert daemon.ctl_json("report")["balance"] == 0
    assert daemon.ctl_json("audit", "verify")["ok"]


def test_a_reprint_after_the_spoil_asks_for_confirmation_and_says_why(interrupted: Any) -> None:
    daemon, sim, job = interrupted
    # The reflex of an operator who reconciles and reprints: at once, then once printd's own
    # new card has come out. The runbook's reprint command, typed as written.
    (reprint,) = [c for c in commands(section("JobsInterrupted")) if c[1] == "reprint"]
    # The cover stands open, so the card printd prints again waits in the queue while the
    # operator types: the refusal below is read while the job is certainly not yet printed.
    sim.open_cover()
    daemon.ctl("reconcile", job, "--spoiled")
    at_once = run(daemon, reprint, job)
    assert at_once.returncode == 73, at_once.stderr
    assert "prints again by itself" in at_once.stderr
    sim.close_cover()
    daemon.wait_for(lambda: states(daemon)[job] == "printed", what="printed again")
    settle(daemon, sim)
    out_before = sim.snapshot().cards_ejected
    later = run(daemon, reprint, job)
    assert later.returncode == 73, later.stderr
    assert "--yes" in later.stderr and "second card" in later.stderr
    refusal = json.loads(run(daemon, ["printctl", "--json", *reprint[1:]], job).stdout)
    assert refusal["kind"] == "ConfirmationNeeded"
    settle(daemon, sim)
    assert sim.snapshot().cards_ejected == out_before
    assert set(states(daemon)) == {job}  # no reprint job was created

    # A card really lost: the operator confirms, and exactly one more card is printed.
    confirmed = run(daemon, [*reprint, "--yes"], job)
    assert confirmed.returncode == 0, confirmed.stderr
    settle(daemon, sim)
    assert sim.snapshot().cards_ejected == out_before + 1
    assert states(daemon) == {job: "printed", f"{job}.r1": "printed"}


def test_a_second_reprint_of_one_card_asks_first(make_daemon: Any, tmp_path: Path) -> None:
    daemon: DaemonProcess = make_daemon(device="sim://primacy?print_seconds=0.05")
    daemon.start()
    daemon.stock_up(10)
    sim = hands(daemon)
    (job,) = submit_copies(daemon, tmp_path, 1, "lost")
    settle(daemon, sim)
    first = daemon.ctl("reprint", job, "--reason", "card lost")  # nothing warns: one card
    assert f"{job}.r1" in first.stdout
    settle(daemon, sim)
    out_before = sim.snapshot().cards_ejected
    again = daemon.ctl("reprint", job, "--reason", "card lost", check=False)
    assert again.returncode == 73 and f"{job}.r1" in again.stderr, again.stderr
    settle(daemon, sim)
    assert sim.snapshot().cards_ejected == out_before
    assert states(daemon) == {job: "printed", f"{job}.r1": "printed"}

    # On a terminal printctl asks instead of refusing; only a yes prints.
    no = answer_on_terminal(daemon, ["reprint", job, "--reason", "card lost"], "n")
    assert no.returncode == 73 and "Print a second card" in no.stdout, (no.stdout, no.stderr)
    yes = answer_on_terminal(daemon, ["reprint", job, "--reason", "card lost"], "y")
    assert yes.returncode == 0 and f"{job}.r2" in yes.stdout, (yes.stdout, yes.stderr)
    settle(daemon, sim)
    assert sim.snapshot().cards_ejected == out_before + 1


def answer_on_terminal(daemon: DaemonProcess, args: list[str], answer: str) -> Any:
    """printctl with a terminal as its input, where the operator types `answer`."""
    controller, terminal = os.openpty()
    try:
        os.write(controller, f"{answer}\n".encode())
        return subprocess.run(
            [str(BIN / "printctl"), "--socket", str(daemon.socket), *args],
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(terminal)
        os.close(controller)
