"""Serial (pty, loop://) and TCP transports: round trips and the error mapping."""

from __future__ import annotations

import os
import socket
import threading
import tty
from collections.abc import Iterator

import pytest

from printd.drivers.serial_transport import SerialTransport
from printd.drivers.tcp_transport import TcpTransport
from printd.errors import DeviceBusy, DeviceGone, TransportTimeout


@pytest.fixture
def pty_path() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(master)
    path = os.ttyname(slave)
    os.close(slave)
    yield master, path
    os.close(master)


def test_serial_loop_round_trip_and_timeout() -> None:
    link = SerialTransport("loop://", baudrate=115200)
    link.open()
    link.write(b"\x1bRtp\r", 1.0)
    got = b""
    while len(got) < 5:
        got += link.read(64, 1.0)
    assert got == b"\x1bRtp\r"
    with pytest.raises(TransportTimeout):
        link.read(64, 0.05)
    link.close()
    link.close()  # twice is fine
    with pytest.raises(DeviceGone, match="not open"):
        link.read(1, 0.1)


def test_serial_over_a_pty(pty_path: tuple[int, str]) -> None:
    master, path = pty_path
    link = SerialTransport(path)
    link.open()
    link.write(b"\x1bRst\r", 1.0)
    assert os.read(master, 64) == b"\x1bRst\r"
    os.write(master, b"READY;PRINTER_READY\r")
    got = b""
    while not got.endswith(b"\r"):
        got += link.read(5, 1.0)
    assert got == b"READY;PRINTER_READY\r"
    link.close()


def test_serial_port_held_by_another_process_is_busy(pty_path: tuple[int, str]) -> None:
    _, path = pty_path
    first = SerialTransport(path)
    first.open()
    try:
        with pytest.raises(DeviceBusy, match="held by another process"):
            SerialTransport(path).open()
    finally:
        first.close()


def test_serial_missing_port_is_gone() -> None:
    with pytest.raises(DeviceGone, match="/dev/ttyNOPE0"):
        SerialTransport("/dev/ttyNOPE0").open()


@pytest.fixture
def echo_server() -> Iterator[tuple[str, int, list[socket.socket]]]:
    server = socket.create_server(("127.0.0.1", 0))
    clients: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            clients.append(client)
            data = client.recv(1024)
            if data:
                client.sendall(data.upper())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    host, port = server.getsockname()
    yield host, port, clients
    server.close()
    for client in clients:
        client.close()


def test_tcp_round_trip_timeout_and_peer_close(
    echo_server: tuple[str, int, list[socket.socket]],
) -> None:
    host, port, clients = echo_server
    link = TcpTransport(host, port)
    link.open()
    link.write(b"ok\r", 1.0)
    assert link.read(64, 1.0) == b"OK\r"
    with pytest.raises(TransportTimeout):
        link.read(64, 0.05)
    clients[0].close()
    with pytest.raises(DeviceGone, match="closed the connection"):
        link.read(64, 1.0)
    link.close()


def test_tcp_refused_is_gone() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DeviceGone, match="not reachable"):
        TcpTransport("127.0.0.1", port).open()
