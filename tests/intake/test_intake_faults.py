"""Faults around intake: bad messages are dead-lettered while intake goes on; a station killed
while it takes work, and the office's server restarted twice, lose no job, print none twice,
and every outcome arrives exactly once."""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import DaemonProcess
from tests.intake.conftest import (
    DEAD,
    NatsServer,
    Office,
    card_png,
    ejected,
    job,
    job_ids,
    make_station,
    payload,
    printed_events,
    reported_transitions,
)

FULL = os.environ.get("PRINTD_SOAK") == "full"


def test_bad_messages_are_dead_lettered_and_intake_goes_on(
    nats_server: NatsServer, office: Office, tmp_path: Path
) -> None:
    front = card_png()
    good = [job(f"dl-{i}", front) for i in range(6)]
    no_holder = job("dl-noholder", front)
    del no_holder["holder"]
    raw_file = {
        **job("dl-raw", front),
        "printer_ready": "data:application/octet-stream;base64,AAAA",
        "sides": 1,
    }
    del raw_file["front"]
    other_content = {**good[0], "priority": 5}  # the id of a job already taken
    office.publish(
        [
            payload(good[0]),
            b"{not json",
            payload(good[1]),
            b'{"id": "dl-big", "pad": "' + b"x" * 120_000 + b'"}',
            payload(no_holder),
            payload(good[2]),
            payload(raw_file),
            payload(other_content),
            payload({"jobs": good[3:]}),
        ]
    )
    station = make_station(
        tmp_path / "loket", "loket", nats_server, extra="max_message_bytes = 100000"
    )
    station.start()
    try:
        station.stock_up(20)
        station.wait_for(
            lambda: sorted(office.printed_ids()) == sorted(j["id"] for j in good),
            timeout=60,
            what="the good jobs printed",
        )
        dead = station.wait_for(
            lambda: len(office.messages(DEAD)) == 5 and office.messages(DEAD),
            what="five dead letters",
        )
        metrics = station.metrics()
    finally:
        station.stop()
    kinds = {headers["Printd-Kind"]: headers["Printd-Reason"] for headers, _ in dead}
    assert set(kinds) == {"malformed", "oversized", "schema", "printer", "conflict"}
    assert "holder" in kinds["schema"]
    assert "100000" in kinds["oversized"]
    assert "driver = 'raw'" in kinds["printer"]
    assert "dl-0" in kinds["conflict"]
    assert all(headers["Printd-Station"] == "loket" for headers, _ in dead)
    assert b"{not json" in [body for _, body in dead]
    for kind in kinds:
        assert f'printd_intake_dead_letters_total{{kind="{kind}",station="loket"}} 1.0' in metrics
    assert sorted(job_ids(station)) == sorted(j["id"] for j in good)


def top_up(station: DaemonProcess) -> None:
    printer = station.ctl_json("status")["printers"][0]
    if printer["hopper"] < 20:
        station.ctl("stock", "receive", "--blanks", "60")
        station.load_blanks(60)
    if printer["ribbon"] is None or printer["ribbon"]["remaining"] < 20:
        station.ctl("stock", "receive", "--ribbons", "1")
        station.install_ribbon("ymcko", None, "--yes")


def run_intake_kills(
    nats_server: NatsServer, office: Office, tmp_path: Path, *, kills: int, singles: int
) -> None:
    seed = int(os.environ.get("PRINTD_CRASH_SEED", time.time_ns() % 2**32))
    rng = random.Random(seed)
    print(f"PRINTD_CRASH_SEED={seed}")
    front = card_png()
    ids = [f"kill-{i:04d}" for i in range(singles)]
    payloads = [payload(job(job_id, front)) for job_id in ids]
    for i in range(singles // 10):
        pair = [job(f"kill-p{i:03d}-{who}", front) for who in ("suami", "istri")]
        ids += [j["id"] for j in pair]
        payloads.append(payload({"batch": f"nikah-{i:03d}", "jobs": pair}))
    rng.shuffle(payloads)
    office.publish(payloads)

    # Station A takes work but has no blanks while it is killed: every kill lands in intake
    # (fetch, commit, ack), never in a card. Station B prints throughout.
    a = make_station(tmp_path / "a", "loket-a", nats_server, max_held=len(ids) // 3)
    b = make_station(tmp_path / "b", "loket-b", nats_server, max_held=3, print_seconds=0.1)
    b.start()
    b.stock_up(min(len(ids), 100))
    for _ in range(kills):
        a.start()
        time.sleep(rng.uniform(0.0, 0.6))  # a random moment of its intake to strike
        a.stop(signal.SIGKILL)
    for _ in range(2):  # the office's server restarted twice while B prints and reports
        nats_server.stop()
        nats_server.start()
    a.start()
    try:
        a.stock_up(min(len(ids), 100))

        def all_printed() -> bool:
            for station in (a, b):
                top_up(station)  # a hopper holds 100 blanks, a ribbon 450 prints
            return sum(office.printed_ids().values()) >= len(ids)

        a.wait_for(all_printed, timeout=60 + len(ids), what="every job's printed outcome")
        cards = [ejected(a), ejected(b)]
    finally:
        a.stop()
        b.stop()

    taken = [job_ids(a), job_ids(b)]
    assert not set(taken[0]) & set(taken[1]), "a job taken by both stations"
    assert sorted(taken[0] + taken[1]) == sorted(ids), "a job lost"
    printed = [printed_events(a), printed_events(b)]
    assert all(n == 1 for p in printed for n in p.values()), "a job printed twice"
    assert cards == [sum(p.values()) for p in printed]
    results = office.results()
    by_msg_id = Counter(msg_id for msg_id, _ in results)
    assert all(n == 1 for n in by_msg_id.values()), "an outcome arrived twice"
    assert set(by_msg_id) == reported_transitions(a) | reported_transitions(b)
    assert office.printed_ids() == Counter(ids)


@pytest.mark.timeout(300)
def test_sigkill_during_intake_loses_nothing_and_prints_nothing_twice(
    nats_server: NatsServer, office: Office, tmp_path: Path
) -> None:
    run_intake_kills(nats_server, office, tmp_path, kills=4, singles=60)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("PRINTD_SOAK"), reason="`make soak` runs it")
@pytest.mark.timeout(7200)
def test_sigkill_during_intake_soak(
    nats_server: NatsServer, office: Office, tmp_path: Path
) -> None:
    run_intake_kills(nats_server, office, tmp_path, kills=20, singles=900 if FULL else 200)
