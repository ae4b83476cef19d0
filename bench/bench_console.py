"""The counter console on the simulator with 10,000 jobs in history, in headless Chromium.

Targets: first paint of *Now* <= 300 ms (median of fresh loads, the browser's own
first-contentful-paint); a change reaches the open page <= 1 s (the worst of the tries, from
just before the change is sent over the socket to the browser swapping in the new section);
the console adds <= 5 MB to the daemon's resident memory (console on and used, against the
same daemon with the console off).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from printd.cli.client import Client  # noqa: E402
from printd.queue.ledger import Entry, Item, Kind  # noqa: E402
from printd.queue.store import Store  # noqa: E402
from tests.console.chromium import PACKAGES, chromium_paths, start_chromium  # noqa: E402

BIN = Path(sys.executable).parent
JOBS = 10_000
DAY = 86_400.0
PAINTS = 15
CHANGES = 15
TARGET_PAINT_MS = 300.0
TARGET_CHANGE_S = 1.0
TARGET_RSS_MB = 5.0
HANG = 60.0  # only catches a daemon or browser that never answers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_history(state_dir: Path) -> None:
    """10,000 printed jobs over the last 60 days, written in bulk through the store's own
    booking code (the queue's write path is bench_queue.py's business)."""
    store = Store(state_dir)
    store.open()
    now = time.time()
    db = store.db
    db.execute("PRAGMA synchronous=OFF")
    with store.transaction():
        store._book(db, Entry(Item.BLANKS, Kind.RECEIVED, JOBS + 2_000), "bench")
        store._book(db, Entry(Item.RIBBONS, Kind.RECEIVED, 40), "bench")
        for i in range(JOBS):
            at = now - DAY * 60 * (JOBS - i) / JOBS
            db.execute(
                "INSERT INTO jobs (id, state, document, holder, sides, content_hash, printer,"
                " submitted_at, updated_at) VALUES (?, 'printed', 'ktp-el', '{}', 1, 'h', ?, ?, ?)",
                (f"job-{i:05d}", "counter-1", at, at),
            )
            for entry in (
                Entry(Item.BLANKS, Kind.LOADED, 1, "counter-1"),
                Entry(Item.BLANKS, Kind.PRINTED, 1, "counter-1", job_id=f"job-{i:05d}"),
            ):
                store._book(db, entry, "bench")
        store._bump(db, "jobs_state", JOBS, label="printed")
        store._bump(db, "jobs_completed", JOBS, label="printed")
        store._bump(db, "jobs_submitted", JOBS)
    db.execute("PRAGMA synchronous=FULL")
    store.close()


class Daemon:
    def __init__(self, folder: Path, state_dir: Path, console: bool) -> None:
        self.folder = folder
        self.socket = folder / "printd.sock"
        self.console_port = free_port()
        section = f'[console]\nlisten = "127.0.0.1:{self.console_port}"\n' if console else ""
        self.config = folder / f"printd-{'on' if console else 'off'}.toml"
        self.config.write_text(
            f'[daemon]\nstation = "bench"\nstate_dir = "{state_dir}"\nsocket = "{self.socket}"\n'
            f'[metrics]\nlisten = "127.0.0.1:{free_port()}"\n{section}'
            '[[printer]]\nname = "counter-1"\ndevice = "sim://primacy?print_seconds=0.05&hands=printctl"\n'
            '[logging]\nformat = "json"\nlevel = "warning"\n'
        )
        self.log = (folder / "daemon.log").open("a")
        self.proc = subprocess.Popen(
            [str(BIN / "printd"), "run", "--config", str(self.config)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.client = Client(self.socket)
        deadline = time.monotonic() + HANG
        while True:
            try:
                self.client.call("GET", "/v1/status")
                break
            except Exception:  # noqa: BLE001  (not listening yet)
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit(f"printd did not start; see {folder / 'daemon.log'}") from None
                time.sleep(0.05)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise SystemExit("no VmRSS")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(HANG)
        self.log.close()


def browser(profile: Path) -> Any:
    paths = chromium_paths()
    if paths is None:
        raise SystemExit(f"needs the Debian packages {PACKAGES} (make test installs them)")
    return start_chromium(*paths, profile)


def wait(condition: Any, what: str) -> Any:
    deadline = time.monotonic() + HANG
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)
    return value


FCP = (
    "const e = performance.getEntriesByName('first-contentful-paint')[0];"
    "return e ? e.startTime : null;"
)
WATCH = (
    "window.updatedAt = null;"
    "new MutationObserver(() => { window.updatedAt = performance.timeOrigin + performance.now(); })"
    ".observe(document.getElementById('now'), {childList: true});"
)


def measure_console(daemon: Daemon, profile: Path) -> tuple[list[float], list[float], float]:
    driver = browser(profile)
    try:
        url = daemon.client.call("POST", "/v1/console/token", {})["url"]
        driver.get(url)
        base = f"http://127.0.0.1:{daemon.console_port}/"
        paints = []
        for _ in range(PAINTS):
            driver.get(base)
            paints.append(float(wait(lambda: driver.execute_script(FCP), "first paint")))
        changes = []
        driver.get(base)
        wait(lambda: driver.execute_script("return document.readyState") == "complete", "load")
        wait(
            lambda: driver.find_elements("css selector", "#now[data-live-state=open]"),
            "the event stream",
        )
        for _ in range(CHANGES):
            driver.execute_script(WATCH)
            sent = time.time() * 1000
            daemon.client.call("POST", "/v1/stock/receive", {"blanks": 1})
            updated = wait(lambda: driver.execute_script("return window.updatedAt"), "update")
            changes.append((float(updated) - sent) / 1000)
        rss = daemon.rss_mb()
    finally:
        driver.quit()
    return paints, changes, rss


def main() -> int:
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        state = folder / "state"
        started = time.monotonic()
        build_history(state)
        print(f"history: {JOBS} printed jobs, built in {time.monotonic() - started:.1f} s")

        off = Daemon(folder, state, console=False)
        for _ in range(CHANGES + 5):  # the same API traffic as the console run below
            off.client.call("GET", "/v1/status")
            off.client.call("POST", "/v1/stock/receive", {"blanks": 1})
        rss_off = off.rss_mb()
        off.stop()

        on = Daemon(folder, state, console=True)
        paints, changes, rss_on = measure_console(on, folder / "profile")
        on.stop()

    paint = statistics.median(paints)
    worst_change = max(changes)
    added = rss_on - rss_off
    print(
        f"first paint of Now: median {paint:.0f} ms, worst {max(paints):.0f} ms "
        f"({PAINTS} loads; target <= {TARGET_PAINT_MS:.0f} ms)"
    )
    print(
        f"change reaches the open page: median {statistics.median(changes) * 1000:.0f} ms, "
        f"worst {worst_change * 1000:.0f} ms ({CHANGES} changes; target <= "
        f"{TARGET_CHANGE_S * 1000:.0f} ms)"
    )
    print(
        f"daemon RSS: {rss_off:.1f} MB console off, {rss_on:.1f} MB console on and used: "
        f"{added:+.1f} MB (target <= {TARGET_RSS_MB:.0f} MB)"
    )
    met = paint <= TARGET_PAINT_MS and worst_change <= TARGET_CHANGE_S and added <= TARGET_RSS_MB
    return 0 if met else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
