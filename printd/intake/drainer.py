"""Publishes the outbox to the office's result subject, in order, while the link is up.

Each row goes out with `Nats-Msg-Id` = its transition's stable id and is deleted only after the
server acknowledged it (rows acknowledged together are deleted in one commit). A crash between
the server's ack and our delete sends the row again on restart, and the server drops it as a
duplicate within its stream's duplicate window. Rows wait in the SQLite file for as long as the
station is offline: days, across restarts.
"""

from __future__ import annotations

import asyncio

import nats
import structlog
from nats.aio.client import Client

from printd.intake.outbox import Outbox, Row

WINDOW = 200  # rows read, published and deleted together
IDLE_SECONDS = 0.2
PUBLISH_TIMEOUT_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 10.0
NATS_ERRORS = (nats.errors.Error, TimeoutError, OSError)


class Drainer:
    def __init__(self, outbox: Outbox, subject: str) -> None:
        self.outbox = outbox
        self.subject = subject
        self.log = structlog.get_logger("printd.intake")
        self.duplicates = 0  # publishes the server already had: restarts after its ack
        self.failing_since: float | None = None

    async def run(self, client: Client) -> None:
        js = client.jetstream()
        backoff = 0.5
        while True:
            rows = self.outbox.pending(WINDOW)
            if not rows:
                await asyncio.sleep(IDLE_SECONDS)
                continue
            sent: list[Row] = []
            try:
                for row in rows:
                    ack = await js.publish(
                        self.subject,
                        row.body,
                        timeout=PUBLISH_TIMEOUT_SECONDS,
                        headers={"Nats-Msg-Id": row.msg_id},
                    )
                    self.duplicates += int(bool(ack.duplicate))
                    sent.append(row)
            except asyncio.CancelledError:
                raise
            except NATS_ERRORS as error:
                self.log.warning("outbox_publish_failed", error=str(error) or type(error).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)
            else:
                backoff = 0.5
            finally:
                if sent:
                    self.outbox.delivered(sent)
