"""The SDK's timeouts are the defaults, and each printer's own reach its driver."""

from __future__ import annotations

from pathlib import Path

from printd.config import load_config
from printd.devices import build_printer
from tests.conftest import write_config


def _timeouts(tmp_path: Path, keys: str) -> tuple[float, float]:
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace('device = "sim://', keys + 'device = "sim://', 1))
    config = load_config(path)
    config.daemon.state_dir.mkdir(parents=True, exist_ok=True)
    built = build_printer(config.printers[0], config.daemon.state_dir)
    try:
        return built.driver._command_timeout, built.driver._print_timeout  # type: ignore[attr-defined]
    finally:
        built.close()


def test_the_sdk_timeouts_are_the_defaults(tmp_path: Path) -> None:
    assert _timeouts(tmp_path, "") == (30.0, 300.0)


def test_a_printer_may_set_its_own(tmp_path: Path) -> None:
    keys = "command_timeout_seconds = 45\ncard_timeout_seconds = 600\n"
    assert _timeouts(tmp_path, keys) == (45.0, 600.0)
