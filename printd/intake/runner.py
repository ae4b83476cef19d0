"""[intake] wired together: one connection, the consumer and the outbox drainer beside it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from nats.aio.client import Client

from printd.config import IntakeConfig
from printd.intake.consumer import Consumer
from printd.intake.drainer import Drainer
from printd.intake.link import LinkState, connect
from printd.intake.metrics import IntakeCollector
from printd.intake.outbox import Outbox
from printd.queue.store import Store

RESTART_SECONDS = 2.0


class Intake:
    def __init__(
        self,
        config: IntakeConfig,
        store: Store,
        station: str,
        drivers: Sequence[str],
        on_stored: Callable[[], None],
        *,
        timezone: str = "UTC",
    ) -> None:
        self.config = config
        self.zone = ZoneInfo(timezone)
        self.station = station
        self.state = LinkState()
        self.outbox = Outbox(store, station, carry_nik=config.results_carry_nik)
        # Before the store's first transition of this run: interruptions found at start-up
        # are outcomes too.
        self.outbox.attach()
        self.consumer = Consumer(
            config, store, station=station, drivers=drivers, state=self.state, on_stored=on_stored
        )
        self.drainer = Drainer(self.outbox, config.result_subject)
        self.collector = IntakeCollector(
            store, self.outbox, self.state, station, config.max_held_jobs
        )
        self.log = structlog.get_logger("printd.intake")
        self._client: Client | None = None

    async def run(self) -> None:
        try:
            self._client = await connect(self.config, f"printd-{self.station}", self.state)
            await asyncio.gather(
                self._supervise("intake_consumer", self.consumer.run, self._client),
                self._supervise("outbox_drainer", self.drainer.run, self._client),
            )
        finally:
            if self._client is not None:
                with contextlib.suppress(Exception):
                    await self._client.close()

    async def _supervise(
        self, name: str, part: Callable[[Client], Awaitable[None]], client: Client
    ) -> None:
        """A bug or a store error (a full disk) must not end intake for good: it is logged and
        the part starts again; what it had not committed, the server still holds."""
        while True:
            try:
                await part(client)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("intake_part_crashed", part=name)
                await asyncio.sleep(RESTART_SECONDS)

    def public(self) -> dict[str, Any]:
        depth, oldest = self.outbox.depth()
        return {
            **self.state.public(self.zone),
            "held": self.consumer.held(),
            "max_held_jobs": self.config.max_held_jobs,
            "outbox": {"depth": depth, "oldest_at": oldest},
        }
