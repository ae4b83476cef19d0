"""net-snmp's snmpget/snmpwalk read the simulator's agent and see what the poller sees."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest
from snmp_support import RunningSim, poll_once

from printd.drivers.snmp import status_from_reading
from printd.drivers.status import Level
from printd.sim.evolis_model import SimPrinter
from printd.sim.snmp_agent import SimSnmpAgent, mib_view_from_snapshot
from tests.conftest import require_tool


@pytest.fixture(autouse=True)
def _net_snmp_tools() -> None:
    require_tool("snmpget", "snmp")


HOPPER_LEVEL = "1.3.6.1.2.1.43.8.2.1.10.1.1"
RIBBON_LEVEL = "1.3.6.1.2.1.43.11.1.1.9.1.1"
RIBBON_MAX = "1.3.6.1.2.1.43.11.1.1.8.1.1"


def _net_snmp(tool: str, port: int, *args: str, version: str = "2c") -> str:
    result = subprocess.run(
        [
            tool,
            f"-v{version}",
            "-c",
            "public",
            "-On",
            "-Oqv",
            "-t",
            "2",
            "-r",
            "1",
            f"127.0.0.1:{port}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_snmpget_sees_the_same_hopper_and_ribbon(sim_agent: Callable[..., RunningSim]) -> None:
    sim = sim_agent()
    sim.holder.update(hopper_level=17, ribbon_level=123)
    values = _net_snmp("snmpget", sim.port, HOPPER_LEVEL, RIBBON_LEVEL, RIBBON_MAX).split()
    assert values == ["17", "123", "450"]
    supplies = status_from_reading(poll_once(sim.uri())).supplies
    assert (supplies.hopper_level, supplies.ribbon_remaining, supplies.ribbon_capacity) == (
        Level.known(17),
        Level.known(123),
        Level.known(450),
    )


@pytest.mark.parametrize(("tool", "version"), [("snmpwalk", "1"), ("snmpbulkwalk", "2c")])
def test_walks_of_the_printer_mib(
    sim_agent: Callable[..., RunningSim], tool: str, version: str
) -> None:
    sim = sim_agent()
    out = subprocess.run(
        [
            tool,
            f"-v{version}",
            "-c",
            "public",
            "-On",
            f"127.0.0.1:{sim.port}",
            "1.3.6.1.2.1.43.8.2.1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert ".1.3.6.1.2.1.43.8.2.1.10.1.1 = INTEGER: 42" in out
    assert '.1.3.6.1.2.1.43.8.2.1.13.1.1 = STRING: "Card hopper"' in out


def test_simulated_printer_through_the_agent() -> None:
    printer = SimPrinter(hopper=30, hopper_capacity=100, ribbon_type="ymcko", ribbon_capacity=450)
    agent = SimSnmpAgent(lambda: mib_view_from_snapshot(printer.snapshot())).start()
    try:
        uri = f"snmp://127.0.0.1:{agent.port}"
        values = _net_snmp("snmpget", agent.port, HOPPER_LEVEL, RIBBON_LEVEL).split()
        assert values == ["30", "450"]
        status = status_from_reading(poll_once(uri))
        assert status.supplies.hopper_level == Level.known(30)
        assert status.supplies.ribbon_type == "ymcko"
        assert status.conditions == frozenset()

        printer.open_cover()
        printer.remove_ribbon()
        status = status_from_reading(poll_once(uri))
        assert {c.value for c in status.conditions} == {"cover_open", "ribbon_missing"}
        assert status.supplies.ribbon_type is None
    finally:
        agent.close()
