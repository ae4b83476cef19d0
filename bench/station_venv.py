"""A virtualenv laid out like a station's: printd and its runtime dependencies, nothing else.

The development venv also holds the test tools, and some runtime libraries change what they
load when those are present (structlog imports rich and pygments when it finds them, about
5 MB resident), so the daemon's footprint is measured in a venv made the way
`scripts/install.sh` makes the station's (`pip install` of printd without the dev group). It is
an editable install, so the code measured is the checkout's; it is rebuilt when pyproject.toml
changes.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / "bench" / ".station-venv"
STAMP = VENV / ".pyproject-sha256"


def station_bin() -> Path:
    """The station venv's bin folder, (re)built when missing or out of date."""
    wanted = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return VENV / "bin"
    print(f"building {VENV.relative_to(REPO)} (printd's runtime dependencies only)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip>=25.1"], check=True)
    subprocess.run([*pip, "-e", str(REPO)], check=True)
    STAMP.write_text(wanted)
    return VENV / "bin"
