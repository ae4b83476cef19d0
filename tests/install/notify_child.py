"""A stand-in daemon for the sd_notify tests: READY, watchdog pings, optionally a hung loop.

Run as a real subprocess with NOTIFY_SOCKET and WATCHDOG_USEC set, like systemd starts printd:
    python notify_child.py RUN_SECONDS [BLOCK_SECONDS]
With BLOCK_SECONDS it blocks its own event loop half-way (as a stuck callback would) and then
carries on, so the parent can see the pings stop and resume.
"""

from __future__ import annotations

import asyncio
import sys
import time

from printd.sdnotify import SystemdNotifier, watchdog_loop


async def main(run_seconds: float, block_seconds: float) -> None:
    notifier = SystemdNotifier()
    interval = notifier.watchdog_interval()
    if interval is None:
        raise SystemExit("WATCHDOG_USEC is not set for this process")
    pinger = asyncio.create_task(watchdog_loop(notifier, interval))
    notifier.ready("probe ready")
    await asyncio.sleep(run_seconds / 2)
    if block_seconds:
        time.sleep(block_seconds)  # blocks the loop: the pinger cannot run
    await asyncio.sleep(run_seconds / 2)
    notifier.stopping()
    pinger.cancel()


if __name__ == "__main__":
    block = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    asyncio.run(main(float(sys.argv[1]), block))
