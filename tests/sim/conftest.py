from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _sim_streams import CAPTURES


@pytest.fixture(scope="session")
def captures() -> Path:
    if not CAPTURES.is_dir():
        pytest.fail(f"conformance captures missing at {CAPTURES}")
    return CAPTURES
