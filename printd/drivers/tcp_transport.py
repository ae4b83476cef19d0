"""Raw TCP transport (port 9100 style): one connection per `open()`."""

from __future__ import annotations

import errno
import socket

from printd.errors import DeviceBusy, DeviceGone, TransportError, TransportTimeout

_GONE = (
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.EHOSTDOWN,
)


def map_socket_error(error: OSError, what: str, where: str) -> TransportError:
    if isinstance(error, TimeoutError | socket.timeout):
        return TransportTimeout(f"TCP {what} to {where}: no answer in time")
    if error.errno == errno.EBUSY:
        return DeviceBusy(f"TCP {what} to {where}: the printer is busy with another client")
    if isinstance(error, ConnectionError | socket.gaierror) or error.errno in _GONE:
        return DeviceGone(f"TCP {what} to {where}: the printer is not reachable: {error}")
    return TransportError(f"TCP {what} to {where}: {error}")


class TcpTransport:
    def __init__(self, host: str, port: int = 9100, *, connect_timeout: float = 5.0) -> None:
        self._host = host
        self._port = port
        self._connect_timeout = connect_timeout
        self._socket: socket.socket | None = None

    def __repr__(self) -> str:
        return f"TcpTransport({self._host}:{self._port})"

    @property
    def _where(self) -> str:
        return f"{self._host}:{self._port}"

    def open(self) -> None:
        self.close()
        try:
            sock = socket.create_connection((self._host, self._port), self._connect_timeout)
        except OSError as error:
            raise map_socket_error(error, "connect", self._where) from error
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket = sock

    def _require(self) -> socket.socket:
        if self._socket is None:
            raise DeviceGone(f"{self!r} is not open")
        return self._socket

    def write(self, data: bytes, timeout: float) -> None:
        sock = self._require()
        try:
            sock.settimeout(max(timeout, 0.001))
            sock.sendall(data)
        except OSError as error:
            raise map_socket_error(error, "write", self._where) from error

    def read(self, max_bytes: int, timeout: float) -> bytes:
        sock = self._require()
        try:
            sock.settimeout(max(timeout, 0.001))
            data = sock.recv(max_bytes)
        except OSError as error:
            raise map_socket_error(error, "read", self._where) from error
        if not data:
            raise DeviceGone(f"TCP read from {self._where}: the printer closed the connection")
        return data

    def close(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()
