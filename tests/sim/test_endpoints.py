"""The pty (pyserial) and raw TCP endpoints carry the same bytes as USB."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from _sim_streams import esc

from printd.sim.evolis_model import SimPrinter
from printd.sim.pty_endpoint import PtyEndpoint
from printd.sim.tcp_endpoint import TcpEndpoint


def read_until(read, count: int, timeout: float = 5.0) -> bytes:  # type: ignore[no-untyped-def]
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"\r") < count and time.monotonic() < deadline:
        data += read()
    return data


@pytest.fixture
def pty_printer() -> Iterator[tuple[SimPrinter, str]]:
    printer = SimPrinter(ribbon_type="kb")
    endpoint = PtyEndpoint(printer)
    path = endpoint.start()
    yield printer, path
    endpoint.close()


def test_pty_round_trip_and_capture(pty_printer: tuple[SimPrinter, str], captures: Path) -> None:
    printer, path = pty_printer
    with serial.Serial(path, 115200, timeout=0.2) as port:
        port.write(esc("Rtp") + esc("Rsn"))
        assert read_until(lambda: port.read(64), 2) == b"Primacy\rSIM000001\r"
        port.write((captures / "card-black").read_bytes())
        assert read_until(lambda: port.read(256), 10) == b"OK\r" * 10
    assert printer.snapshot().cards_ejected == 1


def test_pty_survives_reopen_and_goes_quiet_when_unplugged(
    pty_printer: tuple[SimPrinter, str],
) -> None:
    printer, path = pty_printer
    with serial.Serial(path, 9600, timeout=0.2) as port:
        port.write(esc("Rfv"))
        assert read_until(lambda: port.read(64), 1) == b"1.0.0-sim\r"
    printer.unplug()
    with serial.Serial(path, 9600, timeout=0.2) as port:
        port.write(esc("Rtp"))
        assert port.read(64) == b""  # a pulled cable: nothing answers
        printer.replug()
        port.write(esc("Rtp"))
        assert read_until(lambda: port.read(64), 1) == b"Primacy\r"


@pytest.fixture
def tcp_printer() -> Iterator[tuple[SimPrinter, tuple[str, int]]]:
    printer = SimPrinter(ribbon_type="kb")
    endpoint = TcpEndpoint(printer)
    address = endpoint.start()
    yield printer, address
    endpoint.close()


def test_tcp_capture(tcp_printer: tuple[SimPrinter, tuple[str, int]], captures: Path) -> None:
    printer, address = tcp_printer
    assert address[0] == "127.0.0.1" and address[1] > 0
    with socket.create_connection(address, timeout=2) as client:
        client.sendall((captures / "evolis-card-curves").read_bytes())
        assert read_until(lambda: client.recv(256), 10) == b"OK\r" * 10
    assert printer.snapshot().cards_ejected == 1


def test_tcp_one_client_at_a_time(tcp_printer: tuple[SimPrinter, tuple[str, int]]) -> None:
    _, address = tcp_printer
    first = socket.create_connection(address, timeout=2)
    first.sendall(esc("Rtp"))
    assert read_until(lambda: first.recv(64), 1) == b"Primacy\r"
    second = socket.create_connection(address, timeout=0.3)  # waits in the backlog
    second.sendall(esc("Rsn"))
    with pytest.raises(TimeoutError):
        second.recv(64)
    first.close()
    second.settimeout(2)
    assert read_until(lambda: second.recv(64), 1) == b"SIM000001\r"
    second.close()


def test_tcp_unplug_drops_the_client(tcp_printer: tuple[SimPrinter, tuple[str, int]]) -> None:
    printer, address = tcp_printer
    with socket.create_connection(address, timeout=2) as client:
        client.sendall(esc("Rtp"))
        assert read_until(lambda: client.recv(64), 1) == b"Primacy\r"
        printer.unplug()
        assert client.recv(64) == b""  # closed by the printer side
    with socket.create_connection(address, timeout=2) as client:
        assert client.recv(64) == b""  # unreachable while unplugged
    printer.replug()
    with socket.create_connection(address, timeout=2) as client:
        client.sendall(esc("Rtp"))
        assert read_until(lambda: client.recv(64), 1) == b"Primacy\r"
