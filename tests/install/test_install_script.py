"""scripts/install.sh and scripts/uninstall.sh, run for real into a staged root (DESTDIR).

Staged runs place files only: no users, no udev, no systemctl (those need the station).
The venv step is skipped (PRINTD_INSTALL_SKIP_VENV=1) and PRINTD_VENV points at a venv whose
`printd` is a recording stand-in, so the tests control what `printd check-config` answers;
the tests marked "real" use the project's own venv and its printd console script.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from install_support import REPO

from tests.conftest import require_tool

UNIT = "usr/local/lib/systemd/system/printd.service"
EXPECTED_FILES = {
    UNIT: 0o644,
    "usr/local/lib/sysusers.d/printd.conf": 0o644,
    "usr/local/lib/tmpfiles.d/printd.conf": 0o644,
    "usr/local/lib/udev/rules.d/70-printd-card-printers.rules": 0o644,
    "etc/printd/printd.toml": 0o640,
    "etc/printd/printd.toml.example": 0o644,
    "opt/printd/share/doc/install.md": 0o644,
}
PLACEHOLDER_CONFIG = '[daemon]\nstate_dir = "/var/lib/printd"\n'
STAND_IN = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/calls"
exit "${PRINTD_STAND_IN_EXIT:-0}"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the files the scripts read, so a test can vary the config safely."""
    tree = tmp_path / "checkout"
    for part in ("scripts", "systemd"):
        shutil.copytree(REPO / part, tree / part)
    (tree / "docs").mkdir()
    shutil.copy2(REPO / "docs" / "install.md", tree / "docs" / "install.md")
    shutil.copy2(REPO / "pyproject.toml", tree / "pyproject.toml")
    (tree / "config").mkdir()
    station_config = REPO / "config" / "printd.toml"
    if station_config.exists():
        shutil.copy2(station_config, tree / "config" / "printd.toml")
    else:  # the default config is written alongside the daemon; any file will do here
        (tree / "config" / "printd.toml").write_text(PLACEHOLDER_CONFIG)
    return tree


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    directory = tmp_path / "venv"
    (directory / "bin").mkdir(parents=True)
    printd = directory / "bin" / "printd"
    printd.write_text(STAND_IN)
    printd.chmod(0o755)
    return directory


def run_script(
    checkout: Path, name: str, stage: Path, venv: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = dict(
        os.environ,
        DESTDIR=str(stage),
        PRINTD_INSTALL_SKIP_VENV="1",
        PRINTD_VENV=str(venv),
        **env,
    )
    return subprocess.run(
        ["bash", str(checkout / "scripts" / name), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environment,
    )


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_staged_install_places_every_file_with_its_mode(
    checkout: Path, venv: Path, tmp_path: Path
) -> None:
    stage = tmp_path / "stage"
    result = run_script(checkout, "install.sh", stage, venv)
    assert result.returncode == 0, result.stderr
    assert files_under(stage) == set(EXPECTED_FILES)
    for relative, mode in EXPECTED_FILES.items():
        assert (stage / relative).stat().st_mode & 0o777 == mode, relative
    installed_config = (stage / "etc/printd/printd.toml").read_bytes()
    assert installed_config == (checkout / "config/printd.toml").read_bytes()
    assert "systemctl daemon-reload && systemctl enable --now printd" in result.stdout


def test_installed_unit_runs_the_chosen_venv_and_verifies(
    checkout: Path, venv: Path, tmp_path: Path, systemd_analyze: str
) -> None:
    stage = tmp_path / "stage"
    assert run_script(checkout, "install.sh", stage, venv).returncode == 0
    unit = stage / UNIT
    text = unit.read_text()
    assert f"ExecStart={venv}/bin/printd run --config /etc/printd/printd.toml" in text
    assert "/opt/printd/venv" not in text
    verify = subprocess.run(
        [systemd_analyze, "verify", "--recursive-errors=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (verify.returncode, verify.stderr) == (0, "")


def test_install_checks_the_installed_config(checkout: Path, venv: Path, tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    assert run_script(checkout, "install.sh", stage, venv).returncode == 0
    calls = (venv / "bin" / "calls").read_text().splitlines()
    assert calls == [f"check-config {stage}/etc/printd/printd.toml"]


def test_an_invalid_config_stops_the_install(checkout: Path, venv: Path, tmp_path: Path) -> None:
    result = run_script(checkout, "install.sh", tmp_path / "stage", venv, PRINTD_STAND_IN_EXIT="78")
    assert result.returncode == 1
    assert "/etc/printd/printd.toml is not valid" in result.stderr
    assert "not (re)started" in result.stderr


def test_reinstall_keeps_the_edited_config(checkout: Path, venv: Path, tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    assert run_script(checkout, "install.sh", stage, venv).returncode == 0
    config = stage / "etc/printd/printd.toml"
    config.write_text(PLACEHOLDER_CONFIG + "# edited by the technician\n")
    (checkout / "systemd" / "printd.service").write_text(
        (REPO / "systemd" / "printd.service").read_text() + "# newer release\n"
    )
    second = run_script(checkout, "install.sh", stage, venv)
    assert second.returncode == 0, second.stderr
    assert "edited by the technician" in config.read_text()
    assert "keeping the existing /etc/printd/printd.toml" in second.stdout
    assert (stage / UNIT).read_text().endswith("# newer release\n"), "the unit was not upgraded"


def test_install_names_a_missing_default_config(checkout: Path, venv: Path, tmp_path: Path) -> None:
    (checkout / "config" / "printd.toml").unlink()
    result = run_script(checkout, "install.sh", tmp_path / "stage", venv)
    assert result.returncode == 1
    assert "config/printd.toml" in result.stderr
    assert not (tmp_path / "stage").exists(), "nothing may be installed before the checks pass"


def test_a_missing_printd_console_script_is_named(checkout: Path, tmp_path: Path) -> None:
    empty_venv = tmp_path / "empty-venv"
    empty_venv.mkdir()
    result = run_script(checkout, "install.sh", tmp_path / "stage", empty_venv)
    assert result.returncode == 1
    assert f"{empty_venv}/bin/printd is missing" in result.stderr


def test_uninstall_removes_the_program_but_keeps_config_and_ledger(
    checkout: Path, venv: Path, tmp_path: Path
) -> None:
    stage = tmp_path / "stage"
    assert run_script(checkout, "install.sh", stage, venv).returncode == 0
    ledger = stage / "var/lib/printd/printd.sqlite3"
    ledger.parent.mkdir(parents=True)
    ledger.write_bytes(b"SQLite format 3\0")
    for _ in range(2):  # the second run finds nothing to do and still succeeds
        result = run_script(checkout, "uninstall.sh", stage, venv)
        assert result.returncode == 0, result.stderr
    assert files_under(stage) == {"etc/printd/printd.toml", "var/lib/printd/printd.sqlite3"}
    assert "--purge deletes them" in result.stdout


def test_uninstall_purge_deletes_config_and_state(
    checkout: Path, venv: Path, tmp_path: Path
) -> None:
    stage = tmp_path / "stage"
    assert run_script(checkout, "install.sh", stage, venv).returncode == 0
    (stage / "var/lib/printd/spool").mkdir(parents=True)
    result = run_script(checkout, "uninstall.sh", stage, venv, "--purge")
    assert result.returncode == 0, result.stderr
    assert files_under(stage) == set()
    assert not (stage / "var/lib/printd").exists()
    assert not (stage / "etc/printd").exists()


def test_uninstall_rejects_an_unknown_option(checkout: Path, venv: Path, tmp_path: Path) -> None:
    result = run_script(checkout, "uninstall.sh", tmp_path / "stage", venv, "--prune")
    assert result.returncode == 1
    assert "unknown argument '--prune'" in result.stderr


@pytest.mark.parametrize("name", ["install.sh", "uninstall.sh"])
def test_scripts_pass_shellcheck(name: str) -> None:
    shellcheck = require_tool("shellcheck", "shellcheck")
    result = subprocess.run(
        [shellcheck, str(REPO / "scripts" / name)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_staged_install_of_the_station_config(real_venv: Path, tmp_path: Path) -> None:
    if not (REPO / "config" / "printd.toml").exists():
        pytest.skip("config/printd.toml (the default station config) does not exist yet")
    result = run_script(REPO, "install.sh", tmp_path / "stage", real_venv)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def real_venv() -> Path:
    venv = REPO / ".venv"
    if not os.access(venv / "bin" / "printd", os.X_OK):
        pytest.skip("the printd console script is not installed in .venv (pip install -e .)")
    return venv


def test_install_runs_the_real_check_config(
    checkout: Path, real_venv: Path, tmp_path: Path
) -> None:
    shutil.copy2(REPO / "config" / "printd.sim.toml", checkout / "config" / "printd.toml")
    result = run_script(checkout, "install.sh", tmp_path / "stage", real_venv)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "printd.toml: OK" in result.stdout


def test_the_real_check_config_stops_a_broken_config(
    checkout: Path, real_venv: Path, tmp_path: Path
) -> None:
    config = (REPO / "config" / "printd.sim.toml").read_text()
    broken = config.replace("max_attempts = 3", "max_attempt = 3")
    assert broken != config
    (checkout / "config" / "printd.toml").write_text(broken)
    result = run_script(checkout, "install.sh", tmp_path / "stage", real_venv)
    assert result.returncode == 1
    assert "max_attempt" in result.stdout + result.stderr
    assert "is not valid" in result.stderr


def test_printctl_is_on_the_path_and_uninstall_removes_it(
    checkout: Path, venv: Path, tmp_path: Path
) -> None:
    # docs/install.md: "`printctl` is on every login's PATH (/usr/local/bin/printctl)".
    stage = tmp_path / "stage"
    assert run_script(checkout, "install.sh", stage, venv).returncode == 0
    link = stage / "usr/local/bin/printctl"
    assert link.is_symlink()
    assert str(link.readlink()) == f"{venv}/bin/printctl"
    assert "/usr/local/bin/printctl" in (REPO / "docs" / "install.md").read_text()
    again = run_script(checkout, "install.sh", stage, venv)  # an upgrade keeps one link
    assert again.returncode == 0, again.stderr
    assert str(link.readlink()) == f"{venv}/bin/printctl"
    assert run_script(checkout, "uninstall.sh", stage, venv).returncode == 0
    assert not link.is_symlink()


def test_uninstall_leaves_a_printctl_that_is_not_ours(
    checkout: Path, venv: Path, tmp_path: Path
) -> None:
    stage = tmp_path / "stage"
    assert run_script(checkout, "install.sh", stage, venv).returncode == 0
    link = stage / "usr/local/bin/printctl"
    link.unlink()
    link.write_text("#!/bin/sh\n")
    assert run_script(checkout, "uninstall.sh", stage, venv).returncode == 0
    assert link.read_text() == "#!/bin/sh\n"


SUPPORTED = "Debian 12 or Ubuntu 24.04 (Python 3.11 or newer)"
DEADSNAKES = "python3.11 from the deadsnakes PPA"


def test_an_old_python_is_refused_naming_the_supported_platforms(
    checkout: Path, tmp_path: Path
) -> None:
    # Ubuntu 22.04's python3 is 3.10: the stand-in answers the version check as 3.10 does.
    old_python = tmp_path / "python3.10"
    old_python.write_text("#!/bin/sh\nexit 1\n")
    old_python.chmod(0o755)
    result = subprocess.run(
        ["bash", str(checkout / "scripts" / "install.sh")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(os.environ, DESTDIR=str(tmp_path / "stage"), PRINTD_PYTHON=str(old_python)),
    )
    assert result.returncode == 1
    assert "older than Python 3.11" in result.stderr
    assert SUPPORTED in result.stderr and DEADSNAKES in result.stderr, result.stderr


@pytest.mark.parametrize("doc", ["README.md", "docs/install.md"])
def test_the_docs_name_the_platforms_the_script_supports(doc: str) -> None:
    text = " ".join((REPO / doc).read_text().split())
    assert SUPPORTED in text, f"{doc} must say: {SUPPORTED}"
    assert DEADSNAKES in text and "PRINTD_PYTHON=/usr/bin/python3.11" in text
    assert "22.04 / 24.04" not in text and "22.04/24.04" not in text
