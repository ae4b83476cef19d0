"""Start-up to ready (<= 1.5 s) and resident memory after printing the examples (<= 60 MB),
medians over several runs of the real daemon on the simulator, beside the yardstick of a bare
interpreter that imports the same libraries.

The targets are checked on the daemon as a station runs it: from a virtualenv holding printd's
runtime dependencies only (bench/station_venv.py, built on first use). The development venv is
measured too, for reference: it also holds the test tools, and structlog imports rich and
pygments when it finds them.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from station_venv import station_bin  # noqa: E402

from tests.conftest import BIN, EXAMPLES, write_config  # noqa: E402

RUNS = 5


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def ctl(sock: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "printctl"), "--socket", str(sock), *args], capture_output=True, text=True
    )


def one_run(venv_bin: Path) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as folder:
        config = write_config(Path(folder))
        sock = Path(folder) / "state" / "printd.sock"
        started = time.monotonic()
        proc = subprocess.Popen(
            [str(venv_bin / "printd"), "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                if sock.exists() and ctl(sock, "status").returncode == 0:
                    break
                if time.monotonic() - started > 30:
                    raise RuntimeError("printd did not start")
                time.sleep(0.01)
            ready = time.monotonic() - started
            ctl(sock, "stock", "receive", "--blanks", "10", "--ribbons", "1")
            ctl(sock, "blanks", "load", "10")
            ctl(sock, "ribbon", "install", "--type", "ymcko")
            ctl(sock, "submit", "--wait", str(EXAMPLES))
            status = json.loads(ctl(sock, "--json", "status").stdout)
            assert status["queue"]["printed"] == 3, status
            memory = rss_mb(proc.pid)
            anonymous = rss_mb(proc.pid, "RssAnon")  # heap and stacks, not mapped libraries
        finally:
            proc.terminate()
            proc.wait(30)
    return ready, memory, anonymous


def yardstick_mb(venv_bin: Path) -> float:
    code = (
        # What the daemon imports on the way to printing the examples on a sim:// printer
        # (python -X importtime): no numpy since the raster works with Pillow alone.
        "import aiohttp.web, structlog, prometheus_client, tenacity, usb.core, PIL.Image,"
        " PIL.ImageChops;"
        "print(open('/proc/self/status').read())"
    )
    out = subprocess.run(
        [str(venv_bin / "python"), "-c", code], capture_output=True, text=True, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def measure(label: str, venv_bin: Path) -> tuple[float, float]:
    runs = [one_run(venv_bin) for _ in range(RUNS)]
    ready = statistics.median(r[0] for r in runs)
    memory = statistics.median(r[1] for r in runs)
    anonymous = statistics.median(r[2] for r in runs)
    yard = statistics.median(yardstick_mb(venv_bin) for _ in range(3))
    print(f"{label}:")
    print(f"  start-up to ready: median {ready:.3f} s over {RUNS} runs")
    print(
        f"  RSS after printing the examples: median {memory:.1f} MB "
        f"(runs {', '.join(f'{r[1]:.1f}' for r in runs)}); interpreter + libraries alone: "
        f"{yard:.1f} MB; printd's own share {memory - yard:.1f} MB; of the total, "
        f"{anonymous:.1f} MB is anonymous memory (heap, stacks) and the rest mapped library code"
    )
    return ready, memory


def main() -> int:
    ready, memory = measure("station layout (runtime dependencies only)", station_bin())
    measure("development venv (with the test tools), for reference", BIN)
    print(
        f"targets, station layout: start-up {ready:.3f} s (<= 1.5 s), "
        f"RSS {memory:.1f} MB (<= 60 MB)"
    )
    return 0 if ready <= 1.5 and memory <= 60 else 1


if __name__ == "__main__":
    sys.exit(main())
