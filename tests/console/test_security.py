"""Who gets into the console, and what the audit trail says about what they did there.

Plain HTTP against the real daemon: the refusals a browser would meet, sent by hand.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from printd.config import parse_config
from printd.errors import ConfigError
from tests.conftest import DaemonProcess
from tests.console.conftest import (
    base_url,
    hidden_fields,
    ledger_actors,
    logged_in,
    login_url,
    post_form,
)

PAGES = ("/", "/jobs", "/settle", "/supplies", "/report", "/events")


def stock_blanks(daemon: DaemonProcess) -> int:
    return int(daemon.ctl_json("status")["stock"]["blanks"])


def test_no_token_no_page(console_daemon: Any) -> None:
    daemon = console_daemon()
    for page in PAGES:
        response = requests.get(base_url(daemon) + page, timeout=30)
        assert response.status_code == 401, page
        assert "printctl console" in response.text
    response = requests.post(
        base_url(daemon) + "/supplies/delivery",
        data={"blanks": "5"},
        headers={"Origin": base_url(daemon)},
        timeout=30,
    )
    assert response.status_code == 401
    # A session id someone made up is no session.
    forged = requests.get(base_url(daemon), cookies={"printd_console": "guess"}, timeout=30)
    assert forged.status_code == 401
    assert stock_blanks(daemon) == 0


def test_a_token_opens_one_session_once(console_daemon: Any) -> None:
    daemon = console_daemon()
    url = login_url(daemon)
    first = requests.get(url, allow_redirects=False, timeout=30)
    assert first.status_code == 303
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    session_id = first.cookies["printd_console"]
    assert requests.get(base_url(daemon), cookies={"printd_console": session_id}).ok
    again = requests.get(url, allow_redirects=False, timeout=30)
    assert again.status_code == 401
    assert "printd_console" not in again.cookies
    assert "printctl console" in again.text


def test_an_expired_token_is_refused(console_daemon: Any) -> None:
    daemon = console_daemon(token_seconds=1)
    url = login_url(daemon)
    issued_by = time.monotonic()  # the daemon issued it before printctl returned
    # Waiting for the expiry itself: the condition is the clock passing the token's end.
    while time.monotonic() < issued_by + 1.0:
        time.sleep(0.05)
    response = requests.get(url, allow_redirects=False, timeout=30)
    assert response.status_code == 401
    assert "printd_console" not in response.cookies


def test_a_cross_site_post_changes_nothing(console_daemon: Any) -> None:
    daemon = console_daemon()
    session = logged_in(daemon)
    html = session.get(base_url(daemon) + "/supplies", timeout=30).text
    csrf = hidden_fields(html, "/supplies/delivery")["csrf"]
    target = base_url(daemon) + "/supplies/delivery"
    attempts = [
        # Another site's page posting a form: the browser names that site as Origin.
        ({"csrf": csrf, "blanks": "7"}, {"Origin": "http://evil.example"}),
        ({"csrf": csrf, "blanks": "7"}, {"Origin": "null"}),
        # No Origin, and a Referer from elsewhere.
        ({"csrf": csrf, "blanks": "7"}, {"Referer": "http://evil.example/form.html"}),
        # Neither header at all.
        ({"csrf": csrf, "blanks": "7"}, {}),
        # Right origin, no CSRF token, or a wrong one.
        ({"blanks": "7"}, {"Origin": base_url(daemon)}),
        ({"csrf": "x" + csrf, "blanks": "7"}, {"Origin": base_url(daemon)}),
    ]
    for data, headers in attempts:
        response = session.post(target, data=data, headers=headers, allow_redirects=False)
        assert response.status_code == 403, (data, headers)
    assert stock_blanks(daemon) == 0
    # The same form from the console's own page is taken.
    ok = post_form(session, daemon, "/supplies", "/supplies/delivery", {"blanks": "7"})
    assert ok.status_code == 303
    assert stock_blanks(daemon) == 7


def test_only_the_consoles_own_address_answers(console_daemon: Any) -> None:
    """A page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) is refused."""
    daemon = console_daemon()
    session = logged_in(daemon)
    response = session.get(base_url(daemon), headers={"Host": "evil.example"}, timeout=30)
    assert response.status_code == 421
    assert session.get(base_url(daemon), timeout=30).status_code == 200


def test_the_audit_trail_names_the_uid_that_asked_for_the_address(
    console_daemon: Any, tmp_path: Any
) -> None:
    import os
    import pwd

    daemon = console_daemon()
    me = f"{pwd.getpwuid(os.getuid()).pw_name}({os.getuid()}) via console"
    session = logged_in(daemon)
    assert post_form(session, daemon, "/supplies", "/supplies/delivery", {"blanks": "10"}).ok
    post_form(session, daemon, "/supplies", "/supplies/load", {"count": "4"})
    assert ledger_actors(daemon)[-2:] == [("blanks", "received", me), ("blanks", "loaded", me)]
    # A job change made in the console is an event with the same actor.
    from tests.integration.test_faults import submit_copies

    [job_id] = submit_copies(daemon, tmp_path, 1, "audit")
    daemon.wait_for(lambda: daemon.ctl_json("show", job_id)["job"]["state"] == "queued")
    page = f"/jobs/{job_id}"
    assert post_form(session, daemon, page, f"/jobs/{job_id}/hold", {}).status_code == 303
    events = daemon.ctl_json("show", job_id)["job"]["events"]
    assert events[-1]["to"] == "held"
    assert events[-1]["actor"] == me
    assert daemon.ctl_json("audit", "verify")["ok"]


def test_printctl_console_when_the_console_is_off(make_daemon: Any) -> None:
    daemon = make_daemon()
    daemon.start()
    result = daemon.ctl("console", check=False)
    assert result.returncode == 73
    assert "[console] listen" in result.stderr


def test_the_console_listens_on_loopback_only(tmp_path: Any) -> None:
    base = '[daemon]\nstate_dir = "s"\n[[printer]]\ndevice = "sim://primacy"\n[console]\n'
    assert parse_config(base + 'listen = "127.0.0.1:10632"\n', tmp_path / "p.toml").console
    for listen in ("0.0.0.0:10632", "192.168.1.5:10632", "10632", "127.0.0.1:0"):
        with pytest.raises(ConfigError, match=r"\[console\] listen"):
            parse_config(base + f'listen = "{listen}"\n', tmp_path / "p.toml")
    assert parse_config(base.replace("[console]\n", ""), tmp_path / "p.toml").console.listen is None
