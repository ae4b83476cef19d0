"""printctl against sockets that are not a healthy printd: clear words, README's exit codes."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from printd.cli.client import parse_response
from tests.conftest import BIN


def _printctl(sock: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "printctl"), "--socket", str(sock), *argv],
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def answering(tmp_path: Path) -> Iterator[tuple[Path, list[bytes]]]:
    """A Unix socket that answers each connection with the next canned reply."""
    path = tmp_path / "fake.sock"
    replies: list[bytes] = []
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(replies.pop(0) if replies else b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path, replies
    server.close()


def test_an_answer_that_is_not_http_is_a_protocol_error(
    answering: tuple[Path, list[bytes]],
) -> None:
    path, replies = answering
    replies.append(b"SSH-2.0-OpenSSH\r\n")
    result = _printctl(path, "status")
    assert result.returncode == 1
    assert "printd answered something that is not HTTP" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_non_json_error_page_still_gives_the_exit_code(
    answering: tuple[Path, list[bytes]],
) -> None:
    path, replies = answering
    replies.append(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad")
    result = _printctl(path, "status")
    assert result.returncode == 1 and "not JSON (HTTP 502)" in result.stderr


def test_a_stale_socket_file_says_printd_is_not_answering(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))  # bound, never listening: what a crashed daemon leaves behind
    result = _printctl(path, "status")
    assert result.returncode == 69 and "not answering" in result.stderr


def test_responses_are_parsed_with_length_and_chunks() -> None:
    plain = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: y\r\n\r\n{}trailing"
    assert parse_response(plain) == (200, b"{}")
    chunked = (
        b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'3\r\n{"a\r\n2\r\n"}\r\n0\r\n\r\n'
    )
    assert parse_response(chunked) == (404, b'{"a"}')


def test_help_speaks_indonesian_when_asked() -> None:
    out = subprocess.run(
        [str(BIN / "printctl"), "--lang", "id", "--help"], capture_output=True, text=True
    ).stdout
    assert "rekonsiliasi harian blangko" in out and "Perintah untuk daemon printd." in out
