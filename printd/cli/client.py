"""A small HTTP/1.1 client over the daemon's Unix socket.

Plain sockets rather than http.client: that module pulls in email and ssl, a third of
printctl's start-up time, and the daemon's answers are simple (JSON with a Content-Length,
one request per connection).
"""

from __future__ import annotations

import json
import socket
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from printd.errors import PrintdError

# README's exit-code table: keep in step with it.
EXIT_BY_KIND = {
    "JobError": 65,
    "NotFoundError": 66,
    "ConflictError": 73,
    "ConfirmationNeeded": 73,
    "StoreError": 74,
    "NeedsOperator": 75,
    "ConfigError": 78,
}
EXIT_UNREACHABLE = 69


class ApiError(PrintdError):
    def __init__(self, message: str, kind: str, status: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.exit_code = EXIT_UNREACHABLE if kind == "Unreachable" else EXIT_BY_KIND.get(kind, 1)


class _BadResponse(Exception):
    """The bytes that came back are not an HTTP response we understand."""


def _dechunk(body: bytes) -> bytes:
    out = b""
    while True:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return out
        out += rest[:size]
        body = rest[size + 2 :]


def parse_response(raw: bytes) -> tuple[int, bytes]:
    """(status, body) of one HTTP/1.1 response read to the end of the connection."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if not separator or len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise _BadResponse(lines[0][:80])
    try:
        status = int(parts[1])
    except ValueError:
        raise _BadResponse(lines[0][:80]) from None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        try:
            body = _dechunk(body)
        except ValueError:
            raise _BadResponse("bad chunked body") from None
    elif "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return status, body


class Client:
    def __init__(
        self, socket_path: Path, timeout: float = 30.0, t: NullTranslations | None = None
    ) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self.t = t or NullTranslations()

    def _unreachable(self, error: OSError) -> ApiError:
        _ = self.t.gettext
        where = str(self.socket_path)
        if isinstance(error, FileNotFoundError):
            text = _(
                "printd is not running (no socket at {socket}); start it with `make run` or "
                "`systemctl start printd`"
            )
        elif isinstance(error, PermissionError):
            text = _(
                "not allowed to talk to printd at {socket}: ask for membership of the printd "
                "operators' group"
            )
        elif isinstance(error, ConnectionRefusedError):
            text = _("printd is not answering at {socket} (a stale socket? is it running?)")
        else:
            text = _("cannot reach printd at {socket}: {error}")
        # The system's reason ("Connection timed out"), not Python's "[Errno 110] ..." text.
        reason = error.strerror or type(error).__name__
        return ApiError(text.format(socket=where, error=reason), "Unreachable", 0)

    def _exchange(self, request: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout)
            sock.connect(str(self.socket_path))
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        payload = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: printd\r\nConnection: close\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        head += f"Content-Length: {len(payload)}\r\n\r\n"
        try:
            raw = self._exchange(head.encode("ascii") + payload)
        except OSError as error:
            raise self._unreachable(error) from None
        try:
            status, content = parse_response(raw)
        except _BadResponse as error:
            raise ApiError(
                self.t.gettext("printd answered something that is not HTTP: {error}").format(
                    error=error
                ),
                "ProtocolError",
                0,
            ) from None
        try:
            data = json.loads(content) if content else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(
                self.t.gettext("printd answered something that is not JSON (HTTP {status})").format(
                    status=status
                ),
                "ProtocolError",
                status,
            ) from None
        if status >= 400:
            if not isinstance(data, dict):
                data = {}
            raise ApiError(data.get("error") or f"HTTP {status}", data.get("kind") or "", status)
        return data
