"""The sysusers and tmpfiles snippets, applied by the real tools to a throw-away root.

systemd 252's systemd-tmpfiles has no --dry-run, so both tools run with --root= on a temp
directory holding copies of this machine's account files; nothing on the host changes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_tool

SYSTEMD_DIR = Path(__file__).resolve().parents[2] / "systemd"
SYSUSERS = SYSTEMD_DIR / "printd.sysusers.conf"
TMPFILES = SYSTEMD_DIR / "printd.tmpfiles.conf"
ACCOUNT_FILES = ("passwd", "group", "shadow", "gshadow")


def tool(name: str) -> str:
    return require_tool(name, "systemd")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A root with this machine's accounts (so 'dialout' exists as on a station)."""
    (tmp_path / "etc").mkdir()
    for name in ACCOUNT_FILES:
        source = Path("/etc") / name
        if source.exists():
            shutil.copy2(source, tmp_path / "etc" / name)
    return tmp_path


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def entries(path: Path) -> dict[str, list[str]]:
    return {line.split(":")[0]: line.split(":") for line in path.read_text().splitlines()}


def apply_sysusers(root: Path) -> None:
    result = run(tool("systemd-sysusers"), f"--root={root}", str(SYSUSERS))
    assert result.returncode == 0, result.stderr


def test_sysusers_dry_run_plans_the_account(root: Path) -> None:
    result = run(tool("systemd-sysusers"), "--dry-run", f"--root={root}", str(SYSUSERS))
    assert result.returncode == 0, result.stderr
    assert "Creating user 'printd' (printd print-station daemon)" in result.stderr
    assert "Creating group 'printd-operators'" in result.stderr
    assert entries(root / "etc" / "passwd").get("printd") is None, "dry run wrote the file"


def test_sysusers_creates_a_locked_system_user_in_the_right_groups(root: Path) -> None:
    apply_sysusers(root)
    user = entries(root / "etc" / "passwd")["printd"]
    groups = entries(root / "etc" / "group")
    assert user[5] == "/var/lib/printd"
    assert user[6] == "/usr/sbin/nologin"
    assert int(user[2]) < 1000, "a system uid, outside the range for people"
    assert user[3] == groups["printd"][2], "primary group printd"
    assert "printd" in groups["dialout"][3].split(",")
    assert "printd" in groups["printd-operators"][3].split(",")


def test_sysusers_is_idempotent(root: Path) -> None:
    apply_sysusers(root)
    before = (root / "etc" / "passwd").read_text(), (root / "etc" / "group").read_text()
    apply_sysusers(root)
    assert ((root / "etc" / "passwd").read_text(), (root / "etc" / "group").read_text()) == before


def test_tmpfiles_creates_private_state_and_a_reachable_socket_dir(root: Path) -> None:
    apply_sysusers(root)
    uid = int(entries(root / "etc" / "passwd")["printd"][2])
    result = run(tool("systemd-tmpfiles"), f"--root={root}", "--create", str(TMPFILES))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    expected = {"var/lib/printd": 0o750, "var/lib/printd/spool": 0o750, "run/printd": 0o755}
    for relative, mode in expected.items():
        status = (root / relative).stat()
        assert (status.st_mode & 0o7777, status.st_uid) == (mode, uid), relative


def test_tmpfiles_refuses_an_unknown_owner(tmp_path: Path) -> None:
    # Without the sysusers step the owner does not exist: the tool must say so, not guess.
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (tmp_path / "etc" / "group").write_text("root:x:0:\n")
    result = run(tool("systemd-tmpfiles"), f"--root={tmp_path}", "--create", str(TMPFILES))
    assert result.returncode != 0
    assert "printd" in result.stderr
