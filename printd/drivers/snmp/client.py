"""A small SNMP manager session on pysnmp 7's asyncio hlapi: GET and column walks.

One `SnmpEngine` and one transport target live as long as the session, so repeated polls
reuse one UDP socket. Column walks fetch many table columns side by side in each request
(GETBULK, or GETNEXT for v1 and agents whose GETBULK is broken), shrink the request when the
agent answers tooBig, stop at the end of each column, and never loop on an agent whose OIDs
do not increase.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyasn1.type import univ  # type: ignore[import-untyped]
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
)
from pysnmp.hlapi.v3arch.asyncio import auth as usm
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto import errind, rfc1902, rfc1905

from printd.drivers.snmp.uri import SnmpTarget
from printd.errors import ConfigError, ProtocolError, TransportError, TransportTimeout

Oid = tuple[int, ...]

_AUTH = {
    "none": usm.USM_AUTH_NONE,
    "md5": usm.USM_AUTH_HMAC96_MD5,
    "sha": usm.USM_AUTH_HMAC96_SHA,
    "sha224": usm.USM_AUTH_HMAC128_SHA224,
    "sha256": usm.USM_AUTH_HMAC192_SHA256,
    "sha384": usm.USM_AUTH_HMAC256_SHA384,
    "sha512": usm.USM_AUTH_HMAC384_SHA512,
}
_PRIV = {
    "none": usm.USM_PRIV_NONE,
    "des": usm.USM_PRIV_CBC56_DES,
    "aes": usm.USM_PRIV_CFB128_AES,
    "aes192": usm.USM_PRIV_CFB192_AES,
    "aes256": usm.USM_PRIV_CFB256_AES,
}
# Errors the agent reports about who we are: retrying cannot help, the config must change.
_CREDENTIAL_ERRORS: tuple[type[Exception], ...] = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.DecryptionError,
    errind.UnknownSecurityName,
    errind.UnsupportedSecurityLevel,
    errind.AuthenticationError,
    errind.AuthenticationFailure,
    errind.UnknownCommunityName,
)
_TOO_BIG = 1  # error-status tooBig (RFC 3416)
_NO_SUCH_NAME = 2  # v1 error-status: end of the MIB view for GETNEXT, absent for GET
_VARBIND_BUDGET = 64  # varbinds asked per request: decoding cost grows with it
_END_VALUES = (rfc1905.EndOfMibView,)
_ABSENT_VALUES = (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)


class SnmpCredentialsError(ConfigError):
    """The agent refused our SNMPv3 user or keys (or, where it says so, our community)."""


class _TooBigError(Exception):
    """One varbind alone does not fit in a response."""


@dataclass(slots=True)
class ColumnRows:
    """What a walk found under one column: (row index, value) pairs in agent order."""

    rows: list[tuple[Oid, Any]] = field(default_factory=list)
    truncated: bool = False
    problem: str | None = None


def is_absent(value: Any) -> bool:
    """True for noSuchObject / noSuchInstance / endOfMibView (v2c exception values)."""
    return isinstance(value, _ABSENT_VALUES)


class SnmpSession:
    """GET and column walks against one agent. Create with `await SnmpSession.open(...)`."""

    def __init__(
        self,
        target: SnmpTarget,
        engine: Any,
        auth: Any,
        transport: Any,
        *,
        timeout: float,
        retries: int,
        max_repetitions: int,
    ) -> None:
        self.target = target
        self._engine = engine
        self._auth = auth
        self._transport = transport
        self._context = ContextData()
        self._target_name, _params = LCD.configure(
            engine, auth, transport, self._context.contextName
        )
        self._timeout = timeout
        self._retries = retries
        self._max_repetitions = max_repetitions
        # GETBULK is used while it works; v1 has none, and a broken agent turns it off.
        self.use_bulk = target.version != "1"
        self.use_refresh = True  # one-request polls of known rows (see `refresh`)
        self.notes: list[str] = []  # fallbacks taken, for the reading's problem list

    @classmethod
    async def open(
        cls, target: SnmpTarget, *, timeout: float, retries: int, max_repetitions: int
    ) -> SnmpSession:
        auth = _auth_data(target)  # reads v3 keys now; raises ConfigError naming the source
        # Building an engine loads pysnmp's MIB modules (about 0.3 s of CPU): off the loop,
        # so the daemon's other tasks keep running while the first poll sets up.
        engine = await asyncio.to_thread(SnmpEngine)
        try:
            transport = await UdpTransportTarget.create(
                (target.host, target.port), timeout=timeout, retries=retries
            )
        except Exception as e:  # pysnmp wraps resolver failures in its own type
            engine.close_dispatcher()
            raise TransportError(f"snmp agent {target.address}: cannot resolve host ({e})") from e
        return cls(
            target,
            engine,
            auth,
            transport,
            timeout=timeout,
            retries=retries,
            max_repetitions=max_repetitions,
        )

    def close(self) -> None:
        self._engine.close_dispatcher()

    async def _send(
        self, generator: Any, oids: Sequence[Oid], *bulk_args: int
    ) -> tuple[Any, Any, Any, Sequence[Any]]:
        """Send one request with numeric OIDs as they are.

        The hlapi `*_cmd` helpers resolve every OID through the MIB tree on each call, which
        cost more than the network round trip; the poller knows its OIDs, so it configures
        the target once through the hlapi (`LCD`) and sends raw varbinds.
        """
        future: asyncio.Future[tuple[Any, Any, Any, Sequence[Any]]] = (
            asyncio.get_running_loop().create_future()
        )

        def done(
            _engine: Any, _handle: Any, ei: Any, es: Any, eidx: Any, vbs: Any, _ctx: Any
        ) -> None:
            if not future.done():
                future.set_result((ei, es, eidx, vbs))

        generator.send_varbinds(
            self._engine,
            self._target_name,
            self._context.contextEngineId,
            self._context.contextName,
            *bulk_args,
            _request_varbinds(oids),
            done,
        )
        return await future

    # -- GET ---------------------------------------------------------------------------------

    async def get(self, oids: Sequence[Oid]) -> dict[Oid, Any]:
        """GET scalars; absent ones are left out of the result (never an error)."""
        pending = list(oids)
        found: dict[Oid, Any] = {}
        while pending:
            ei, es, eidx, vbs = await self._send(cmdgen.GetCommandGenerator(), pending)
            self._raise_for_indication(ei, "GET")
            status = int(es or 0)
            if status == _NO_SUCH_NAME and 0 < int(eidx) <= len(pending):
                del pending[int(eidx) - 1]  # v1: drop the missing object and ask again
                continue
            if status:
                raise ProtocolError(
                    f"snmp agent {self.target.address} answered GET with error-status "
                    f"{_status_name(es)}"
                )
            for vb in vbs:
                oid, value = tuple(vb[0]), vb[1]
                if not is_absent(value):
                    found[oid] = value
            return found
        return found

    # -- column walks ------------------------------------------------------------------------

    async def walk_columns(self, columns: Sequence[Oid], *, max_rows: int) -> dict[Oid, ColumnRows]:
        """Walk several columns side by side; each stops at its own end or at max_rows."""
        result = {col: ColumnRows() for col in columns}
        cursor: dict[Oid, Oid] = {col: col for col in columns}
        active = list(columns)
        while active:
            reps = max(1, min(self._max_repetitions, _VARBIND_BUDGET // len(active)))
            per_column = await self._fetch([cursor[c] for c in active], reps, active, result)
            finished: set[Oid] = set()
            for col, vbs in zip(active, per_column, strict=True):
                if col in finished or result[col].problem:
                    finished.add(col)
                    continue
                if not vbs:
                    finished.add(col)  # nothing came back for it: treat as its end
                for oid, value in vbs:
                    if isinstance(value, _END_VALUES) or oid[: len(col)] != col:
                        finished.add(col)
                        break
                    if oid <= cursor[col]:
                        result[col].problem = "agent returned OIDs that do not increase"
                        finished.add(col)
                        break
                    cursor[col] = oid
                    result[col].rows.append((oid[len(col) :], value))
                    if len(result[col].rows) >= max_rows:
                        result[col].truncated = True
                        finished.add(col)
                        break
            active = [c for c in active if c not in finished]
        return result

    async def refresh(
        self, scalars: Sequence[Oid], layout: dict[Oid, list[Oid]]
    ) -> tuple[dict[Oid, Any], dict[Oid, ColumnRows]] | None:
        """Re-read known rows and scalars in ONE GETNEXT; None if the layout changed.

        `layout` maps each column to the row indexes the last walk found. Asking GETNEXT for
        the column and for each known row but the last returns exactly those rows; asking it
        for the last row returns the first OID past the column, which proves no row was added.
        That is the same answer as a walk, in one round trip and with one varbind per value
        plus one per column. Any surprise (a row added or gone, an error) returns None and
        the caller walks again.
        """
        columns = list(layout)
        start_of: dict[Oid, Oid] = {}
        previous: Oid | None = None
        for col in columns:
            # The next column starts right after the previous column's last row.
            contiguous = previous is not None and col == (*previous[:-1], previous[-1] + 1)
            if contiguous and previous is not None and layout[previous]:
                start_of[col] = (*previous, *layout[previous][-1])
            else:
                start_of[col] = col
            previous = col
        wanted: dict[Oid, None] = {}
        for scalar in scalars:
            wanted[scalar[:-1]] = None
        for col in columns:
            wanted[start_of[col]] = None
            for index in layout[col]:
                wanted[(*col, *index)] = None
        requests = list(wanted)
        ei, es, _eidx, vbs = await self._send(cmdgen.NextCommandGenerator(), requests)
        self._raise_for_indication(ei, "GETNEXT")
        if int(es or 0) == _TOO_BIG:
            self.use_refresh = False  # this agent cannot answer it in one message: always walk
            self._note("agent said tooBig to a one-request poll; walking tables instead")
            return None
        if int(es or 0) or len(vbs) != len(requests):
            return None  # v1 end of view, a short answer: let a walk sort it out
        successor = {req: (tuple(vb[0]), vb[1]) for req, vb in zip(requests, vbs, strict=True)}
        found: dict[Oid, Any] = {}
        for scalar in scalars:
            oid, value = successor[scalar[:-1]]
            if oid == scalar and not is_absent(value):
                found[scalar] = value
        result: dict[Oid, ColumnRows] = {}
        for col in columns:
            rows = ColumnRows()
            ask = start_of[col]
            for index in layout[col]:
                oid, value = successor[ask]
                if oid != (*col, *index) or is_absent(value):
                    return None
                rows.rows.append((index, value))
                ask = oid
            oid, value = successor[ask]
            if oid[: len(col)] == col and not isinstance(value, _END_VALUES):
                return None  # a row was added after the last one we knew
            result[col] = rows
        return found, result

    async def _fetch(
        self, starts: list[Oid], reps: int, cols: list[Oid], result: dict[Oid, ColumnRows]
    ) -> list[list[tuple[Oid, Any]]]:
        """One logical round: the successors of each start OID, split as tooBig demands."""
        try:
            return await self._request(starts, reps)
        except _TooBigError:
            if self.use_bulk and reps > 1:
                self._max_repetitions = max(1, reps // 2)
                self._note(f"agent said tooBig; max-repetitions lowered to {reps // 2}")
                return await self._fetch(starts, reps // 2, cols, result)
            if len(starts) > 1:
                half = len(starts) // 2
                first = await self._fetch(starts[:half], reps, cols[:half], result)
                second = await self._fetch(starts[half:], reps, cols[half:], result)
                return first + second
            result[cols[0]].problem = "agent cannot fit one value of this column in a response"
            return [[]]

    async def _request(self, starts: list[Oid], reps: int) -> list[list[tuple[Oid, Any]]]:
        if self.use_bulk:
            try:
                return await self._bulk(starts, reps)
            except _BulkRefusedError as e:
                self.use_bulk = False
                try:
                    per_column = await self._next(starts)
                except TransportTimeout:
                    # GETNEXT unanswered too: the agent is down, not its GETBULK. Keep
                    # GETBULK for when it is back, instead of walking slower for good.
                    self.use_bulk = True
                    raise
                self._note(f"GETBULK failed ({e}); using GETNEXT from now on")
                return per_column
        return await self._next(starts)

    async def _bulk(self, starts: list[Oid], reps: int) -> list[list[tuple[Oid, Any]]]:
        try:
            ei, es, _eidx, vbs = await self._send(cmdgen.BulkCommandGenerator(), starts, 0, reps)
        except TransportTimeout as e:  # pragma: no cover - pysnmp reports timeouts in ei
            raise _BulkRefusedError(str(e)) from e
        if isinstance(ei, errind.RequestTimedOut):
            # Some agents drop GETBULK silently; GETNEXT decides whether the agent is down.
            raise _BulkRefusedError("no answer")
        self._raise_for_indication(ei, "GETBULK")
        status = int(es or 0)
        if status == _TOO_BIG:
            raise _TooBigError
        if status:
            raise _BulkRefusedError(f"error-status {_status_name(es)}")
        n = len(starts)
        per_column: list[list[tuple[Oid, Any]]] = [[] for _ in range(n)]
        for i, vb in enumerate(vbs):
            per_column[i % n].append((tuple(vb[0]), vb[1]))
        return per_column

    async def _next(self, starts: list[Oid]) -> list[list[tuple[Oid, Any]]]:
        pending = list(range(len(starts)))
        per_column: list[list[tuple[Oid, Any]]] = [[] for _ in starts]
        while pending:
            ei, es, eidx, vbs = await self._send(
                cmdgen.NextCommandGenerator(), [starts[i] for i in pending]
            )
            self._raise_for_indication(ei, "GETNEXT")
            status = int(es or 0)
            if status == _NO_SUCH_NAME and 0 < int(eidx) <= len(pending):
                del pending[int(eidx) - 1]  # v1 end of view for that column: it stays empty
                continue
            if status == _TOO_BIG:
                raise _TooBigError
            if status:
                raise ProtocolError(
                    f"snmp agent {self.target.address} answered GETNEXT with error-status "
                    f"{_status_name(es)}"
                )
            for i, vb in zip(pending, vbs, strict=False):
                per_column[i].append((tuple(vb[0]), vb[1]))
            break
        return per_column

    def _raise_for_indication(self, ei: Any, request: str) -> None:
        if not ei:
            return
        where = f"snmp agent {self.target.address}"
        if isinstance(ei, errind.RequestTimedOut):
            hint = (
                "wrong community, agent down, or not an SNMP agent"
                if self.target.version != "3"
                else "agent down, wrong engine or not an SNMP agent"
            )
            raise TransportTimeout(
                f"{where}: no valid {request} answer within {self._timeout:g} s x "
                f"{self._retries + 1} tries ({hint})"
            )
        if isinstance(ei, _CREDENTIAL_ERRORS):
            raise SnmpCredentialsError(
                f"{where} refused SNMPv{self.target.version} user {self.target.user!r}: {ei}; "
                "check user, auth/priv protocols and keys in the status URI"
            )
        if isinstance(ei, (errind.EncryptionError, errind.NoEncryption)):
            raise ConfigError(
                f"{where}: SNMPv3 privacy (priv={self.target.priv_protocol}) is not available "
                f"here: {ei}; install the 'cryptography' package or use priv=none"
            )
        raise ProtocolError(f"{where}: {request} failed: {ei}")

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


class _BulkRefusedError(Exception):
    """GETBULK did not work with this agent; GETNEXT is the fallback."""


def _request_varbinds(oids: Sequence[Oid]) -> list[tuple[Any, Any]]:
    return [(rfc1902.ObjectName(oid), univ.Null("")) for oid in oids]


def _status_name(es: Any) -> str:
    pretty = getattr(es, "prettyPrint", None)
    return str(pretty()) if callable(pretty) else str(es)


def _auth_data(target: SnmpTarget) -> Any:
    if target.version != "3":
        return CommunityData(target.community, mpModel=0 if target.version == "1" else 1)
    auth_key = target.auth_key.read("auth") if target.auth_key else None
    priv_key = target.priv_key.read("priv") if target.priv_key else None
    return UsmUserData(
        target.user or "",
        authKey=auth_key,
        privKey=priv_key,
        authProtocol=_AUTH[target.auth_protocol],
        privProtocol=_PRIV[target.priv_protocol],
    )
