"""The crash windows, one at a time and on purpose, against a real nats-server and a real
SQLite store: the state change and its outbox row commit together; a job committed but not
acked is confirmed by the next start, not handed to another station; a result published
again after a crash is dropped by the server as a duplicate."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig

from printd.config import IntakeConfig
from printd.intake.consumer import Consumer
from printd.intake.drainer import Drainer
from printd.intake.link import LinkState
from printd.intake.messages import decode
from printd.intake.outbox import Outbox
from printd.jobfile import parse_job
from printd.queue.jobs import JobState
from printd.queue.ledger import Entry, Item, Kind
from printd.queue.store import Store
from tests.intake.conftest import (
    DURABLE,
    JOBS_SUBJECT,
    RESULT_SUBJECT,
    RESULTS,
    STREAM,
    NatsServer,
    Office,
    card_png,
    job,
    payload,
)


def intake_config(server: NatsServer, **overrides: Any) -> IntakeConfig:
    values: dict[str, Any] = {
        "servers": (server.url,),
        "stream": STREAM,
        "subject": JOBS_SUBJECT,
        "durable": DURABLE,
        "result_subject": RESULT_SUBJECT,
        "dead_letter_subject": "ktp.dead.kantor-1",
        "ack_wait_seconds": 30.0,
        **overrides,
    }
    return IntakeConfig(**values)


def open_store(folder: Path) -> Store:
    store = Store(folder)
    store.open()
    return store


def take_one(store: Store, front: str, job_id: str) -> None:
    """A job as the intake stores it (its row in intake_jobs), outside any server."""
    parsed = parse_job(job(job_id, front))

    def mark(db: Any, _: Any) -> None:
        db.execute(
            "INSERT INTO intake_jobs (job_id, ack_subject, received_at) VALUES (?, NULL, 0)",
            (job_id,),
        )

    store.submit_many([(parsed.spec, parsed.images)], actor="intake", within=mark)


def station_consumer(config: IntakeConfig, store: Store) -> Consumer:
    return Consumer(
        config, store, state=LinkState(), on_stored=lambda: None, station="a", drivers=["evolis"]
    )


def outbox_rows(store: Store) -> list[dict[str, Any]]:
    return [json.loads(r[0]) for r in store.db.execute("SELECT body FROM outbox ORDER BY seq")]


def test_every_final_state_writes_its_row_in_the_same_transaction(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    outbox = Outbox(store, "loket")
    outbox.attach()
    front = card_png()
    for job_id in ("a", "b", "c", "d"):
        take_one(store, front, job_id)
    local = parse_job(job("local", front))
    store.submit(local.spec, local.images, actor="operator")  # not from the office: no row

    store.transition("a", JobState.PRINTING, actor="t", printer="p1")
    store.transition("a", JobState.PRINTED, actor="t")
    store.transition("b", JobState.PRINTING, actor="t", printer="p1")
    store.transitions(
        "b", [(JobState.SPOILED, "jam"), (JobState.QUEUED, "again")], actor="t", printer="p1"
    )
    store.transition("b", JobState.PRINTING, actor="t", printer="p1")
    store.transition("b", JobState.INTERRUPTED, actor="t")
    store.transition("b", JobState.PRINTED, actor="operator", reason="reconciled")
    store.transition("c", JobState.CANCELLED, actor="operator")
    store.transition("d", JobState.PRINTING, actor="t", printer="p1")
    store.transition("d", JobState.FAILED, actor="t", reason="bad image")
    store.transition("local", JobState.CANCELLED, actor="operator")
    # A state change that fails after its row was written leaves neither behind.
    take_one(store, front, "e")
    store.transition("e", JobState.PRINTING, actor="t", printer="p1")
    with pytest.raises(ValueError, match="no ledger rule"):
        store.transition(
            "e",
            JobState.PRINTED,
            actor="t",
            entries=[Entry(Item.RIBBONS, Kind.PRINTED, 1, "p1")],  # no such ledger rule
        )
    assert store.get("e").state is JobState.PRINTING

    # A reprint of an office job (the holder lost the card) is the office's business too.
    store.submit(
        parse_job(job("a.r1", front)).spec,
        parse_job(job("a.r1", front)).images,
        actor="operator",
        reprint_of="a",
    )
    store.transition("a.r1", JobState.CANCELLED, actor="operator")
    rows = outbox_rows(store)
    assert rows[-1]["reprint_of"] == "a"
    rows = rows[:-1]
    assert [(r["id"], r["outcome"]) for r in rows] == [
        ("a", "printed"),
        ("b", "spoiled"),
        ("b", "interrupted"),
        ("b", "printed"),
        ("c", "cancelled"),
        ("d", "failed"),
    ]
    assert [r["reconciled"] for r in rows if r["id"] == "b"] == [False, False, True]
    for row in rows:
        assert "nik" not in row
        assert "WARGA" not in json.dumps(row)
    store.close()


def test_results_carry_the_nik_only_when_configured(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    Outbox(store, "loket", carry_nik=True).attach()
    take_one(store, card_png(), "a")
    store.transition("a", JobState.CANCELLED, actor="operator")
    (row,) = outbox_rows(store)
    assert row["nik"] == job("a", "")["holder"]["nik"]
    assert "WARGA" not in json.dumps(row)
    store.close()


def test_a_job_committed_but_not_acked_is_confirmed_at_the_next_start(
    nats_server: NatsServer, office: Office, tmp_path: Path
) -> None:
    office.publish([payload(job("crash-window", card_png()))])
    config = intake_config(nats_server)

    async def go() -> tuple[int, int]:
        nc = await nats.connect(nats_server.url)
        store = open_store(tmp_path)
        consumer = station_consumer(config, store)
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            JOBS_SUBJECT,
            durable=DURABLE,
            stream=STREAM,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=30),
        )
        (message,) = await sub.fetch(1, timeout=5)
        jobs = decode(message.data, max_bytes=10**7, drivers=["evolis"])
        assert isinstance(jobs, tuple)
        consumer._store([(message, jobs)])  # committed; the process dies before the ack
        store.close()
        pending_before = (await sub.consumer_info()).num_ack_pending

        # The next start, on the same file.
        store = open_store(tmp_path)
        restarted = station_consumer(config, store)
        await restarted._reconfirm(nc)
        info = await sub.consumer_info()
        left = store.db.execute(
            "SELECT count(*) FROM intake_jobs WHERE ack_subject IS NOT NULL"
        ).fetchone()[0]
        store.close()
        await nc.close()
        assert left == 0
        return pending_before, info.num_ack_pending

    before, after = asyncio.run(go())
    assert (before, after) == (1, 0), "the server would hand the job to another station"


def test_a_result_published_again_after_a_crash_is_a_duplicate(
    nats_server: NatsServer, office: Office, tmp_path: Path
) -> None:
    store = open_store(tmp_path)
    outbox = Outbox(store, "loket")
    outbox.attach()
    front = card_png()
    for job_id in ("a", "b", "c"):
        take_one(store, front, job_id)
        store.transition(job_id, JobState.CANCELLED, actor="operator")
    saved = store.db.execute("SELECT msg_id, job_id, at, body FROM outbox").fetchall()

    async def drain() -> int:
        nc = await nats.connect(nats_server.url)
        drainer = Drainer(outbox, RESULT_SUBJECT)
        task = asyncio.create_task(drainer.run(nc))
        while outbox.depth()[0]:
            await asyncio.sleep(0.02)
        task.cancel()
        await nc.close()
        return drainer.duplicates

    assert asyncio.run(drain()) == 0
    # The server acked, the process died before its delete: the rows are back.
    with store.transaction() as db:
        db.executemany("INSERT INTO outbox (msg_id, job_id, at, body) VALUES (?, ?, ?, ?)", saved)
    assert asyncio.run(drain()) == 3
    results = office.messages(RESULTS)
    assert len(results) == 3
    assert store.total("outbox_published") == 6
    store.close()
