"""A raw TCP link to a simulated printer, like a network printer's port 9100.

One client at a time: a second client waits in the listen backlog until the first leaves.
While the printer is unplugged, a connected client is dropped and new ones are closed at once
(the printer is unreachable).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Final

from printd.sim.evolis_model import PrinterUnpluggedError, SimPrinter

_POLL_SECONDS: Final = 0.05
_CHUNK: Final = 65536


class TcpEndpoint:
    """Serves one ``SimPrinter`` on ``host:port`` (port 0: the kernel picks) until ``close()``."""

    def __init__(self, printer: SimPrinter, host: str = "127.0.0.1", port: int = 0) -> None:
        self._printer = printer
        self._host = host
        self._port = port
        self._server: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._address: tuple[str, int] = (host, port)

    def start(self) -> tuple[str, int]:
        """Listen and start serving; returns the bound ``(host, port)``."""
        if self._server is not None:
            raise RuntimeError("TcpEndpoint.start(): already started")
        server = socket.create_server((self._host, self._port), backlog=4)
        server.settimeout(_POLL_SECONDS)
        self._server = server
        bound = server.getsockname()
        self._address = (str(bound[0]), int(bound[1]))
        self._thread = threading.Thread(
            target=self._serve, args=(server,), name="sim-tcp", daemon=True
        )
        self._thread.start()
        return self._address

    @property
    def address(self) -> tuple[str, int]:
        return self._address

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._server is not None:
            self._server.close()
            self._server = None

    def _serve(self, server: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with client:
                if self._printer.plugged:
                    self._session(client)

    def _session(self, client: socket.socket) -> None:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.settimeout(_POLL_SECONDS)
        done = threading.Event()
        replies = threading.Thread(
            target=self._send_replies, args=(client, done), name="sim-tcp-out", daemon=True
        )
        replies.start()
        try:
            while not self._stop.is_set() and not done.is_set():
                try:
                    data = client.recv(_CHUNK)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return  # the client closed its side
                self._printer.write(data, link="tcp")
        except PrinterUnpluggedError:
            return
        finally:
            done.set()
            replies.join(timeout=2)

    def _send_replies(self, client: socket.socket, done: threading.Event) -> None:
        while not done.is_set() and not self._stop.is_set():
            try:
                data = self._printer.read(_CHUNK, _POLL_SECONDS, link="tcp")
            except PrinterUnpluggedError:
                break
            if data:
                try:
                    client.sendall(data)
                except OSError:
                    break
        done.set()
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)
