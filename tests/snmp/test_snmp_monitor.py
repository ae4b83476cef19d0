"""SnmpMonitor: polls in its own task, backs off while the agent is down, never blocks."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import pytest
from snmp_support import RunningSim, ViewHolder, run

from printd.drivers.snmp import SnmpMonitor, SnmpPoller, SnmpReading, parse_snmp_uri
from printd.errors import TransportTimeout
from printd.sim.snmp_agent import SimSnmpAgent


class _Dead:
    """A poller whose agent never answers (the failure, not the network, is under test)."""

    def __init__(self) -> None:
        self.calls = 0

    async def poll(self) -> SnmpReading:
        self.calls += 1
        raise TransportTimeout("no answer")


def test_backoff_doubles_per_failure_and_is_capped() -> None:
    monitor = SnmpMonitor(_Dead(), 2.0, lambda r: None, lambda e: None, max_backoff=30, jitter=0)
    delays = []
    for _ in range(6):
        run(monitor.poll_once())
        delays.append(monitor.next_delay())
    assert delays == [4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert monitor.up is False
    assert monitor.consecutive_failures == 6


def test_jitter_stays_within_its_band() -> None:
    monitor = SnmpMonitor(
        _Dead(), 10.0, lambda r: None, lambda e: None, jitter=0.1, rng=random.Random(7)
    )
    assert all(9.0 <= monitor.next_delay() <= 11.0 for _ in range(200))


def test_invalid_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        SnmpMonitor(_Dead(), 0, lambda r: None, lambda e: None)


def test_up_down_up_with_a_real_agent(sim_agent: Callable[..., RunningSim]) -> None:
    sim = sim_agent()
    port = sim.port
    readings: list[SnmpReading] = []
    errors: list[Exception] = []

    async def go() -> list[tuple[bool, int]]:
        poller = SnmpPoller(parse_snmp_uri(sim.uri()), timeout=0.2, retries=0)
        monitor = SnmpMonitor(poller, 0.05, readings.append, errors.append, jitter=0)
        seen = []
        try:
            await monitor.poll_once()
            seen.append((monitor.up, monitor.consecutive_failures))
            sim.agent.close()
            await monitor.poll_once()
            await monitor.poll_once()
            seen.append((monitor.up, monitor.consecutive_failures))
            assert monitor.next_delay() == pytest.approx(0.2)
            again = SimSnmpAgent(ViewHolder(), port=port).start()  # same port, back up
            try:
                # A busy machine can miss one 0.2 s deadline while the new agent warms up.
                for _ in range(10):
                    await monitor.poll_once()
                    if monitor.up:
                        break
                seen.append((monitor.up, monitor.consecutive_failures))
            finally:
                again.close()
            assert monitor.last_poll_duration is not None
        finally:
            await poller.aclose()
        return seen

    assert run(go()) == [(True, 0), (False, 2), (True, 0)]
    assert len(readings) == 2
    assert len(errors) >= 2
    assert all(type(e) is TransportTimeout for e in errors)


def test_monitor_task_never_blocks_the_loop() -> None:
    """While the agent is down, other coroutines (printing) keep their pace: a poll that blocked
    the loop would stall it for the whole 2 s timeout, far above any pause a busy machine makes
    (the bound is half that; normal pauses are milliseconds)."""
    timeout = 2.0

    async def go() -> tuple[float, int, bool]:
        poller = SnmpPoller(parse_snmp_uri("snmp://127.0.0.1:9"), timeout=timeout, retries=0)
        monitor = SnmpMonitor(poller, 0.05, lambda r: None, lambda e: None, jitter=0)
        task = monitor.start()
        worst, last = 0.0, time.perf_counter()
        try:
            hang = last + 120
            while monitor.polls < 2 and time.perf_counter() < hang:
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                worst, last = max(worst, now - last), now
        finally:
            await monitor.stop()
            await poller.aclose()
        return worst, monitor.polls, task.cancelled()

    worst, polls, cancelled = run(go())
    assert polls >= 2
    assert worst < timeout / 2, f"the event loop stalled for {worst:.3f} s"
    assert cancelled


def test_a_failing_callback_does_not_end_the_monitor() -> None:
    calls = []

    def bad(e: Exception) -> None:
        calls.append(e)
        raise RuntimeError("callback bug")

    monitor = SnmpMonitor(_Dead(), 1.0, lambda r: None, bad)
    run(monitor.poll_once())
    run(monitor.poll_once())
    assert len(calls) == 2
