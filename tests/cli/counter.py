"""What several printctl tests do at the counter before they look: a card cut off mid-print."""

from __future__ import annotations

import signal
from typing import Any

from tests.conftest import EXAMPLES


def interrupt_a_card(daemon: Any) -> None:
    """Start the daemon, print example-0001 and kill printd while the card is in the printer:
    after the restart the job is `interrupted`. The printer must print slowly enough to be
    caught (e.g. `print_seconds=3`)."""
    daemon.start()
    daemon.stock_up(10)
    daemon.ctl("submit", str(EXAMPLES / "example-0001.json"))
    daemon.wait_for(
        lambda: daemon.ctl_json("show", "example-0001")["job"]["state"] == "printing",
        what="printing",
    )
    daemon.stop(signal.SIGKILL)
    daemon.start()
