"""SNMP beside printing, on the daemon as a real process: net-snmp reads the simulator's agent
and sees what `printctl status` shows; an SNMP outage never stops a card."""

from __future__ import annotations

import re
import socket
import subprocess
from typing import Any

from tests.conftest import BIN, free_port, require_tool
from tests.integration.test_faults import submit_copies

HOPPER_LEVEL = "1.3.6.1.2.1.43.8.2.1.10.1.1"
PRINTER_OID = "1.3.6.1.2.1.43"


def snmpwalk(port: int) -> str:
    tool = require_tool("snmpwalk", "snmp")
    return subprocess.run(
        [tool, "-v2c", "-c", "public", "-On", f"127.0.0.1:{port}", PRINTER_OID],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    ).stdout


def test_snmpwalk_sees_what_printctl_shows_and_printd_polls_it(make_daemon: Any, tmp_path) -> None:
    port = free_port()
    daemon = make_daemon(
        device=f"sim://primacy?print_seconds=0.05&snmp_port={port}",
        extra="",
    )
    text = daemon.config.read_text().replace(
        f'device = "sim://primacy?print_seconds=0.05&snmp_port={port}"',
        f'device = "sim://primacy?print_seconds=0.05&snmp_port={port}"\n'
        f'status = "snmp://127.0.0.1:{port}?version=2c&community=public"\n'
        "status_interval_seconds = 1",
    )
    daemon.config.write_text(text)
    daemon.start()
    daemon.stock_up(30)
    ids = submit_copies(daemon, tmp_path, 3, "snmp")
    daemon.wait_for(
        lambda: daemon.ctl_json("status")["queue"]["printed"] == len(ids), what="printed"
    )
    status = daemon.ctl_json("status")["printers"][0]
    walk = snmpwalk(port)
    hopper = re.search(rf"\.{HOPPER_LEVEL} = INTEGER: (-?\d+)", walk)
    assert hopper is not None, walk
    assert int(hopper[1]) == status["hopper"] == 27
    ribbon_levels = re.findall(
        r"\.1\.3\.6\.1\.2\.1\.43\.11\.1\.1\.9\.1\.\d+ = INTEGER: (-?\d+)", walk
    )
    assert str(status["ribbon"]["remaining"]) in ribbon_levels, (ribbon_levels, status)

    def polled() -> Any:
        # A poll can fall between the card's feed and its end: wait for one taken after both.
        snmp = daemon.ctl_json("status")["printers"][0]["snmp"]
        done = snmp and snmp["up"] and snmp["hopper"] == 27 and snmp["ribbon_remaining"] == 447
        return snmp if done else None

    snmp = daemon.wait_for(polled, what="printd's own SNMP reading after the last card")
    assert snmp["ribbon_remaining"] == status["ribbon"]["remaining"] == 447
    # The figures are as of the last poll (every second here): the operator sees how old.
    # The bound only catches a reading that stopped being refreshed.
    assert 0 <= snmp["read_seconds_ago"] < 60
    human = daemon.ctl("status").stdout
    assert re.search(r"SNMP .*answering; hopper 27, .*; read \d+ s ago", human), human
    assert 'printd_snmp_up{printer="counter-1",station="test"} 1.0' in daemon.metrics()


def test_snmp_agent_down_never_stops_printing(make_daemon: Any, tmp_path) -> None:
    dead = free_port()  # nothing listens here
    daemon = make_daemon(device="sim://primacy?print_seconds=0.05")
    text = daemon.config.read_text().replace(
        'device = "sim://primacy?print_seconds=0.05"',
        'device = "sim://primacy?print_seconds=0.05"\n'
        f'status = "snmp://127.0.0.1:{dead}?version=2c&community=public"\n'
        "status_interval_seconds = 1",
    )
    daemon.config.write_text(text)
    daemon.start()
    daemon.stock_up(10)
    ids = submit_copies(daemon, tmp_path, 3, "nosnmp")
    # Printing goes on at its own pace: the wait's bound only catches a printer held up for good.
    daemon.wait_for(
        lambda: daemon.ctl_json("status")["queue"]["printed"] == len(ids),
        what="printed",
        timeout=120,
    )
    daemon.wait_for(
        lambda: 'printd_snmp_up{printer="counter-1",station="test"} 0.0' in daemon.metrics(),
        what="snmp_up 0",
    )
    assert any(e.get("event") == "snmp_down" for e in daemon.log_events())
    human = daemon.ctl("status").stdout
    assert "SNMP" in human and "not answering" in human  # the operator sees why, in words


def test_a_taken_snmp_port_is_a_clear_error(make_daemon: Any) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        daemon = make_daemon(device=f"sim://primacy?snmp_port={port}")
        result = subprocess.run(
            [str(BIN / "printd"), "run", "--config", str(daemon.config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 78
    assert f"cannot serve SNMP on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
