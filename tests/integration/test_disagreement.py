"""printd's count and the printer's disagree, and printd notices.

The simulated printer changes only through its control channel (the operator's hands) and the
commands it receives; it keeps its state across printd's restarts, as a real printer does.
Blanks taken out or put in without `printctl`, and a ribbon swapped without
`printctl ribbon install`, each show in the metrics, in `printctl status` and in the daily
report, and no card is booked that the printer did not feed.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from tests.conftest import DaemonProcess, free_port
from tests.integration.test_faults import printer, states, submit_copies


def with_snmp(make_daemon: Any) -> DaemonProcess:
    """A printer whose SNMP agent reports its input tray as a count."""
    port = free_port()
    device = f"sim://primacy?print_seconds=0.05&snmp_port={port}"
    daemon: DaemonProcess = make_daemon(device=device)
    daemon.config.write_text(
        daemon.config.read_text().replace(
            f'device = "{device}"',
            f'device = "{device}"\n'
            f'status = "snmp://127.0.0.1:{port}?version=2c&community=public"\n'
            "status_interval_seconds = 1",
        )
    )
    daemon.start()
    return daemon


def drift(daemon: DaemonProcess) -> float | None:
    for line in daemon.metrics().splitlines():
        if line.startswith("printd_hopper_count_drift_blanks{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_blanks_taken_out_or_put_in_unrecorded_show_everywhere(
    make_daemon: Any, tmp_path: Path
) -> None:
    daemon = with_snmp(make_daemon)
    daemon.stock_up(40)
    daemon.wait_for(lambda: drift(daemon) == 0, what="both counts at 40")
    daemon.hands().unload_blanks(10)  # taken out for another printer, never recorded
    daemon.wait_for(lambda: drift(daemon) == 10, what="printd counts 10 more than the printer")
    status = printer(daemon)
    assert (status["hopper"], status["printer_hopper_count"], status["hopper_drift"]) == (
        40,
        30,
        10,
    )
    said = daemon.ctl("status").stdout
    assert "the printer holds 30, printd counts 40" in said
    assert "`printctl blanks unload 10`" in said
    assert "printer berisi 30, hitungan printd 40" in daemon.ctl("--lang", "id", "status").stdout
    report = daemon.ctl("report").stdout
    assert "40 / 30" in report and "counter-1: the printer holds 30, printd counts 40" in report
    assert daemon.ctl_json("report")["printers"][0]["hopper_drift"] == 10

    daemon.hands().load_blanks(25)  # a box emptied into the hopper, never recorded
    daemon.wait_for(lambda: drift(daemon) == -15, what="the printer holds 15 more")
    assert "`printctl blanks load 15`" in daemon.ctl("status").stdout

    daemon.ctl("stock", "receive", "--blanks", "15")
    daemon.ctl("blanks", "load", "15")  # the operator counts and records the difference
    daemon.wait_for(lambda: drift(daemon) == 0, what="counts agree again")
    assert "printd counts" not in daemon.ctl("status").stdout


def test_an_emptied_hopper_books_no_card_and_interrupts_no_job(
    make_daemon: Any, tmp_path: Path
) -> None:
    daemon: DaemonProcess = make_daemon(device="sim://primacy?print_seconds=0.05")
    daemon.start()
    daemon.stock_up(5)
    sim = daemon.hands()
    sim.unload_blanks(5)  # every blank taken out, never recorded: printd still counts 5
    ids = submit_copies(daemon, tmp_path, 2, "empty")
    daemon.wait_for(
        lambda: "hopper_empty" in printer(daemon)["conditions"], what="the printer's empty feeder"
    )
    assert "Rse;f: feeder empty" in printer(daemon)["reason"]  # the printer's own words
    assert states(daemon) == dict.fromkeys(ids, "queued")
    assert sim.snapshot().cards_inserted == 0
    report = daemon.ctl_json("report")
    assert report["printed"] == 0 and report["spoiled_total"] == 0
    assert printer(daemon)["hopper"] == 5 and printer(daemon)["hopper_drift"] == 5


def test_the_printer_keeps_its_state_while_printd_restarts(
    make_daemon: Any, tmp_path: Path
) -> None:
    """Killed and started again, printd meets the printer as it was left, not as its ledger
    says: the blanks an operator took out are still gone."""
    daemon: DaemonProcess = make_daemon(device="sim://primacy?print_seconds=0.05")
    daemon.start()
    daemon.stock_up(20)
    daemon.hands().unload_blanks(20)
    daemon.hands().install_ribbon("kb", 450)  # swapped without `printctl ribbon install`
    daemon.stop(signal.SIGKILL)
    daemon.start()
    snap = daemon.hands().snapshot()
    assert (snap.hopper, snap.ribbon_type) == (0, "kb")
    daemon.wait_for(
        lambda: "hopper_empty" in printer(daemon)["conditions"], what="the printer's empty feeder"
    )
    assert printer(daemon)["hopper"] == 20  # printd's count: nothing was recorded
    assert printer(daemon)["printer_ribbon_type"] == "kb"
