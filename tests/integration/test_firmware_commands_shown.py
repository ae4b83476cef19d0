"""What the connect probe learnt of the firmware reaches the operator: `printctl status`."""

from __future__ import annotations

from tests.conftest import DaemonProcess


def _commands_line(daemon: DaemonProcess, *lang: str) -> str:
    lines = daemon.ctl(*lang, "status").stdout.splitlines()
    return next(line for line in lines if line.strip().startswith(("Commands", "Perintah")))


def test_status_names_the_commands_the_firmware_answers_and_refuses(make_daemon) -> None:
    daemon = make_daemon(device="sim://primacy?print_seconds=0.05&firmware=pmi-only")
    daemon.start()
    probed = daemon.wait_for(
        lambda: daemon.ctl_json("status")["printers"][0]["firmware_commands"],
        what="the connect probe's findings in /v1/status",
    )
    assert "Pcim;F refused" in probed and "Pmi;F;s yes" in probed

    line = _commands_line(daemon, "--lang", "en")
    answered, _, refused = line.split("Commands", 1)[1].strip().partition("; refuses ")
    assert sorted(answered.removeprefix("answers ").split(", ")) == sorted(
        ["Pem;2", "Rse;f", "Rse;o", "Rlr;p", "Rr", "Rco;l", "Pmi;F;s"]
    )
    assert refused == "Pcim;F"
    assert "menolak Pcim;F" in _commands_line(daemon, "--lang", "id")
    assert daemon.stop() == 0
