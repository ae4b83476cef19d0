"""The poller against the simulator's pysnmp agent on 127.0.0.1 (a real UDP agent)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from snmp_support import RunningSim, ViewHolder, free_udp_port, open_fds, poll_once, run

from printd.drivers.snmp import (
    SnmpCredentialsError,
    SnmpPoller,
    mib,
    parse_snmp_uri,
    status_from_reading,
)
from printd.drivers.snmp.client import SnmpSession
from printd.drivers.status import Condition, Level, PrinterState
from printd.errors import ConfigError, TransportTimeout
from printd.sim.snmp_agent import SimAlert, SimSnmpAgent, error_state_bytes

SimFactory = Callable[..., RunningSim]

V3_OK = "version=3&user=printd&auth=sha&priv=aes&auth_key_env=T_AUTH&priv_key_env=T_PRIV"


def test_poll_reads_status_and_supplies(sim_agent: SimFactory) -> None:
    sim = sim_agent()
    reading = poll_once(sim.uri())
    assert reading.sys_descr == "test card printer"
    assert reading.uptime_seconds == pytest.approx(123.45)
    assert reading.life_count == 77
    assert [r.name for r in reading.inputs] == ["Card hopper"]
    assert reading.problems == ()
    status = status_from_reading(reading)
    assert status.state is PrinterState.IDLE
    assert status.conditions == frozenset()
    s = status.supplies
    assert (s.hopper_level, s.hopper_capacity) == (Level.known(42), Level.known(100))
    assert (s.ribbon_type, s.ribbon_remaining, s.ribbon_capacity) == (
        "ymcko",
        Level.known(300),
        Level.known(450),
    )
    receptacle = [r for r in reading.supplies if r.is_receptacle]
    assert receptacle[0].remaining_fraction == pytest.approx(0.95)


def test_live_changes_show_on_the_next_poll(sim_agent: SimFactory) -> None:
    sim = sim_agent()

    async def go() -> list[object]:
        poller = SnmpPoller(parse_snmp_uri(sim.uri()))
        try:
            first = await poller.poll()
            sim.holder.update(hopper_level=41, ribbon_level=299)
            second = await poller.poll()  # known rows: one request
            sim.holder.update(
                cover_open=True,
                error_state=error_state_bytes(["doorOpen"]),
                alerts=(SimAlert(3, 6, 3, "Cover open"),),
            )
            third = await poller.poll()  # a new alert row: walks again
            return [first, second, third]
        finally:
            await poller.aclose()

    first, second, third = run(go())
    assert first.method == "getbulk"
    assert second.method == "getnext-known-rows"
    assert status_from_reading(second).supplies.hopper_level == Level.known(41)
    assert status_from_reading(second).supplies.ribbon_remaining == Level.known(299)
    assert third.method == "getbulk"
    assert [a.description for a in third.alerts] == ["Cover open"]
    status = status_from_reading(third)
    assert status.state is PrinterState.NEEDS_OPERATOR
    assert status.conditions == {Condition.COVER_OPEN}


def test_a_replaced_ribbon_is_read_in_full(sim_agent: SimFactory) -> None:
    sim = sim_agent()

    async def go() -> list[object]:
        poller = SnmpPoller(parse_snmp_uri(sim.uri()), full_walk_every=1000)
        try:
            readings = [await poller.poll(), await poller.poll()]
            # A new KO ribbon: its level is higher than the old one's, so descriptions and
            # capacities are read again, not kept from the last walk.
            sim.holder.update(ribbon_type="ko", ribbon_level=600, ribbon_capacity=600)
            readings.append(await poller.poll())
            readings.append(await poller.poll())
            return readings
        finally:
            await poller.aclose()

    methods = [r.method for r in run(go())]  # type: ignore[attr-defined]
    assert methods == ["getbulk", "getnext-known-rows", "getbulk", "getnext-known-rows"]


def test_replacement_reaches_the_status(sim_agent: SimFactory) -> None:
    sim = sim_agent()

    async def go() -> object:
        poller = SnmpPoller(parse_snmp_uri(sim.uri()))
        try:
            await poller.poll()
            sim.holder.update(ribbon_type="ko", ribbon_level=600, ribbon_capacity=600)
            return await poller.poll()
        finally:
            await poller.aclose()

    supplies = status_from_reading(run(go())).supplies  # type: ignore[arg-type]
    assert (supplies.ribbon_type, supplies.ribbon_capacity) == ("ko", Level.known(600))


def test_full_walk_every_n_polls(sim_agent: SimFactory) -> None:
    sim = sim_agent()

    async def go() -> list[str]:
        poller = SnmpPoller(parse_snmp_uri(sim.uri()), full_walk_every=3)
        try:
            return [(await poller.poll()).method for _ in range(7)]
        finally:
            await poller.aclose()

    walk, known = "getbulk", "getnext-known-rows"
    assert run(go()) == [walk, known, known, walk, known, known, walk]


@pytest.mark.parametrize("version", ["1", "2c"])
def test_v1_getnext_and_v2c_getbulk_read_the_same(sim_agent: SimFactory, version: str) -> None:
    sim = sim_agent()
    sim.holder.update(alerts=(SimAlert(4, 11, 1103, "Ribbon low"),))
    reading = poll_once(sim.uri(f"version={version}&community=public"))
    assert reading.method == ("getnext" if version == "1" else "getbulk")
    reference = poll_once(sim.uri())
    assert (reading.supplies, reading.inputs, reading.covers, reading.alerts) == (
        reference.supplies,
        reference.inputs,
        reference.covers,
        reference.alerts,
    )


def test_too_big_answers_shrink_the_requests(sim_agent: SimFactory) -> None:
    sim = sim_agent(max_varbinds=4)
    reading = poll_once(sim.uri())
    reference = poll_once(sim_agent().uri())
    assert reading.supplies == reference.supplies
    assert reading.inputs == reference.inputs
    assert any("tooBig" in p for p in reading.problems)


def test_agent_that_ignores_getbulk_falls_back_to_getnext(sim_agent: SimFactory) -> None:
    sim = sim_agent(serve_getbulk=False)
    # The unanswered GETBULK costs the whole timeout; the GETNEXT after it must be answered
    # within it, so the bound is one a loaded machine never reaches (not a speed check).
    reading = poll_once(sim.uri(), timeout=2.0, retries=0)
    assert reading.method == "getnext"
    assert any("GETBULK failed (no answer)" in p for p in reading.problems)
    assert status_from_reading(reading).supplies.hopper_level == Level.known(42)


def test_an_agent_down_mid_walk_keeps_getbulk_for_when_it_is_back() -> None:
    """No answer to GETBULK and none to GETNEXT either: the agent is down, and GETBULK must
    not be given up for good (every later walk would take the slower road)."""
    port = free_udp_port()  # nothing listens there yet

    async def go() -> tuple[bool, list[str], bool, list[str], int]:
        session = await SnmpSession.open(
            # Each unanswered request below costs the whole timeout, but the agent once back must
            # answer within it even on a loaded machine: GETBULK late would look refused.
            parse_snmp_uri(f"snmp://127.0.0.1:{port}"),
            timeout=2.0,
            retries=0,
            max_repetitions=8,
        )
        try:
            with pytest.raises(TransportTimeout):
                await session.walk_columns(mib.WALKED_COLUMNS, max_rows=128)
            down = (session.use_bulk, list(session.notes))
            agent = SimSnmpAgent(ViewHolder(), port=port).start()
            try:
                columns = await session.walk_columns(mib.WALKED_COLUMNS, max_rows=128)
            finally:
                agent.close()
            rows = sum(len(c.rows) for c in columns.values())
            return (*down, session.use_bulk, list(session.notes), rows)
        finally:
            session.close()

    bulk_while_down, notes_while_down, bulk_after, notes_after, rows = run(go())
    assert bulk_while_down and notes_while_down == []
    assert bulk_after and notes_after == []
    assert rows > 0


def test_v3_auth_priv(sim_agent: SimFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_AUTH", "auth-key-0123")
    monkeypatch.setenv("T_PRIV", "priv-key-0123")
    sim = sim_agent()
    reading = poll_once(sim.uri(V3_OK))
    assert status_from_reading(reading).supplies.hopper_level == Level.known(42)


@pytest.mark.parametrize(
    ("query", "auth", "priv"),
    [
        (V3_OK, "wrong-auth-key", "priv-key-0123"),
        (V3_OK.replace("user=printd", "user=nobody"), "auth-key-0123", "priv-key-0123"),
    ],
)
def test_wrong_v3_credentials_are_a_credentials_error(
    sim_agent: SimFactory, monkeypatch: pytest.MonkeyPatch, query: str, auth: str, priv: str
) -> None:
    monkeypatch.setenv("T_AUTH", auth)
    monkeypatch.setenv("T_PRIV", priv)
    sim = sim_agent()
    with pytest.raises(SnmpCredentialsError, match="refused SNMPv3 user") as info:
        # The agent's report comes at once; the timeout only bounds a loaded machine.
        poll_once(sim.uri(query), timeout=3.0, retries=0)
    assert isinstance(info.value, ConfigError)
    assert auth not in str(info.value)


def test_wrong_v3_priv_key_is_not_a_silent_success(
    sim_agent: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The agent cannot decrypt: it drops or reports; either way the poll fails clearly.
    monkeypatch.setenv("T_AUTH", "auth-key-0123")
    monkeypatch.setenv("T_PRIV", "wrong-priv-key")
    sim = sim_agent()
    with pytest.raises((SnmpCredentialsError, TransportTimeout)):
        poll_once(sim.uri(V3_OK), timeout=0.5, retries=0)


def test_wrong_community_times_out_with_a_hint(sim_agent: SimFactory) -> None:
    sim = sim_agent()
    started = time.monotonic()
    with pytest.raises(TransportTimeout, match="wrong community"):
        poll_once(sim.uri("community=nope"), timeout=0.3, retries=1)
    assert time.monotonic() - started < 60  # two 0.3 s tries; the bound only catches a hang


@pytest.fixture
def garbage_responder() -> Iterator[int]:
    """A UDP service on 127.0.0.1 that answers every datagram with bytes that are not SNMP."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()
    answered = []

    def serve() -> None:
        while not stop.is_set():
            try:
                _, peer = sock.recvfrom(65535)
            except TimeoutError:
                continue
            sock.sendto(b"\x30\x03\x02\x01\xff garbage \x00\xff", peer)
            answered.append(peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join(2)
    sock.close()
    assert answered, "the garbage responder was never asked"


def test_garbage_answers_are_a_clear_timeout(garbage_responder: int) -> None:
    with pytest.raises(TransportTimeout, match="not an SNMP agent"):
        poll_once(f"snmp://127.0.0.1:{garbage_responder}", timeout=0.3, retries=0)


def test_nothing_listening_is_a_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransportTimeout):
        poll_once(f"snmp://127.0.0.1:{port}", timeout=0.2, retries=0)


def test_no_fd_leak_over_many_polls(sim_agent: SimFactory) -> None:
    sim = sim_agent()

    async def go() -> tuple[int, int]:
        poller = SnmpPoller(parse_snmp_uri(sim.uri()))
        try:
            await poller.poll()
            before = open_fds()
            for i in range(300):
                sim.holder.update(hopper_level=i % 100)  # values change, layout does not
                await poller.poll()
            return before, open_fds()
        finally:
            await poller.aclose()

    before, after = run(go())
    # The count is the whole process's: what an earlier test left for the garbage collector
    # may close meanwhile, so it can fall; a socket leaked a poll would add 300.
    assert after <= before


def test_closing_pollers_releases_their_sockets(sim_agent: SimFactory) -> None:
    sim = sim_agent()
    poll_once(sim.uri())
    before = open_fds()
    for _ in range(8):
        poll_once(sim.uri())
    assert open_fds() <= before  # the process's count: it may fall, never grow


def test_agent_on_a_taken_port_fails_at_start() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        agent = SimSnmpAgent(lambda: None, port=sock.getsockname()[1])  # type: ignore[arg-type,return-value]
        with pytest.raises(OSError):
            agent.start()


def test_agent_in_the_callers_loop(sim_agent: SimFactory) -> None:
    holder = ViewHolder()

    async def go() -> object:
        agent = SimSnmpAgent(holder).start_in_loop()
        poller = SnmpPoller(parse_snmp_uri(f"snmp://127.0.0.1:{agent.port}"))
        try:
            return await poller.poll()
        finally:
            await poller.aclose()
            agent.close()
            await asyncio.sleep(0)

    reading = run(go())
    assert status_from_reading(reading).supplies.hopper_level == Level.known(42)
