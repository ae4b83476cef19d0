from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tests.conftest import require_captures


@pytest.fixture(scope="session")
def captures() -> Path:
    return require_captures()
