"""What makes the open *Now* page change: one watcher for every open page.

The queue's audit trail and the ledger only grow, so their newest row numbers change with every
job move and every booking; the printers' own state lives in memory. A cheap fingerprint of the
three, read a few times a second, tells the server-sent event streams when to send a new page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence

from printd.queue.dispatcher import PrinterRuntime
from printd.queue.store import Store

# Well inside the one second the page promises, and cheap: two index look-ups.
POLL_SECONDS = 0.2


def fingerprint(store: Store, runtimes: Sequence[PrinterRuntime]) -> str:
    row = store.db.execute(
        "SELECT (SELECT max(seq) FROM events), (SELECT max(rowid) FROM ledger)"
    ).fetchone()
    printers = []
    for runtime in runtimes:
        public = runtime.public()
        public.pop("snmp", None)  # its age ticks every second; its figures are on the next poll
        printers.append(public)
    return json.dumps([list(row), printers], sort_keys=True, default=str)


class Watcher:
    def __init__(
        self,
        store: Store,
        runtimes: Callable[[], Sequence[PrinterRuntime]],
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.store = store
        self.runtimes = runtimes
        self.poll_seconds = poll_seconds
        self.version = 0
        self.closing = False
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="console-watcher")

    async def close(self) -> None:
        self.closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        last = ""
        while True:
            try:
                current = fingerprint(self.store, self.runtimes())
            except Exception:  # noqa: BLE001  (a busy store is read again on the next tick)
                current = last
            if current != last:
                last = current
                self.version += 1
                async with self._changed:
                    self._changed.notify_all()
            await asyncio.sleep(self.poll_seconds)

    async def wait(self, seen: int, timeout: float) -> int:
        """The version after `seen`, or `seen` again when nothing changed within `timeout`."""
        if self.version != seen:
            return self.version
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.version != seen or self.closing),
                    timeout,
                )
        return self.version
