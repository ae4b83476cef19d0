"""printctl and the API: `printctl status` as a whole process (target ≤ 300 ms median) and an
API submit round trip over the Unix socket (target ≤ 10 ms median), on a real daemon.

Run: .venv/bin/python bench/bench_ctl.py [--runs N]
"""

from __future__ import annotations

import argparse
import base64
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from printd.cli.client import Client  # noqa: E402
from tests.conftest import BIN, EXAMPLES, DaemonProcess, write_config  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = write_config(Path(folder))
        text = config.read_text()
        port = int(text.split('listen = "127.0.0.1:')[1].split('"')[0])
        state = Path(folder) / "state"
        daemon = DaemonProcess(config, state, state / "printd.sock", port)
        daemon.start()
        try:
            # Nothing prints (no blanks recorded): the queue only grows, the daemon stays idle.
            status_ms = []
            for _ in range(args.runs):
                start = time.perf_counter()
                subprocess.run(
                    [str(BIN / "printctl"), "--socket", str(daemon.socket), "status"],
                    check=True,
                    capture_output=True,
                )
                status_ms.append((time.perf_counter() - start) * 1000)
            client = Client(daemon.socket)
            front = (EXAMPLES / "example-0001-front.png").read_bytes()
            image = "data:image/png;base64," + base64.b64encode(front).decode()

            def time_submits(expect_created: bool) -> list[float]:
                times = []
                for n in range(args.runs):
                    job = {
                        "id": f"bench-{n:04d}",
                        "document": "ktp-el",
                        "holder": {"nik": f"99010101019{n:05d}", "name": "CONTOH"},
                        "front": image,
                    }
                    start = time.perf_counter()
                    reply = client.call("POST", "/v1/jobs", job)
                    times.append((time.perf_counter() - start) * 1000)
                    assert reply["created"] is expect_created, reply
                return times

            submit_ms = time_submits(expect_created=True)
            # The same jobs again: the same API path (parse, validate, hash, look up) without
            # the store's durable write, to separate API cost from disk cost.
            resubmit_ms = time_submits(expect_created=False)
            fsync_ms = []
            probe = state / "fsync-probe"
            for _ in range(args.runs):
                start = time.perf_counter()
                with probe.open("wb") as handle:
                    handle.write(front)
                    handle.flush()
                    os.fsync(handle.fileno())
                fsync_ms.append((time.perf_counter() - start) * 1000)
        finally:
            daemon.stop(signal.SIGTERM)
    status_median = statistics.median(status_ms)
    submit_median = statistics.median(submit_ms)

    def verdict(value: float, target: float) -> str:
        return "ok" if value <= target else "MISSED"

    print(
        f"printctl status, whole process: median {status_median:.1f} ms over {args.runs} runs "
        f"(target <= 300 ms: {verdict(status_median, 300)})"
    )
    print(
        f"API submit round trip, new job ({len(front)} B PNG inline, durable): median "
        f"{submit_median:.2f} ms over {args.runs} runs (target <= 10 ms: "
        f"{verdict(submit_median, 10)})"
    )
    print(
        f"API submit round trip, known job (no disk write): median "
        f"{statistics.median(resubmit_ms):.2f} ms over {args.runs} runs"
    )
    print(
        f"one fsync of the same image on this disk: median {statistics.median(fsync_ms):.2f} ms "
        "(a new job with images up to 64 KiB costs one, the SQLite commit; larger images add"
        " two for the spool file and its folder)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
