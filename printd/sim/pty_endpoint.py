"""A serial link to a simulated printer over a pseudo-terminal (A10: the same bytes as USB).

``PtyEndpoint(printer).start()`` returns the slave tty path for pyserial; one thread copies
host bytes into the printer and another copies replies back. While the printer is unplugged,
bytes from the host are dropped and nothing answers, as with a pulled serial cable. When every
slave fd is closed the master reads EIO: that is EOF for this link, and the endpoint keeps
waiting for the next opener.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import threading
import tty
from typing import Final

from printd.sim.evolis_model import PrinterUnpluggedError, SimPrinter

_POLL_SECONDS: Final = 0.05
_CHUNK: Final = 65536


class PtyEndpoint:
    """Serves one ``SimPrinter`` on a pty until ``close()``."""

    def __init__(self, printer: SimPrinter) -> None:
        self._printer = printer
        self._master: int | None = None
        self._slave: int | None = None
        self._path = ""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> str:
        """Open the pty and start shuttling; returns the slave path (e.g. ``/dev/pts/3``).

        The endpoint keeps its own slave fd open, so the pty (and replies not yet read) survive
        a host closing and reopening the port.
        """
        if self._master is not None:
            raise RuntimeError("PtyEndpoint.start(): already started")
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self._master, self._slave = master, slave
        self._path = os.ttyname(slave)
        for target, name in ((self._host_to_printer, "in"), (self._printer_to_host, "out")):
            thread = threading.Thread(
                target=target, args=(master,), name=f"sim-pty-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self._path

    @property
    def path(self) -> str:
        return self._path

    def close(self) -> None:
        """Stop the threads and close both ends of the pty."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads.clear()
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    def _host_to_printer(self, master: int) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], _POLL_SECONDS)
            if not ready:
                continue
            try:
                data = os.read(master, _CHUNK)
            except OSError as exc:
                if exc.errno != errno.EIO or self._stop.is_set():
                    return
                # EIO: no slave open (host closed the port). Wait for the next opener.
                self._stop.wait(_POLL_SECONDS)
                continue
            with contextlib.suppress(PrinterUnpluggedError):
                self._printer.write(data, link="pty")

    def _printer_to_host(self, master: int) -> None:
        while not self._stop.is_set():
            try:
                data = self._printer.read(_CHUNK, _POLL_SECONDS, link="pty")
            except PrinterUnpluggedError:
                self._stop.wait(_POLL_SECONDS)
                continue
            view = memoryview(data)
            while view and not self._stop.is_set():
                try:
                    written = os.write(master, view)
                except OSError:
                    return
                view = view[written:]
