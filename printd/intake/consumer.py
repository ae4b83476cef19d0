"""The durable pull consumer: fetch, store (one commit a fetch), then acknowledge.

Exactly once per card, across the stations that share the office's consumer:
- a job is acknowledged only after it is durable here, so a crash before the commit leaves the
  message with the server, which hands it out again after `ack_wait_seconds`;
- the acknowledgement subject of each message is stored in the job's own transaction, and a
  restart sends every acknowledgement that was not confirmed, so a crash between the commit and
  the ack is confirmed well before the server would give the message to another station;
- a redelivered message finds its jobs by id (the store's idempotent submit) and is acked again.
A message that cannot become jobs goes to the dead-letter subject with the reason and is
terminated: the server never hands it out again.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Sequence

import nats
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from printd.config import IntakeConfig
from printd.errors import ConflictError
from printd.intake.link import LinkState
from printd.intake.messages import Rejected, decode
from printd.jobfile import ParsedJob
from printd.queue.jobs import JobState
from printd.queue.store import Job, Store

ACTOR = "intake"
FETCH_MAX = 100  # messages per fetch: one commit stores them all
FETCH_WAIT_SECONDS = 2.0
HOLDING_POLL_SECONDS = 0.2
WAITING = (JobState.QUEUED, JobState.HELD, JobState.PRINTING)
NATS_ERRORS = (nats.errors.Error, TimeoutError, OSError)


def _header_text(text: str) -> str:
    """Header values are one ASCII line."""
    return " ".join(text.encode("ascii", "replace").decode().split())


class Consumer:
    def __init__(
        self,
        config: IntakeConfig,
        store: Store,
        *,
        state: LinkState,
        on_stored: Callable[[], None],  # jobs were stored: the printers may start
        station: str,
        drivers: Sequence[str],  # the station's printer drivers: a job none prints is refused
    ) -> None:
        self.config = config
        self.store = store
        self.station = station
        self.drivers = tuple(drivers)
        self.state = state
        self.on_stored = on_stored
        self.log = structlog.get_logger("printd.intake")
        # Job ids whose ack the server confirmed: cleared in the next commit (no extra fsync).
        self._confirmed: list[str] = []
        self._info_at = 0.0

    def held(self) -> int:
        return sum(self.store.total("jobs_state", "", s) for s in WAITING)

    async def run(self, client: Client) -> None:
        js = client.jetstream()
        sub = None
        # The next batch, asked for before the one in hand is stored: the server reads and sends
        # it while this station commits, instead of after.
        ahead: asyncio.Future[list[Msg]] | None = None
        await self._reconfirm(client)
        try:
            while True:
                try:
                    if sub is None:
                        sub = await js.pull_subscribe(
                            self.config.subject,
                            durable=self.config.durable,
                            stream=self.config.stream,
                            config=ConsumerConfig(
                                durable_name=self.config.durable,
                                ack_policy=AckPolicy.EXPLICIT,
                                ack_wait=self.config.ack_wait_seconds,
                                deliver_policy=DeliverPolicy.ALL,
                                max_deliver=-1,
                            ),
                        )
                    await self._office_pending(sub)
                    if ahead is None:
                        room = self.config.max_held_jobs - self.held()
                        self.state.holding = room <= 0
                        if room <= 0:
                            self._flush_confirmed()
                            await asyncio.sleep(HOLDING_POLL_SECONDS)
                            continue
                        ahead = asyncio.ensure_future(self._fetch(sub, room))
                    try:
                        messages = await ahead
                    except TimeoutError:
                        self._flush_confirmed()
                        continue
                    finally:
                        ahead = None
                    # Room for the next batch counts the one in hand, not yet stored.
                    room = self.config.max_held_jobs - self.held() - len(messages)
                    if room > 0:
                        ahead = asyncio.ensure_future(self._fetch(sub, room))
                        await self._sent(client)
                    await self.take(client, messages)
                except asyncio.CancelledError:
                    raise
                except NATS_ERRORS as error:
                    self.state.error = str(error) or type(error).__name__
                    self.log.warning("intake_fetch_failed", error=self.state.error)
                    await asyncio.sleep(1.0)
        finally:
            if ahead is not None:
                # Messages it took stay unacknowledged: the server hands them out again.
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError, *NATS_ERRORS):
                    await ahead

    @staticmethod
    async def _fetch(sub: nats.js.JetStreamContext.PullSubscription, room: int) -> list[Msg]:
        return await sub.fetch(min(room, FETCH_MAX), timeout=FETCH_WAIT_SECONDS)

    @staticmethod
    async def _sent(client: Client) -> None:
        """The pull request just asked for is on its way before the store holds the loop: one
        turn lets the fetch publish it, the flush's ping follows it to the server."""
        await asyncio.sleep(0)
        with contextlib.suppress(*NATS_ERRORS):
            await client.flush()

    async def _office_pending(self, sub: nats.js.JetStreamContext.PullSubscription) -> None:
        """What the office still has for its counters, every few seconds (if readable)."""
        if time.monotonic() - self._info_at < 5.0:
            return
        self._info_at = time.monotonic()
        try:
            info = await sub.consumer_info()
        except NATS_ERRORS:
            return
        self.state.office_pending = info.num_pending

    async def take(self, client: Client, messages: Sequence[Msg]) -> None:
        accepted: list[tuple[Msg, tuple[ParsedJob, ...]]] = []
        for message in messages:
            decoded = decode(
                message.data, max_bytes=self.config.max_message_bytes, drivers=self.drivers
            )
            if isinstance(decoded, Rejected):
                await self._dead_letter(client, message, decoded)
            else:
                accepted.append((message, decoded))
        if not accepted:
            return
        try:
            self._store(accepted)
        except ConflictError:
            # One message reuses an id with other content: store the others, dead-letter it.
            stored = []
            for message, jobs in accepted:
                try:
                    self._store([(message, jobs)])
                except ConflictError as error:
                    await self._dead_letter(client, message, Rejected("conflict", str(error)))
                else:
                    stored.append((message, jobs))
            accepted = stored
        # Queued one after another (no task each), the acks leave in one write; the flush
        # returns once the server has read them.
        for message, _ in accepted:
            await message.ack()
        await client.flush()
        self._confirmed.extend(job.spec.id for _, jobs in accepted for job in jobs)
        self.on_stored()

    def _store(self, accepted: Sequence[tuple[Msg, tuple[ParsedJob, ...]]]) -> None:
        now = time.time()
        marks = [(job.spec.id, message.reply, now) for message, jobs in accepted for job in jobs]
        confirmed, self._confirmed = self._confirmed, []

        def within(db: sqlite3.Connection, results: list[tuple[Job, bool]]) -> None:
            self._clear(db, confirmed)
            db.executemany(
                "INSERT INTO intake_jobs (job_id, ack_subject, received_at) VALUES (?, ?, ?)"
                " ON CONFLICT (job_id) DO UPDATE SET ack_subject = excluded.ack_subject",
                marks,
            )
            created = sum(1 for _, new in results if new)
            if created:
                self.store._bump(db, "intake_jobs_stored", created)

        try:
            results = self.store.submit_many(
                [(job.spec, job.images) for _, jobs in accepted for job in jobs],
                actor=ACTOR,
                reason="taken from the office's queue",
                within=within,
            )
        except BaseException:
            self._confirmed = confirmed + self._confirmed
            raise
        # One line a fetch: ids only (never the holder); each job's own event is in the audit.
        self.log.info(
            "jobs_taken",
            jobs=[job.id for job, created in results if created],
            again=[job.id for job, created in results if not created],
        )

    @staticmethod
    def _clear(db: sqlite3.Connection, job_ids: Sequence[str]) -> None:
        db.executemany(
            "UPDATE intake_jobs SET ack_subject = NULL WHERE job_id = ?", [(j,) for j in job_ids]
        )

    def _flush_confirmed(self) -> None:
        if self._confirmed:
            confirmed, self._confirmed = self._confirmed, []
            with self.store.transaction() as db:
                self._clear(db, confirmed)

    async def _reconfirm(self, client: Client) -> None:
        """At start: acks of stored jobs that were never confirmed (a crash right after the
        commit). An ack the server already had is ignored by it."""
        rows = self.store.db.execute(
            "SELECT job_id, ack_subject FROM intake_jobs WHERE ack_subject IS NOT NULL"
        ).fetchall()
        if not rows:
            return
        for subject in sorted({subject for _, subject in rows}):
            await client.publish(subject, b"+ACK")
        await client.flush()
        self._confirmed.extend(job_id for job_id, _ in rows)
        self._flush_confirmed()
        self.log.info("intake_acks_resent", jobs=len(rows))

    async def _dead_letter(self, client: Client, message: Msg, rejected: Rejected) -> None:
        meta = message.metadata
        headers = {
            "Nats-Msg-Id": f"dead:{meta.stream}:{meta.sequence.stream}",
            "Printd-Reason": _header_text(rejected.reason),
            "Printd-Kind": rejected.kind,
            "Printd-Station": self.station,
            "Printd-Stream-Sequence": str(meta.sequence.stream),
        }
        js = client.jetstream()
        try:
            await js.publish(self.config.dead_letter_subject, message.data, headers=headers)
        except nats.js.errors.NoStreamResponseError:
            # No stream keeps dead letters: whoever listens on the subject hears it once.
            await client.publish(self.config.dead_letter_subject, message.data, headers=headers)
        except NATS_ERRORS as error:
            self.log.warning("intake_dead_letter_failed", error=str(error))
            with contextlib.suppress(*NATS_ERRORS):
                await message.nak(delay=5)
            return
        await message.term()
        with self.store.transaction() as db:
            self.store._bump(db, "intake_dead_letters", 1, label=rejected.kind)
        self.log.warning(
            "intake_dead_letter",
            kind=rejected.kind,
            reason=rejected.reason,
            stream_sequence=meta.sequence.stream,
        )
