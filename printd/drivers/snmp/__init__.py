"""Printer-MIB status and supplies over SNMP (DESIGN §2: the snmp poller).

`SnmpPoller.poll()` reads the system scalars with one GET, then every table column it needs
side by side (GETBULK, GETNEXT for v1 or broken agents) and returns an `SnmpReading`;
`status_from_reading` maps it onto `PrinterStatus` (source "snmp"). `SnmpMonitor` polls on an
interval in its own asyncio task with backoff while the agent is down: SNMP never blocks
printing (DESIGN §5).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from printd.drivers.snmp import mib
from printd.drivers.snmp.client import ColumnRows, Oid, SnmpCredentialsError, SnmpSession
from printd.drivers.snmp.monitor import SnmpMonitor
from printd.drivers.snmp.reading import (
    AlertRow,
    CoverRow,
    InputRow,
    SnmpReading,
    SupplyRow,
    decode_reading,
)
from printd.drivers.snmp.status import merge_status, status_from_reading
from printd.drivers.snmp.uri import KeySource, SnmpTarget, parse_snmp_uri
from printd.errors import ConfigError

__all__ = [
    "AlertRow",
    "CoverRow",
    "InputRow",
    "KeySource",
    "SnmpCredentialsError",
    "SnmpMonitor",
    "SnmpPoller",
    "SnmpReading",
    "SnmpTarget",
    "SupplyRow",
    "merge_status",
    "parse_snmp_uri",
    "status_from_reading",
]

DEFAULT_MAX_ROWS = 128  # per table; a printer has a handful, more is a broken agent


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -(2**31)  # absent or not a number: never "rose"


class SnmpPoller:
    """Reads one agent. One engine and one UDP socket for the poller's whole life.

    Belongs to the asyncio loop of its first `poll()`; `close()` releases the socket.
    """

    def __init__(
        self,
        target: SnmpTarget,
        *,
        timeout: float = 1.0,
        retries: int = 1,
        max_repetitions: int = 25,
        max_rows: int = DEFAULT_MAX_ROWS,
        reuse_layout: bool = True,
        full_walk_every: int = 30,
    ) -> None:
        if timeout <= 0:
            raise ConfigError(f"snmp poller timeout must be > 0 s, got {timeout!r}")
        if retries < 0:
            raise ConfigError(f"snmp poller retries must be >= 0, got {retries!r}")
        if not 1 <= max_repetitions <= 1000:
            raise ConfigError(f"snmp max_repetitions must be 1..1000, got {max_repetitions!r}")
        if full_walk_every < 1:
            raise ConfigError(f"snmp full_walk_every must be >= 1, got {full_walk_every!r}")
        if max_rows < 1:
            raise ConfigError(f"snmp max_rows must be >= 1, got {max_rows!r}")
        self.target = target
        self._timeout = timeout
        self._retries = retries
        self._max_repetitions = max_repetitions
        self._max_rows = max_rows
        # After one walk, later polls re-read the changing columns of the known rows in one
        # request (SnmpSession.refresh); False walks every table on every poll.
        self._reuse_layout = reuse_layout
        self._session: SnmpSession | None = None
        self._lock = asyncio.Lock()  # one poll at a time: they share the session and layout
        # The last walk (plus refreshed values since): what a refresh re-reads and keeps.
        self._last_walk: tuple[dict[Oid, Any], dict[Oid, ColumnRows]] | None = None
        self._polls_since_walk = 0
        self._full_walk_every = full_walk_every
        self._closed = False

    def __repr__(self) -> str:
        return f"SnmpPoller({self.target.address}, v{self.target.version})"

    async def _open(self) -> SnmpSession:
        if self._closed:
            raise RuntimeError("SnmpPoller is closed")
        if self._session is None:
            self._session = await SnmpSession.open(
                self.target,
                timeout=self._timeout,
                retries=self._retries,
                max_repetitions=self._max_repetitions,
            )
        return self._session

    async def poll(self) -> SnmpReading:
        """One full reading. Raises TransportTimeout, SnmpCredentialsError, ProtocolError."""
        async with self._lock:
            return await self._poll()

    async def _poll(self) -> SnmpReading:
        started = time.perf_counter()
        session = await self._open()
        refreshed = await self._refresh(session) if self._can_refresh(session) else None
        if refreshed is not None:
            scalars, columns = refreshed
            method = "getnext-known-rows"
            self._polls_since_walk += 1
        else:
            scalars, columns = await self._walk(session)
            method = "getbulk" if session.use_bulk else "getnext"
        return decode_reading(
            self.target.address,
            scalars,
            columns,
            notes=list(session.notes),
            method=method,
            duration_seconds=time.perf_counter() - started,
            hopper_input=self.target.hopper_input,
        )

    def _can_refresh(self, session: SnmpSession) -> bool:
        return (
            self._reuse_layout
            and self._last_walk is not None
            and session.use_refresh
            and self._polls_since_walk + 1 < self._full_walk_every
        )

    async def _walk(self, session: SnmpSession) -> tuple[dict[Oid, Any], dict[Oid, ColumnRows]]:
        scalars = await session.get([mib.SYS_DESCR, mib.SYS_UPTIME])
        columns = await session.walk_columns(mib.WALKED_COLUMNS, max_rows=self._max_rows)
        # Remember the rows so the next polls re-read only what changes, in one request;
        # not after a truncated table (its next row always exists) or a misbehaving column.
        clean = all(not c.truncated and not c.problem for c in columns.values())
        self._last_walk = (scalars, columns) if clean else None
        self._polls_since_walk = 0
        return scalars, columns

    async def _refresh(
        self, session: SnmpSession
    ) -> tuple[dict[Oid, Any], dict[Oid, ColumnRows]] | None:
        """Re-read the changing columns of the known rows; None when a walk is needed.

        Descriptions, names, types, units and capacities are kept from the last walk. A walk
        comes back when a row appears or goes (a new alert), when a level rises (a ribbon or
        hopper was replaced or refilled: its description or capacity may have changed too),
        and every `full_walk_every` polls in any case.
        """
        if self._last_walk is None:
            return None
        last_scalars, last_columns = self._last_walk
        layout = {col: [i for i, _ in last_columns[col].rows] for col in mib.CHANGING_COLUMNS}
        fresh = await session.refresh([mib.SYS_UPTIME], layout)
        if fresh is None:
            return None
        scalars, changing = fresh
        for col in mib.RISING_MEANS_REPLACED:
            before = dict(last_columns[col].rows)
            for index, value in changing[col].rows:
                if _as_int(value) > _as_int(before.get(index)):
                    return None
        columns = {**last_columns, **changing}
        merged_scalars = {**last_scalars, **scalars}
        if mib.SYS_UPTIME not in scalars:
            merged_scalars.pop(mib.SYS_UPTIME, None)
        # Later comparisons are against this poll, so a slow refill is seen step by step.
        self._last_walk = (merged_scalars, columns)
        return merged_scalars, columns

    async def aclose(self) -> None:
        """`close()`, then let the engine's cancelled timer task finish inside the loop."""
        self.close()
        await asyncio.sleep(0)

    def close(self) -> None:
        self._closed = True
        if self._session is not None:
            self._session.close()
            self._session = None
