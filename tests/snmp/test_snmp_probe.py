"""`printd probe snmp://…`: table, JSON and exit codes."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import pytest
from snmp_support import RunningSim

from printd.cli.probe import main


def test_table_output(
    sim_agent: Callable[..., RunningSim], capsys: pytest.CaptureFixture[str]
) -> None:
    sim = sim_agent()
    assert main([sim.uri()]) == 0
    out = capsys.readouterr().out
    assert "hopper      input 1.1: 42 / 100 blanks" in out
    assert "serial      -" in out  # the simulator's agent publishes no prtGeneralTable
    assert "ribbon      ymcko  300 / 450 prints" in out
    assert "Card hopper" in out
    assert "not implemented by the agent: prtAlertTable" in out


def test_json_output(
    sim_agent: Callable[..., RunningSim], capsys: pytest.CaptureFixture[str]
) -> None:
    sim = sim_agent()
    sim.holder.update(hopper_level=-3)
    assert main([sim.uri(), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == "idle"
    assert data["supplies"]["hopper_level"] == {"kind": "some_remaining", "value": None}
    assert data["supplies"]["ribbon_remaining"] == {"kind": "known", "value": 300}
    assert data["supply_rows"][1]["receptacle"] is True
    assert data["problems"] == []


def test_no_agent_exits_69(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = main([f"snmp://127.0.0.1:{port}", "--timeout", "0.2", "--retries", "0", "--json"])
    assert code == 69
    assert json.loads(capsys.readouterr().out)["error"] == "TransportTimeout"


def test_bad_uri_exits_78(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["snmp://h?version=3&user=u&auth_key=plain-text-key"]) == 78
    err = capsys.readouterr().err
    assert "auth_key_file" in err
    assert "plain-text-key" not in err
