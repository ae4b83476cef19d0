"""Fixtures for the installation tests."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture
def systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    return path
