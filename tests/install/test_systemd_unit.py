"""printd.service: systemd accepts it as written, it is hardened, and it keeps its contract.

`systemd-analyze verify` needs the ExecStart binary to exist, so the checks run on a rendered
copy whose printd path points at an executable on this machine (see conftest.render_unit).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from install_support import UNIT_FILE, render_unit, stand_in_printd

MAX_EXPOSURE = 2.5
EXPOSURE_LINE = re.compile(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)")


def write_rendered(tmp_path: Path, text: str | None = None) -> Path:
    unit = tmp_path / "printd.service"
    unit.write_text(render_unit(text or UNIT_FILE.read_text(), stand_in_printd()))
    return unit


def verify(systemd_analyze: str, unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [systemd_analyze, "verify", "--recursive-errors=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def exposure(systemd_analyze: str, unit: Path) -> float:
    result = subprocess.run(
        [systemd_analyze, "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    match = EXPOSURE_LINE.search(result.stdout)
    assert match, f"no overall exposure line in:\n{result.stdout}\n{result.stderr}"
    return float(match.group(1))


def directives(text: str) -> dict[str, list[str]]:
    """Key → values in file order, continuation lines joined (enough for this unit)."""
    found: dict[str, list[str]] = {}
    for raw in text.replace("\\\n", " ").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_verify_accepts_the_unit_with_no_output(systemd_analyze: str, tmp_path: Path) -> None:
    result = verify(systemd_analyze, write_rendered(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_verify_check_catches_a_misspelt_key(systemd_analyze: str, tmp_path: Path) -> None:
    broken = UNIT_FILE.read_text().replace("WatchdogSec=30", "WatchdogSecs=30")
    result = verify(systemd_analyze, write_rendered(tmp_path, broken))
    assert "WatchdogSecs" in result.stderr


def test_verify_check_catches_a_missing_binary(systemd_analyze: str, tmp_path: Path) -> None:
    unit = tmp_path / "printd.service"
    unit.write_text(UNIT_FILE.read_text().replace("/opt/printd/venv", str(tmp_path / "nope")))
    result = verify(systemd_analyze, unit)
    assert result.returncode != 0
    assert "is not executable" in result.stderr


def test_security_exposure_is_at_most_2_5(systemd_analyze: str, tmp_path: Path) -> None:
    figure = exposure(systemd_analyze, write_rendered(tmp_path))
    assert figure <= MAX_EXPOSURE, f"exposure {figure} > {MAX_EXPOSURE}: hardening regressed"


def test_security_figure_rises_without_hardening(systemd_analyze: str, tmp_path: Path) -> None:
    bare = "[Service]\nType=notify\nExecStart=/opt/printd/venv/bin/printd run\n"
    assert exposure(systemd_analyze, write_rendered(tmp_path, bare)) > MAX_EXPOSURE


def test_unit_keeps_the_service_contract() -> None:
    unit = directives(UNIT_FILE.read_text())
    expected_single = {
        "Type": "notify",
        "NotifyAccess": "main",
        "ExecStart": "/opt/printd/venv/bin/printd run --config /etc/printd/printd.toml",
        "Restart": "on-failure",
        "WatchdogSec": "30",
        "User": "printd",
        "Group": "printd",
        "StateDirectory": "printd",
        "RuntimeDirectory": "printd",
        "ConfigurationDirectory": "printd",
        "UMask": "0007",
        "DevicePolicy": "closed",
        "ProtectSystem": "strict",
        "MemoryDenyWriteExecute": "yes",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        "CapabilityBoundingSet": "",
        "WantedBy": "multi-user.target",
    }
    for key, value in expected_single.items():
        assert unit.get(key) == [value], f"{key}: {unit.get(key)}"
    assert unit["ExecReload"][-1] == "/bin/kill -HUP $MAINPID"
    assert "char-usb_device rw" in unit["DeviceAllow"]
    assert {"char-ttyUSB rw", "char-ttyACM rw"} <= set(unit["DeviceAllow"])
    assert "dialout" in unit["SupplementaryGroups"][0].split()
    assert "PrivateDevices" not in unit, "PrivateDevices hides /dev/bus/usb from libusb"


@pytest.mark.parametrize("key", ["ProtectHome", "PrivateTmp", "NoNewPrivileges", "ProtectClock"])
def test_unit_hardening_switches_are_on(key: str) -> None:
    assert directives(UNIT_FILE.read_text()).get(key) == ["yes"]
