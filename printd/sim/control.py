"""The operator's hands, over a socket: JSON lines on a Unix socket or TCP loopback.

A test, a trainer or ``hil/`` loads blanks, opens the cover or injects a fault in a running
simulator. One request per line, one answer per line:

    {"op": "load_blanks", "args": {"n": 20}}        -> {"ok": true, "result": null}
    {"op": "inject", "args": {"fault": "jam", "on_card": 2}}
    {"op": "snapshot"}                              -> {"ok": true, "result": {...fields...}}
    {"op": "fly"}                                   -> {"ok": false, "error": "unknown op ..."}

Addresses: ``HOST:PORT`` (TCP; port 0 lets the kernel choose) or a filesystem path (Unix
socket, created mode 0600). ``SimControlClient`` has the same method names as ``SimPrinter``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, cast

from printd.sim.evolis_model import SimPrinter, SimSnapshot
from printd.sim.panels import dot_share

_TCP_ADDRESS: Final = re.compile(r"^(?P<host>[^/]*):(?P<port>\d+)$")
MAX_REQUEST_BYTES: Final = 65536

# op -> the SimPrinter method it calls; "snapshot" and "last_card" are answered specially.
CONTROL_OPS: Final = (
    "load_blanks",
    "unload_blanks",
    "open_cover",
    "close_cover",
    "clear_jam",
    "clean",
    "empty_reject_box",
    "empty_output_hopper",
    "take_card",
    "install_ribbon",
    "remove_ribbon",
    "unplug",
    "replug",
    "power_cycle",
    "inject",
    "snapshot",
    "last_card",
)


class SimControlError(Exception):
    """The simulator refused a control request (the message says why)."""


def parse_address(address: str) -> tuple[str, int] | str:
    """``HOST:PORT`` -> ``(host, port)``; anything else is a Unix socket path."""
    match = _TCP_ADDRESS.match(address)
    if match:
        port = int(match.group("port"))
        if port > 65535:
            raise ValueError(f"control address {address!r}: port {port} is above 65535")
        return match.group("host") or "127.0.0.1", port
    if not address:
        raise ValueError("control address is empty: give HOST:PORT or a socket path")
    return address


def _card_summary(printer: SimPrinter) -> dict[str, Any] | None:
    card = printer.last_card()
    if card is None:
        return None
    shares = {
        side: {panel: dot_share(panel, bitmap) for panel, bitmap in panels.items()}
        for side, panels in card.sides.items()
    }
    return {
        "number": card.number,
        "outcome": card.outcome,
        "reply": card.reply,
        "prints_used": card.prints_used,
        "dot_shares": shares,
    }


def handle_request(printer: SimPrinter, request: object) -> Any:
    """Carry out one control request; raises ``ValueError``/``TypeError`` for bad ones."""
    if not isinstance(request, dict):
        raise TypeError("a request is a JSON object with 'op' and optional 'args'")
    op = request.get("op")
    args = request.get("args", {})
    if op not in CONTROL_OPS:
        raise ValueError(f"unknown op {op!r}: expected one of {', '.join(CONTROL_OPS)}")
    if not isinstance(args, dict):
        raise TypeError(f"op {op!r}: args must be a JSON object, not {type(args).__name__}")
    if op == "snapshot":
        return dataclasses.asdict(printer.snapshot())
    if op == "last_card":
        return _card_summary(printer)
    method = cast(Callable[..., object], getattr(printer, op))
    method(**args)
    return None


class _RequestHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        printer = cast(_ControlServerMixin, self.server).printer
        while True:
            line = self.rfile.readline(MAX_REQUEST_BYTES)
            if not line:
                return
            try:
                request = json.loads(line)
                answer = {"ok": True, "result": handle_request(printer, request)}
            except (ValueError, TypeError) as exc:
                answer = {"ok": False, "error": str(exc)}
            self.wfile.write(json.dumps(answer).encode() + b"\n")


class _ControlServerMixin:
    printer: SimPrinter
    daemon_threads = True
    allow_reuse_address = True


class _TcpServer(_ControlServerMixin, socketserver.ThreadingTCPServer):
    pass


class _UnixServer(_ControlServerMixin, socketserver.ThreadingUnixStreamServer):
    pass


class ControlServer:
    """Serves the control channel of one ``SimPrinter`` until ``close()``."""

    def __init__(self, printer: SimPrinter, address: str) -> None:
        self._printer = printer
        self._target = parse_address(address)
        self._server: socketserver.BaseServer | None = None
        self._thread: threading.Thread | None = None
        self._address = address

    def start(self) -> str:
        """Bind and serve; returns the address clients use (the real port for port 0)."""
        if isinstance(self._target, tuple):
            tcp = _TcpServer(self._target, _RequestHandler)
            tcp.printer = self._printer
            host, port = tcp.server_address[:2]
            self._address = f"{host!s}:{port}"
            self._server = tcp
        else:
            path = Path(self._target)
            if path.is_socket():
                path.unlink()  # a stale socket from a killed simulator
            unix = _UnixServer(str(path), _RequestHandler)
            unix.printer = self._printer
            path.chmod(0o600)
            self._server = unix
            self._address = str(path)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self._address

    @property
    def address(self) -> str:
        return self._address

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if isinstance(self._target, str):
            Path(self._target).unlink(missing_ok=True)


class SimControlClient:
    """Client of ``ControlServer``: the ``SimPrinter`` controls, run in another process."""

    def __init__(self, address: str, timeout: float = 5.0) -> None:
        target = parse_address(address)
        if isinstance(target, tuple):
            self._sock = socket.create_connection(target, timeout=timeout)
        else:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.settimeout(timeout)
            self._sock.connect(target)
        self._reader = self._sock.makefile("rb")
        self._lock = threading.Lock()

    def close(self) -> None:
        self._reader.close()
        self._sock.close()

    def __enter__(self) -> SimControlClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(self, op: str, **args: Any) -> Any:
        """Send one request; return its result or raise ``SimControlError``."""
        with self._lock:
            self._sock.sendall(json.dumps({"op": op, "args": args}).encode() + b"\n")
            line = self._reader.readline()
        if not line:
            raise SimControlError("the simulator closed the control connection")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise SimControlError(str(answer.get("error")))
        return answer.get("result")

    def load_blanks(self, n: int) -> None:
        self.call("load_blanks", n=n)

    def unload_blanks(self, n: int) -> None:
        self.call("unload_blanks", n=n)

    def open_cover(self) -> None:
        self.call("open_cover")

    def close_cover(self) -> None:
        self.call("close_cover")

    def clear_jam(self) -> None:
        self.call("clear_jam")

    def empty_reject_box(self) -> None:
        self.call("empty_reject_box")

    def empty_output_hopper(self) -> None:
        self.call("empty_output_hopper")

    def take_card(self) -> None:
        self.call("take_card")

    def clean(self) -> None:
        self.call("clean")

    def install_ribbon(self, ribbon_type: str, capacity: int, remaining: int | None = None) -> None:
        self.call("install_ribbon", ribbon_type=ribbon_type, capacity=capacity, remaining=remaining)

    def remove_ribbon(self) -> None:
        self.call("remove_ribbon")

    def unplug(self) -> None:
        self.call("unplug")

    def replug(self) -> None:
        self.call("replug")

    def power_cycle(self) -> None:
        self.call("power_cycle")

    def inject(self, fault: str, **params: Any) -> None:
        self.call("inject", fault=fault, **params)

    def snapshot(self) -> SimSnapshot:
        fields = dict(self.call("snapshot"))
        fields["minors"] = tuple(fields["minors"])
        fields["pending_faults"] = tuple(fields["pending_faults"])
        return SimSnapshot(**fields)

    def last_card(self) -> dict[str, Any] | None:
        """A summary of the last card: outcome, reply, prints used, share of dots per panel."""
        result = self.call("last_card")
        return None if result is None else dict(result)
