"""Every shell block of the documents runs on the simulator daemon, as written, or its marker
says why it needs a real station. A renamed verb or flag, or a metric the tour greps for,
fails here before a technician meets it.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, DaemonProcess, free_port
from tests.docs.docblocks import Block, shell_blocks

DEMO_CONFIG = REPO / "config" / "printd.sim.toml"
# The demo config's fixed ports, as the documents quote them; each run takes free ones.
DEMO_PORTS = ("10631", "10632", "10161")
BLOCKS = shell_blocks()


def test_the_documents_have_shell_blocks_to_run() -> None:
    # The extractor itself: a broken fence parser would make every test below vacuous.
    assert sum(b.skip is None for b in BLOCKS) >= 2, [b.where for b in BLOCKS]
    assert any(b.skip for b in BLOCKS)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.skip], ids=lambda b: b.where)
def test_a_skipped_block_says_why(block: Block) -> None:
    assert len(block.skip or "") > 8, f"{block.where}: say what the block needs"


def demo_daemon(tmp_path: Path) -> tuple[DaemonProcess, dict[str, str]]:
    """The daemon `make run` starts (config/printd.sim.toml), on free ports and a scratch
    state dir, and the port map that points the documents' commands at it."""
    ports = {port: str(free_port()) for port in DEMO_PORTS}
    text = DEMO_CONFIG.read_text()
    for old, new in ports.items():
        text = text.replace(old, new)
    state = tmp_path / "var"
    text = text.replace('"../var/printd.sock"', f'"{state}/printd.sock"')
    text = text.replace('"../var"', f'"{state}"')
    text = text.replace("print_seconds=0.5", "print_seconds=0.05")
    config = tmp_path / "printd.toml"
    config.write_text(text)
    daemon = DaemonProcess(config, state, state / "printd.sock", int(ports["10631"]))
    return daemon, ports


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.skip is None], ids=lambda b: b.where)
def test_a_documented_block_runs_on_the_simulator(block: Block, tmp_path: Path) -> None:
    daemon, ports = demo_daemon(tmp_path)
    work = tmp_path / "checkout"  # what the reader's checkout offers, without writing into it
    work.mkdir()
    for name in (".venv", "examples", "config", "scripts"):
        (work / name).symlink_to(REPO / name)
    script = block.script()
    for old, new in ports.items():
        script = re.sub(rf"\b{old}\b", new, script)
    (work / "block.sh").write_text(script)
    daemon.start()
    try:
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "block.sh"],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={
                **os.environ,
                # `printctl` on the PATH, as scripts/install.sh links it on a station.
                "PATH": f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
                "PRINTD_SOCKET": str(daemon.socket),
            },
        )
    finally:
        daemon.stop()
    assert result.returncode == 0, (
        f"{block.where}: exit {result.returncode}\n{script}\n{result.stdout}\n{result.stderr}\n"
        "(a block that needs a real station or root: put <!-- doc-test: skip (why) --> on the "
        "line before its fence, or end a single line with # station-only)"
    )
