"""Helpers shared by the SNMP tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from printd.sim.snmp_agent import MibView, SimSnmpAgent, V3User

DATA = Path(__file__).resolve().parents[1] / "data"
SNMPSIM = Path(sys.executable).parent / "snmpsim-command-responder"
V3 = V3User("printd", "auth-key-0123", "priv-key-0123")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@dataclass
class ViewHolder:
    """The view the agent shows; tests replace it between polls."""

    view: MibView = field(
        default_factory=lambda: MibView(
            sys_descr="test card printer",
            uptime_ticks=12345,
            hopper_level=42,
            hopper_capacity=100,
            ribbon_type="ymcko",
            ribbon_level=300,
            ribbon_capacity=450,
            life_count=77,
            reject_box_level=1,
            reject_box_capacity=20,
        )
    )

    def __call__(self) -> MibView:
        return self.view

    def update(self, **changes: Any) -> None:
        self.view = replace(self.view, **changes)


@dataclass
class RunningSim:
    agent: SimSnmpAgent
    holder: ViewHolder

    @property
    def port(self) -> int:
        return self.agent.port

    def uri(self, query: str = "version=2c&community=public") -> str:
        return f"snmp://127.0.0.1:{self.agent.port}?{query}"


@dataclass
class Snmpsim:
    port: int
    proc: subprocess.Popen[bytes]

    def uri(self, community: str, extra: str = "") -> str:
        return f"snmp://127.0.0.1:{self.port}?version=2c&community={community}{extra}"


def answers(port: int, community: str) -> bool:
    """A real GET with pysnmp's hlapi (not the poller under test)."""
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        get_cmd,
    )

    async def get() -> bool:
        engine = SnmpEngine()
        try:
            target = await UdpTransportTarget.create(("127.0.0.1", port), timeout=0.3, retries=0)
            ei, es, _, vbs = await get_cmd(
                engine,
                CommunityData(community),
                target,
                ContextData(),
                ObjectType(ObjectIdentity("1.3.6.1.2.1.1.1.0")),
            )
            return not ei and not es and bool(vbs)
        finally:
            engine.close_dispatcher()
            await asyncio.sleep(0)

    return bool(asyncio.run(get()))


def poll_once(uri: str, **kwargs: Any) -> Any:
    """One poll with a fresh poller, closed afterwards."""
    from printd.drivers.snmp import SnmpPoller, parse_snmp_uri

    async def go() -> Any:
        poller = SnmpPoller(parse_snmp_uri(uri), **kwargs)
        try:
            return await poller.poll()
        finally:
            await poller.aclose()

    return asyncio.run(go())


def open_fds() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))
