"""The console against the real daemon process: a console port on loopback, and a client that
logs in the way an operator does (an address from `printctl console`)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
import requests

from tests.conftest import DaemonProcess, free_port


def console_section(port: int, token_seconds: float | None = None) -> str:
    extra = f"\ntoken_seconds = {token_seconds}" if token_seconds is not None else ""
    return f'\n[console]\nlisten = "127.0.0.1:{port}"{extra}\n'


@pytest.fixture
def console_daemon(make_daemon: Any) -> Callable[..., DaemonProcess]:
    def start(**kwargs: Any) -> DaemonProcess:
        port = free_port()
        token_seconds = kwargs.pop("token_seconds", None)
        extra = kwargs.pop("extra", "") + console_section(port, token_seconds)
        before_start = kwargs.pop("before_start", None)
        # The README tour's printer: the demo's simulator, where recording blanks or a ribbon
        # on a page also puts them in (config/printd.sim.toml does the same).
        kwargs.setdefault("device", "sim://primacy?print_seconds=0.05&hands=printctl")
        daemon: DaemonProcess = make_daemon(extra=extra, **kwargs)
        daemon.console_port = port  # type: ignore[attr-defined]
        if before_start is not None:
            before_start(daemon)
        daemon.start()
        return daemon

    return start


def console_port(daemon: DaemonProcess) -> int:
    return int(daemon.console_port)  # type: ignore[attr-defined]


def base_url(daemon: DaemonProcess) -> str:
    return f"http://127.0.0.1:{console_port(daemon)}"


def login_url(daemon: DaemonProcess) -> str:
    url = daemon.ctl_json("console")["url"]
    assert url.startswith(base_url(daemon) + "/login?token="), url
    return str(url)


class FormFields(HTMLParser):
    """The hidden CSRF field of the first form posting to `action`."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: dict[str, str] = {}
        self.found = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and a.get("action") == self.action and not self.found:
            self.inside, self.found = True, True
        elif tag == "input" and self.inside and a.get("type") == "hidden":
            self.fields[a.get("name") or ""] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def hidden_fields(html: str, action: str) -> dict[str, str]:
    parser = FormFields(action)
    parser.feed(html)
    assert parser.found, f"no form posting to {action}"
    return parser.fields


def logged_in(daemon: DaemonProcess) -> requests.Session:
    session = requests.Session()
    response = session.get(login_url(daemon), allow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text
    return session


def post_form(
    session: requests.Session, daemon: DaemonProcess, page: str, action: str, data: dict[str, str]
) -> requests.Response:
    """A form sent the way the browser sends it from the console's own page."""
    html = session.get(base_url(daemon) + page, timeout=30).text
    fields = hidden_fields(html, action) | data
    return session.post(
        base_url(daemon) + action,
        data=fields,
        headers={"Origin": base_url(daemon)},
        allow_redirects=False,
        timeout=30,
    )


def ledger_actors(daemon: DaemonProcess) -> list[tuple[str, str, str]]:
    """(item, kind, actor) of every ledger row, oldest first, read beside the daemon (WAL)."""
    db = sqlite3.connect(f"file:{daemon.state_dir / 'printd.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT item, kind, actor FROM ledger ORDER BY rowid").fetchall()
    finally:
        db.close()
    return [(str(i), str(k), str(a)) for i, k, a in rows]


def job_events(daemon: DaemonProcess, job_id: str) -> list[dict[str, Any]]:
    return list(daemon.ctl_json("show", job_id)["job"]["events"])


def page_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
