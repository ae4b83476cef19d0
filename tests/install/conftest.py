"""Fixtures for the installation tests."""

from __future__ import annotations

import pytest

from tests.conftest import require_tool


@pytest.fixture
def systemd_analyze() -> str:
    return require_tool("systemd-analyze", "systemd")
