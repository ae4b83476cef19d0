"""Jobs published centrally on a real JetStream, taken by two real stations that share the
office's durable consumer: each job stored and printed at exactly one, every outcome on the
result stream exactly once; a station offline prints what it holds and reports afterwards."""

from __future__ import annotations

import json
import signal
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import promtool_complaints
from tests.intake.conftest import (
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

SINGLES = 40
PAIRS = 10  # "6 in 1": two spouses' cards in one message


def publish_jobs(office: Office, prefix: str) -> list[str]:
    front = card_png()
    ids = []
    payloads = []
    for i in range(SINGLES):
        ids.append(f"{prefix}-{i:03d}")
        payloads.append(payload(job(ids[-1], front)))
    for i in range(PAIRS):
        pair = [job(f"{prefix}-p{i:02d}-{who}", front) for who in ("suami", "istri")]
        ids.extend(j["id"] for j in pair)
        payloads.append(payload({"batch": f"{prefix}-nikah-{i:02d}", "jobs": pair}))
    office.publish(payloads)
    return ids


def test_two_stations_share_the_office_queue_each_job_once(
    nats_server: NatsServer, office: Office, tmp_path: Path
) -> None:
    ids = publish_jobs(office, "kk")
    stations = [
        make_station(tmp_path / name, name, nats_server, max_held=4, print_seconds=0.1)
        for name in ("loket-a", "loket-b")
    ]
    try:
        for station in stations:
            station.start()
            station.stock_up(100)
        stations[0].wait_for(
            lambda: sum(office.printed_ids().values()) >= len(ids),
            timeout=120,
            what="every job's printed outcome on the result stream",
        )
        statuses = [s.ctl_json("status")["intake"] for s in stations]
        cards = [ejected(s) for s in stations]
    finally:
        for station in stations:
            station.stop()

    taken = [job_ids(s) for s in stations]
    assert sorted(taken[0] + taken[1]) == sorted(ids), "a job lost, or taken by both stations"
    assert all(taken), "one station took every job: the consumer was not shared"
    for i in range(PAIRS):
        pair = {f"kk-p{i:02d}-suami", f"kk-p{i:02d}-istri"}
        assert pair <= set(taken[0]) or pair <= set(taken[1]), "a batch split across stations"

    printed = [printed_events(s) for s in stations]
    assert all(count == 1 for p in printed for count in p.values())
    assert cards == [sum(p.values()) for p in printed], "simulators' cards != printed jobs"

    results = office.results()
    by_msg_id = Counter(msg_id for msg_id, _ in results)
    assert all(count == 1 for count in by_msg_id.values()), "an outcome arrived twice"
    assert set(by_msg_id) == reported_transitions(stations[0]) | reported_transitions(stations[1])
    assert Counter(b["id"] for _, b in results if b["outcome"] == "printed") == Counter(ids)
    for _, body in results:
        assert "name" not in json.dumps(body).lower().replace('"station"', "")
        assert "nik" not in body
    assert {b["station"] for _, b in results} == {"loket-a", "loket-b"}
    for status in statuses:
        assert status["up"] is True
        assert status["outbox"]["depth"] == 0


@pytest.mark.timeout(300)
def test_server_down_while_printing_outcomes_delivered_after(
    nats_server: NatsServer, office: Office, tmp_path: Path
) -> None:
    ids = publish_jobs(office, "off")
    station = make_station(
        tmp_path / "keliling", "keliling", nats_server, max_held=100, print_seconds=0.05
    )
    station.start()
    try:
        station.wait_for(
            lambda: len(job_ids_live(station)) == len(ids), what="every job stored here"
        )
        nats_server.stop()
        station.wait_for(
            lambda: station.ctl_json("status")["intake"]["up"] is False, what="link down"
        )
        station.stock_up(100)  # the mobile station prints while offline
        station.wait_for(
            lambda: station.ctl_json("status")["queue"]["printed"] == len(ids),
            timeout=120,
            what="every job printed offline",
        )
        waiting = station.ctl_json("status")["intake"]["outbox"]["depth"]
        assert waiting == len(ids)
        metrics = station.metrics()
        assert 'printd_intake_up{station="keliling"} 0.0' in metrics
        assert f'printd_outbox_results{{station="keliling"}} {float(len(ids))}' in metrics
        text = station.ctl("status").stdout
        assert "outbox" in text.lower()

        nats_server.start()
        # Killed while the outbox drains: what the server acked but the station had not yet
        # deleted goes out again after the restart, and the server drops it as a duplicate.
        station.wait_for(office.results, what="the outbox draining")
        station.stop(signal.SIGKILL)
        station.start()
        station.wait_for(
            lambda: sum(office.printed_ids().values()) >= len(ids),
            timeout=120,
            what="outcomes delivered after the server returned",
        )
        station.wait_for(
            lambda: station.ctl_json("status")["intake"]["outbox"]["depth"] == 0,
            what="outbox drained",
        )
    finally:
        station.stop()
    results = office.results()
    assert all(n == 1 for n in Counter(m for m, _ in results).values())
    assert office.printed_ids() == Counter(ids)
    times = [body["at"] for _, body in results]
    assert times == sorted(times), "outcomes published out of order"


def job_ids_live(station: object) -> list[str]:
    from tests.conftest import DaemonProcess

    assert isinstance(station, DaemonProcess)
    return [j["id"] for j in station.ctl_json("jobs")["jobs"]]


def test_a_station_holds_no_more_than_max_held_jobs(
    nats_server: NatsServer, office: Office, tmp_path: Path
) -> None:
    front = card_png()
    office.publish([payload(job(f"hold-{i}", front)) for i in range(10)])
    station = make_station(tmp_path / "loket", "loket", nats_server, max_held=3)
    station.start()  # no blanks: what it takes, it holds
    try:
        intake = station.wait_for(
            lambda: (
                (s := station.ctl_json("status")["intake"])["holding"]
                and s["office_pending"] == 7
                and s
            ),
            what="the station full, the rest left at the office",
        )
        assert len(job_ids_live(station)) == 3
        assert intake["held"] == 3
        assert "full: taking no more" in station.ctl("status").stdout
        metrics = station.metrics()
        assert 'printd_intake_holding{station="loket"} 1.0' in metrics
        assert 'printd_intake_office_pending_messages{station="loket"} 7.0' in metrics
        # Prometheus's own linter finds nothing in the intake's series.
        complaints = promtool_complaints(metrics)
        assert [c for c in complaints if "intake" in c or "outbox" in c] == []
        station.stock_up(20)
        station.wait_for(
            lambda: sum(office.printed_ids().values()) == 10, what="the rest taken as cards print"
        )
    finally:
        station.stop()
