"""`systemctl reload printd` (SIGHUP) on the real daemon: what it applies, what it refuses.

docs/install.md promises that a reload applies [queue] and [logging] and refuses, loudly,
what only a restart applies; `printctl status` then says "restart needed" with the keys.
"""

from __future__ import annotations

import signal
import socket
import tempfile
from pathlib import Path
from typing import Any

from install_support import REPO

from tests.conftest import write_config

NEW_PRINTER = '\n[[printer]]\nname = "counter-9"\ndevice = "sim://primacy?print_seconds=0.05"\n'


def hup(daemon: Any) -> None:
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGHUP)


def test_reload_refuses_what_needs_a_restart_and_status_says_so(make_daemon: Any) -> None:
    daemon = make_daemon()
    daemon.start()
    original = daemon.config.read_text()
    edited = original.replace('station = "test"', 'station = "moved"').replace(
        'level = "info"', 'level = "debug"'
    )
    daemon.config.write_text(edited + NEW_PRINTER + "\n[supplies]\nhopper_low = 7\n")
    hup(daemon)

    status = daemon.wait_for(
        lambda: (s := daemon.ctl_json("status"))["restart_needed"] and s,
        what="status to name the keys a reload refused",
    )
    assert status["restart_needed"] == [
        "daemon.station",
        "[[printer]] counter-9 (new)",
        "supplies.hopper_low",
    ]
    assert status["station"] == "test", "a refused key must not half-apply"
    assert [p["name"] for p in status["printers"]] == ["counter-1"]
    refused = [e for e in daemon.log_events() if e.get("event") == "reload_needs_restart"]
    assert refused and refused[0]["level"] == "error"
    assert "daemon.station" in refused[0]["keys"]
    text = daemon.ctl("status").stdout
    assert "restart needed" in text and "daemon.station" in text, text

    # Putting the file back (the keys agree again) clears the line on the next reload.
    daemon.config.write_text(original)
    hup(daemon)
    daemon.wait_for(
        lambda: daemon.ctl_json("status")["restart_needed"] == [],
        what="restart_needed to clear once the file matches the running config",
    )
    assert "restart needed" not in daemon.ctl("status").stdout
    reloaded = [e for e in daemon.log_events() if e.get("event") == "config_reloaded"]
    assert reloaded, daemon.log()


def test_reload_applies_queue_and_logging_without_a_restart(make_daemon: Any) -> None:
    daemon = make_daemon()
    daemon.start()
    daemon.config.write_text(
        daemon.config.read_text().replace("max_attempts = 3", "max_attempts = 5")
    )
    hup(daemon)
    daemon.wait_for(
        lambda: any(e.get("event") == "config_reloaded" for e in daemon.log_events()),
        what="config_reloaded",
    )
    assert daemon.ctl_json("status")["restart_needed"] == []
    assert not any(e.get("event") == "reload_needs_restart" for e in daemon.log_events())


INSTALL_MD = REPO / "docs" / "install.md"


def statuses(sock: socket.socket, until: str) -> list[str]:
    """The STATUS= texts the daemon sends to its notify socket, up to one containing `until`."""
    seen: list[str] = []
    while not any(until in text for text in seen):
        fields = dict(
            line.split("=", 1) for line in sock.recv(4096).decode().splitlines() if "=" in line
        )
        if "STATUS" in fields:
            seen.append(fields["STATUS"])
    return seen


def test_the_unit_status_and_reload_lines_of_install_md_are_what_the_daemon_says(
    make_daemon: Any,
) -> None:
    # docs/install.md quotes the unit's Status line and the reload's error and status words.
    text = " ".join(INSTALL_MD.read_text().split())
    with tempfile.TemporaryDirectory(dir="/tmp") as short:  # AF_UNIX paths are short
        path = str(Path(short) / "notify")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(path)
            sock.settimeout(60)
            daemon = make_daemon()
            daemon.env = {"NOTIFY_SOCKET": path}
            daemon.start()
            ready = statuses(sock, "printing on")[-1]
            assert f'Status: "{ready}"' in text, ready
            daemon.config.write_text(
                daemon.config.read_text().replace('station = "test"', 'station = "moved"')
            )
            hup(daemon)
            refused = statuses(sock, "restart needed")[-1]
    assert refused == "restart needed: daemon.station"
    assert '"restart needed: …"' in text
    assert "reload_needs_restart" in text
    assert any(e.get("event") == "reload_needs_restart" for e in daemon.log_events())
    assert 'shows "restart needed"' in text and "restart needed" in daemon.ctl("status").stdout


def test_restart_keys_name_each_change_as_printd_toml_spells_it(tmp_path: Path) -> None:
    from printd.config import load_config
    from printd.daemon import restart_keys

    folder = tmp_path / "running"
    folder.mkdir()
    running = load_config(write_config(folder, printers=2))
    text = running.path.read_text()
    cases = {
        # a removed printer, a changed key of a kept one, a new optional section
        text.replace('[[printer]]\nname = "counter-2"', '[[printer]]\nname = "counter-3"'): [
            "[[printer]] counter-2 (removed)",
            "[[printer]] counter-3 (new)",
        ],
        text.replace('name = "counter-1"\n', 'name = "counter-1"\nhopper_capacity = 50\n'): [
            "printer.counter-1.hopper_capacity"
        ],
        text + '\n[console]\nlisten = "127.0.0.1:1"\n': ["console.listen"],
        text.replace("max_attempts = 3", "max_attempts = 4"): [],
        text.replace('level = "info"', 'level = "debug"'): [],
    }
    for edited, keys in cases.items():
        running.path.write_text(edited)
        assert restart_keys(running, load_config(running.path)) == keys, edited
