"""The daemon as a real process refuses to feed a blank that printd's own count says is not
there, even when the printer itself has blanks: a hopper loaded without telling printd would
otherwise print cards the ledger never sees leave."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from printd.sim.control import SimControlClient
from tests.integration.test_faults import all_final, printer, states, submit_copies


def test_a_printer_with_blanks_waits_while_printds_count_says_none(
    make_daemon: Any, tmp_path: Path
) -> None:
    daemon = make_daemon(device="sim://primacy?print_seconds=0.05&hopper=50&ribbon=ymcko")
    daemon.start()
    daemon.ctl("stock", "receive", "--blanks", "10", "--ribbons", "1")
    daemon.ctl("ribbon", "install", "--type", "ymcko")
    sim = SimControlClient(str(daemon.state_dir / "sim-counter-1.sock"))
    assert sim.snapshot().hopper == 50  # blanks put in without `printctl blanks load`
    ids = submit_copies(daemon, tmp_path, 1, "uncounted")
    daemon.wait_for(
        lambda: "hopper_empty" in printer(daemon)["conditions"], what="printd's own refusal"
    )
    assert "by our count" in printer(daemon)["reason"]
    assert states(daemon) == {ids[0]: "queued"}
    assert sim.snapshot().cards_inserted == 0
    daemon.ctl("blanks", "load", "1")  # the operator records a load: printing goes on
    daemon.wait_for(lambda: all_final(daemon, ids), what="printed once counted")
    assert sim.snapshot().cards_inserted == 1
