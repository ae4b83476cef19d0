"""The control channel: the operator's hands over JSON lines (Unix socket and TCP)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from _sim_streams import card, dbc, esc, ko_compress, random_k, read_replies

from printd.sim.control import ControlServer, SimControlClient, SimControlError, parse_address
from printd.sim.evolis_model import SimPrinter


@pytest.fixture(params=["unix", "tcp"])
def control(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SimPrinter, str]]:
    printer = SimPrinter(hopper=10, hopper_capacity=100)
    address = str(tmp_path / "sim.sock") if request.param == "unix" else "127.0.0.1:0"
    server = ControlServer(printer, address)
    bound = server.start()
    yield printer, bound
    server.close()


def test_controls_act_on_the_printer(control: tuple[SimPrinter, str]) -> None:
    printer, address = control
    with SimControlClient(address) as client:
        client.load_blanks(5)
        client.open_cover()
        snap = client.snapshot()
        assert snap == printer.snapshot()
        assert (snap.hopper, snap.cover_open, snap.state) == (15, True, "WARNING")
        client.close_cover()
        client.install_ribbon("kb", 100, 3)
        client.inject("jam", on_card=1)
        assert client.snapshot().pending_faults == ("jam",)
        printer.write(card([dbc("k", ko_compress(random_k(2)))], ribbon="kb"))
        assert read_replies(printer.read, 6)[-1] == "ERR MECHANICAL"
        summary = client.last_card()
        assert summary is not None
        assert summary["outcome"] == "jammed"
        assert abs(summary["dot_shares"]["front"]["k"] - 0.3) < 0.01
        client.clear_jam()
        client.unplug()
        assert not printer.plugged
        client.replug()
        client.power_cycle()
        client.remove_ribbon()
        client.empty_reject_box()
        client.unload_blanks(1)
        assert client.snapshot().ribbon_type is None
    printer.write(esc("Rr"))
    assert read_replies(printer.read, 1) == ["NO RIBBON"]


def test_refusals_come_back_as_errors(control: tuple[SimPrinter, str]) -> None:
    _, address = control
    with SimControlClient(address) as client:
        with pytest.raises(SimControlError, match="at most 90 more"):
            client.load_blanks(91)
        with pytest.raises(SimControlError, match="unknown fault 'fire'"):
            client.inject("fire")
        with pytest.raises(SimControlError, match="unknown op 'fly'"):
            client.call("fly")
        with pytest.raises(SimControlError, match="unexpected keyword"):
            client.call("open_cover", now=True)
        assert client.snapshot().hopper == 10  # the connection survives refusals


def test_raw_json_lines(control: tuple[SimPrinter, str]) -> None:
    _, address = control
    target = parse_address(address)
    family = socket.AF_INET if isinstance(target, tuple) else socket.AF_UNIX
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect(target)
        reader = sock.makefile("rb")
        sock.sendall(b'not json\n["list"]\n{"op": "snapshot"}\n')
        answers = [json.loads(reader.readline()) for _ in range(3)]
    assert [a["ok"] for a in answers] == [False, False, True]
    assert "JSON object" in answers[1]["error"]
    assert answers[2]["result"]["hopper"] == 10


def test_unix_socket_is_private_and_removed(tmp_path: Path) -> None:
    path = tmp_path / "c.sock"
    server = ControlServer(SimPrinter(), str(path))
    server.start()
    assert path.stat().st_mode & 0o777 == 0o600
    server.close()
    assert not path.exists()


def test_parse_address() -> None:
    assert parse_address("127.0.0.1:9") == ("127.0.0.1", 9)
    assert parse_address(":9") == ("127.0.0.1", 9)
    assert parse_address("/run/x.sock") == "/run/x.sock"
    with pytest.raises(ValueError, match="above 65535"):
        parse_address("h:70000")
    with pytest.raises(ValueError, match="empty"):
        parse_address("")
