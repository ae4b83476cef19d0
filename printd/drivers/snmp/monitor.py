"""Poll an SNMP agent on an interval, in its own asyncio task, backing off while it is down.

The monitor never raises into its caller and never waits on printing: a dead agent only
turns `up` false and stretches the interval (exponential, capped, with jitter so several
stations do not poll a recovering agent in step).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from typing import Protocol

import structlog

from printd.drivers.snmp.reading import SnmpReading
from printd.errors import PrintdError

log = structlog.get_logger("printd.snmp")


class Pollable(Protocol):
    async def poll(self) -> SnmpReading: ...


class SnmpMonitor:
    """Calls `on_reading` after each good poll and `on_error` after each failed one.

    Exposes `up` and `last_poll_duration` for `printd_snmp_up{printer}` and
    `printd_snmp_poll_duration_seconds`.
    """

    def __init__(
        self,
        poller: Pollable,
        interval: float,
        on_reading: Callable[[SnmpReading], None],
        on_error: Callable[[Exception], None],
        *,
        max_backoff: float = 300.0,
        jitter: float = 0.1,
        rng: random.Random | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"snmp poll interval must be > 0 s, got {interval!r}")
        self._poller = poller
        self.interval = interval
        self.max_backoff = max(max_backoff, interval)
        self.jitter = jitter
        self._rng = rng or random.Random()  # noqa: S311  # jitter, not cryptography
        self._on_reading = on_reading
        self._on_error = on_error
        self._task: asyncio.Task[None] | None = None
        self.up = False
        self.last_poll_duration: float | None = None
        self.consecutive_failures = 0
        self.polls = 0

    def next_delay(self) -> float:
        """Seconds until the next poll: the interval, doubled per consecutive failure."""
        base = min(self.max_backoff, self.interval * (2 ** min(self.consecutive_failures, 30)))
        spread = base * self.jitter
        return float(max(0.0, base + self._rng.uniform(-spread, spread)))

    async def poll_once(self) -> None:
        started = time.perf_counter()
        try:
            reading = await self._poller.poll()
        except (PrintdError, OSError) as e:
            self.last_poll_duration = time.perf_counter() - started
            self.up = False
            self.consecutive_failures += 1
            log.warning(
                "snmp_poll_failed",
                error=type(e).__name__,
                message=str(e),
                failures=self.consecutive_failures,
            )
            self._call(self._on_error, e)
        else:
            self.last_poll_duration = time.perf_counter() - started
            self.up = True
            self.consecutive_failures = 0
            self._call(self._on_reading, reading)
        finally:
            self.polls += 1

    def _call(
        self, callback: Callable[[SnmpReading], None] | Callable[[Exception], None], arg: object
    ) -> None:
        try:
            callback(arg)  # type: ignore[arg-type]
        except Exception:  # a broken callback must not end the monitor
            log.exception("snmp_monitor_callback_failed")

    async def run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self.next_delay())

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="snmp-monitor")
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
