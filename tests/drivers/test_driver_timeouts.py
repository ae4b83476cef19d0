"""Per-printer settings of the Evolis driver: the SDK's timeouts by default, each printer's own
when set, and who manages errors (`Pem`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from printd.config import load_config
from printd.devices import BuiltPrinter, build_printer
from tests.conftest import write_config


@contextmanager
def _built(tmp_path: Path, keys: str) -> Iterator[BuiltPrinter]:
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace('device = "sim://', keys + 'device = "sim://', 1))
    config = load_config(path)
    config.daemon.state_dir.mkdir(parents=True, exist_ok=True)
    built = build_printer(config.printers[0], config.daemon.state_dir)
    try:
        yield built
    finally:
        built.close()


def _timeouts(tmp_path: Path, keys: str) -> tuple[float, float]:
    with _built(tmp_path, keys) as built:
        return built.driver._command_timeout, built.driver._print_timeout  # type: ignore[attr-defined]


def _mode_after_connect(tmp_path: Path, keys: str) -> int:
    with _built(tmp_path, keys) as built:
        built.driver.connect()
        return int(built.hands.snapshot().error_management)


def test_the_sdk_timeouts_are_the_defaults(tmp_path: Path) -> None:
    assert _timeouts(tmp_path, "") == (30.0, 300.0)


def test_a_printer_may_set_its_own(tmp_path: Path) -> None:
    keys = "command_timeout_seconds = 45\ncard_timeout_seconds = 600\n"
    assert _timeouts(tmp_path, keys) == (45.0, 600.0)


def test_printd_takes_error_management_by_default(tmp_path: Path) -> None:
    assert _mode_after_connect(tmp_path, "") == 2


def test_another_supervisors_mode_is_left_when_the_config_says_so(tmp_path: Path) -> None:
    assert _mode_after_connect(tmp_path, 'error_management = "printer"\n') == 0
