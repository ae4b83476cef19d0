"""A small HTTP client over the daemon's Unix socket (stdlib only: printctl starts fast)."""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path
from typing import Any

from printd.errors import PrintdError

EXIT_BY_KIND = {
    "JobError": 65,
    "NotFoundError": 66,
    "ConflictError": 73,
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
        self.exit_code = EXIT_BY_KIND.get(kind, 1)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("printd", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(str(self.socket_path))
        self.sock = sock


class Client:
    def __init__(self, socket_path: Path, timeout: float = 30.0) -> None:
        self.socket_path = socket_path
        self.timeout = timeout

    def call(self, method: str, path: str, body: Any = None) -> Any:
        connection = _UnixConnection(self.socket_path, self.timeout)
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except FileNotFoundError:
            raise ApiError(
                f"printd is not running (no socket at {self.socket_path}); start it with "
                "`make run` or `systemctl start printd`",
                "Unreachable",
                0,
            ) from None
        except PermissionError:
            raise ApiError(
                f"not allowed to talk to printd at {self.socket_path}: ask for membership of "
                "the printd operators' group",
                "Unreachable",
                0,
            ) from None
        except (ConnectionError, OSError) as error:
            raise ApiError(
                f"cannot reach printd at {self.socket_path}: {error}", "Unreachable", 0
            ) from None
        finally:
            connection.close()
        try:
            data = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            raise ApiError(
                "printd answered something that is not JSON", "ProtocolError", 0
            ) from None
        if response.status >= 400:
            raise ApiError(
                data.get("error", f"HTTP {response.status}"), data.get("kind", ""), response.status
            )
        return data
