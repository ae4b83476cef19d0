"""Fault injection on the daemon as a real process: each fault ends with every job in a correct
final state, the ledger balanced, and no operator command except where a human must act."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from printd.sim.control import SimControlClient
from tests.conftest import EXAMPLES, DaemonProcess

JOB = EXAMPLES / "example-0001.json"  # one-sided


def hands(daemon: DaemonProcess, printer: str = "counter-1") -> SimControlClient:
    return SimControlClient(str(daemon.state_dir / f"sim-{printer}.sock"))


def submit_copies(daemon: DaemonProcess, folder: Path, count: int, prefix: str) -> list[str]:
    import json

    ids = []
    template = json.loads(JOB.read_text())
    for i in range(count):
        job = dict(template, id=f"{prefix}-{i:03d}", front=str(EXAMPLES / template["front"]))
        job["holder"] = {"nik": f"99010101019{i:05d}", "name": f"CONTOH {i}"}
        path = folder / f"{prefix}-{i:03d}.json"
        path.write_text(json.dumps(job))
        ids.append(job["id"])
    daemon.ctl("submit", *(str(folder / f"{i}.json") for i in ids))
    return ids


def states(daemon: DaemonProcess) -> dict[str, str]:
    return {j["id"]: j["state"] for j in daemon.ctl_json("jobs")["jobs"]}


def printer(daemon: DaemonProcess) -> dict[str, Any]:
    return daemon.ctl_json("status")["printers"][0]


def assert_balanced(daemon: DaemonProcess, loaded: int) -> None:
    report = daemon.ctl_json("report")
    assert report["balance"] == 0, report
    status = daemon.ctl_json("status")
    jobs = daemon.ctl_json("jobs")["jobs"]
    printed = sum(1 for j in jobs if j["state"] == "printed")
    spoiled = report["spoiled_total"]
    assert status["printers"][0]["hopper"] == loaded - printed - spoiled
    assert daemon.ctl_json("audit", "verify")["ok"]


def all_final(daemon: DaemonProcess, ids: list[str], final: str = "printed") -> bool:
    current = states(daemon)
    return all(current.get(i) == final for i in ids)


@pytest.fixture
def daemon(make_daemon: Any) -> DaemonProcess:
    d: DaemonProcess = make_daemon(device="sim://primacy?print_seconds=0.05&reject_box_capacity=2")
    d.start()
    return d


def test_hopper_runs_empty_mid_batch_then_blanks_are_loaded(daemon, tmp_path) -> None:
    daemon.ctl("stock", "receive", "--blanks", "10", "--ribbons", "1")
    daemon.load_blanks(2)
    daemon.install_ribbon("ymcko")
    ids = submit_copies(daemon, tmp_path, 4, "hop")
    daemon.wait_for(lambda: "hopper_empty" in printer(daemon)["conditions"], what="hopper empty")
    assert sorted(states(daemon).values()) == ["printed", "printed", "queued", "queued"]
    assert "blanks load" in printer(daemon)["reason"]
    daemon.load_blanks(5)  # the one thing a human must do
    daemon.wait_for(lambda: all_final(daemon, ids), what="all printed")
    assert_balanced(daemon, loaded=7)
    assert hands(daemon).snapshot().cards_ejected == 4


def test_cover_opened_and_closed(daemon, tmp_path) -> None:
    daemon.stock_up(10)
    sim = hands(daemon)
    sim.open_cover()
    daemon.wait_for(lambda: "cover_open" in printer(daemon)["conditions"], what="cover open")
    ids = submit_copies(daemon, tmp_path, 2, "cover")
    time.sleep(0.5)
    assert set(states(daemon).values()) == {"queued"}
    assert sim.snapshot().hopper == 10  # no blank was fed while the cover was open
    sim.close_cover()
    daemon.wait_for(lambda: all_final(daemon, ids), what="printed after closing")
    assert_balanced(daemon, loaded=10)


def test_jam_spoils_the_card_then_resumes_when_cleared(daemon, tmp_path) -> None:
    daemon.stock_up(10)
    sim = hands(daemon)
    sim.inject("jam")
    ids = submit_copies(daemon, tmp_path, 2, "jam")
    daemon.wait_for(lambda: "jam" in printer(daemon)["conditions"], what="jam")
    sim.clear_jam()
    daemon.wait_for(lambda: all_final(daemon, ids), what="printed after the jam")
    report = daemon.ctl_json("report")
    assert report["spoiled"] == {"jam": 1}
    assert_balanced(daemon, loaded=10)
    job = daemon.ctl_json("show", ids[0])["job"]
    assert any(e["to"] == "spoiled" for e in job["events"])


def test_rejected_card_is_retried_and_reject_box_full_pauses(daemon, tmp_path) -> None:
    daemon.stock_up(10)
    sim = hands(daemon)
    sim.inject("reject")
    ids = submit_copies(daemon, tmp_path, 1, "rej")
    daemon.wait_for(lambda: all_final(daemon, ids), what="printed on the second blank")
    assert daemon.ctl_json("report")["spoiled"] == {"rejected": 1}
    sim.inject("reject")
    more = submit_copies(daemon, tmp_path, 1, "rej2")
    # The second reject fills the two-card reject box: the printer stops for a person.
    daemon.wait_for(
        lambda: "reject_box_full" in printer(daemon)["conditions"], what="reject box full"
    )
    sim.empty_reject_box()
    daemon.wait_for(lambda: all_final(daemon, more), what="printed after emptying")
    assert_balanced(daemon, loaded=10)


def test_ribbon_ends_mid_batch(daemon, tmp_path) -> None:
    daemon.stock_up(10)
    sim = hands(daemon)
    sim.inject("ribbon_ends")
    ids = submit_copies(daemon, tmp_path, 3, "rib")
    daemon.wait_for(lambda: {"ribbon_out"} & set(printer(daemon)["conditions"]), what="ribbon out")
    daemon.install_ribbon("ymcko")  # a human changes the ribbon
    daemon.wait_for(lambda: all_final(daemon, ids), what="printed on the new ribbon")
    assert daemon.ctl_json("report")["spoiled"] == {"ribbon_out": 1}
    assert_balanced(daemon, loaded=10)


def test_unplug_between_cards_is_found_again_within_two_seconds(daemon, tmp_path) -> None:
    daemon.stock_up(10)
    sim = hands(daemon)
    first = submit_copies(daemon, tmp_path, 1, "before")
    daemon.wait_for(lambda: all_final(daemon, first), what="first card")
    sim.unplug()
    daemon.wait_for(lambda: not printer(daemon)["up"], what="printer seen gone")
    later = submit_copies(daemon, tmp_path, 2, "after")
    # Cancel works at once with the printer gone.
    daemon.ctl("cancel", later[1])
    assert states(daemon)[later[1]] == "cancelled"
    sim.replug()
    # Found again by itself; how fast is bench/bench_recovery.py's to measure, not a test's.
    daemon.wait_for(lambda: printer(daemon)["up"], what="printer found again", timeout=120)
    daemon.wait_for(lambda: all_final(daemon, later[:1]), what="printed after replug")
    assert_balanced(daemon, loaded=10)


def test_unplug_mid_card_interrupts_until_reconciled(daemon, tmp_path) -> None:
    daemon.stock_up(10)
    sim = hands(daemon)
    sim.inject("vanish_mid_card")
    ids = submit_copies(daemon, tmp_path, 1, "vanish")
    daemon.wait_for(lambda: states(daemon)[ids[0]] == "interrupted", what="interrupted")
    sim.replug()
    time.sleep(1.0)
    assert states(daemon)[ids[0]] == "interrupted"  # nothing leaves `interrupted` by itself
    daemon.ctl("reconcile", ids[0], "--spoiled")  # the operator found it in the reject tray
    daemon.wait_for(lambda: all_final(daemon, ids), what="reprinted after reconcile")
    assert_balanced(daemon, loaded=10)


def test_garbage_reply_never_stops_the_printer(daemon, tmp_path) -> None:
    daemon.stock_up(10)
    sim = hands(daemon)
    sim.inject("garbage")
    ids = submit_copies(daemon, tmp_path, 2, "garbage")
    daemon.wait_for(
        lambda: all(s in ("printed", "interrupted") for s in states(daemon).values()),
        what="jobs settled",
    )
    # Settle each interrupted card as a person would: by what is in the output tray.
    out = sim.snapshot().cards_ejected - daemon.ctl_json("status")["queue"]["printed"]
    for job_id, state in sorted(states(daemon).items()):
        if state == "interrupted":
            daemon.ctl("reconcile", job_id, "--printed" if out > 0 else "--spoiled")
            out -= 1
    daemon.wait_for(lambda: all_final(daemon, ids), what="all printed")
    assert_balanced(daemon, loaded=10)
    # Every card that left the printer is a printed job's: none printed twice, none lost.
    assert sim.snapshot().cards_ejected == len(ids)
    assert daemon.proc is not None and daemon.proc.poll() is None


def test_sigterm_lets_the_card_in_the_printer_finish(make_daemon, tmp_path) -> None:
    daemon = make_daemon(device="sim://primacy?print_seconds=2")
    daemon.start()
    daemon.stock_up(5)
    ids = submit_copies(daemon, tmp_path, 2, "drain")
    daemon.wait_for(lambda: "printing" in states(daemon).values(), what="printing")
    assert daemon.stop(signal.SIGTERM) == 0
    daemon.start()
    final = states(daemon)
    assert final[ids[0]] == "printed"
    assert "interrupted" not in final.values()
    daemon.wait_for(lambda: all_final(daemon, ids), what="the rest printed after restart")


def test_sighup_reloads_the_config_without_dropping_a_job(daemon, tmp_path) -> None:
    daemon.stock_up(10)
    sim = hands(daemon)
    sim.open_cover()
    ids = submit_copies(daemon, tmp_path, 2, "hup")
    # One attempt per job from now on: the first card's reject fails its job at once, where
    # the old config (three attempts) would have printed it on a second blank.
    text = daemon.config.read_text().replace("max_attempts = 3", "max_attempts = 1")
    daemon.config.write_text(text)
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_for(
        lambda: any(e.get("event") == "config_reloaded" for e in daemon.log_events()),
        what="reload logged",
    )
    sim.inject("reject")
    sim.close_cover()
    daemon.wait_for(
        lambda: states(daemon) == {ids[0]: "failed", ids[1]: "printed"}, what="the new limit"
    )
    assert "gave up after 1 spoiled cards" in daemon.ctl_json("show", ids[0])["job"]["reason"]


def test_power_cycle_is_recovered_without_a_command(daemon, tmp_path) -> None:
    daemon.stock_up(10)
    sim = hands(daemon)
    first = submit_copies(daemon, tmp_path, 1, "before-power")
    daemon.wait_for(lambda: all_final(daemon, first), what="first card")
    sim.power_cycle()  # every handle the daemon held is dead now
    later = submit_copies(daemon, tmp_path, 2, "after-power")
    daemon.wait_for(
        lambda: all_final(daemon, later), what="printed after the power cycle", timeout=120
    )
    assert_balanced(daemon, loaded=10)
    assert sim.snapshot().cards_ejected == 3
