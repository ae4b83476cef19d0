"""The simulator's SNMP agent: a live Printer-MIB view of a simulated card printer.

Written from RFC 3805 / RFC 2790 (and `docs/evolis-protocol.md` for ribbon codes), not from
the poller in `printd/drivers/`, so the two check each other. It answers GET, GETNEXT and
GETBULK for v1/v2c (one community) and, when given a user, SNMPv3 authPriv (SHA + AES-128).

Every request asks `view_provider()` for the current `MibView`, so the agent always shows
the printer as it is now. It runs on 127.0.0.1 on a kernel-chosen port by default, on a
socket bound before the engine starts (a taken port fails loudly instead of never answering).
"""

from __future__ import annotations

import asyncio
import bisect
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import cmdrsp, context
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.smi import error as smi_error

Oid = tuple[int, ...]

# --- RFC 2790 / RFC 3805 numbers the agent serves -----------------------------------------
_SYSTEM = (1, 3, 6, 1, 2, 1, 1)
_HR_DEVICE_ENTRY = (1, 3, 6, 1, 2, 1, 25, 3, 2, 1)
_HR_PRINTER_ENTRY = (1, 3, 6, 1, 2, 1, 25, 3, 5, 1)
_HR_DEVICE_PRINTER = (1, 3, 6, 1, 2, 1, 25, 3, 1, 5)
_PRT_COVER_ENTRY = (1, 3, 6, 1, 2, 1, 43, 6, 1, 1)
_PRT_INPUT_ENTRY = (1, 3, 6, 1, 2, 1, 43, 8, 2, 1)
_PRT_MARKER_ENTRY = (1, 3, 6, 1, 2, 1, 43, 10, 2, 1)
_PRT_SUPPLIES_ENTRY = (1, 3, 6, 1, 2, 1, 43, 11, 1, 1)
_PRT_ALERT_ENTRY = (1, 3, 6, 1, 2, 1, 43, 18, 1, 1)
_DEVICE_INDEX = 1

DEVICE_RUNNING, DEVICE_WARNING, DEVICE_DOWN = 2, 3, 5
PRINTER_OTHER, PRINTER_IDLE, PRINTER_PRINTING, PRINTER_WARMUP = 1, 3, 4, 5
_COVER_OPEN, _COVER_CLOSED = 3, 4
_SUPPLY_CONSUMED, _SUPPLY_RECEPTACLE = 3, 4
_TYPE_OTHER, _TYPE_INK_RIBBON = 1, 7
_UNIT_IMPRESSIONS, _UNIT_SHEETS, _UNIT_ITEMS = 7, 8, 18
_INPUT_SHEET_FEED_AUTO_NON_REMOVABLE = 4
_SEVERITY_CRITICAL, _SEVERITY_WARNING = 3, 4
_GROUP_COVER, _GROUP_INPUT, _GROUP_OUTPUT, _GROUP_MARKER_SUPPLIES, _GROUP_MEDIA_PATH = (
    6,
    8,
    9,
    11,
    13,
)
_UNKNOWN = -2

# hrPrinterDetectedErrorState bit numbers (RFC 2790; bit 0 = MSB of the first octet).
ERROR_BITS = {
    "lowPaper": 0,
    "noPaper": 1,
    "lowToner": 2,
    "noToner": 3,
    "doorOpen": 4,
    "jammed": 5,
    "offline": 6,
    "serviceRequested": 7,
    "inputTrayMissing": 8,
    "outputTrayMissing": 9,
    "markerSupplyMissing": 10,
    "outputNearFull": 11,
    "outputFull": 12,
    "inputTrayEmpty": 13,
    "overduePreventMaint": 14,
}
_STOPPING_BITS = frozenset(
    {
        "noPaper",
        "noToner",
        "doorOpen",
        "jammed",
        "offline",
        "serviceRequested",
        "inputTrayMissing",
        "markerSupplyMissing",
        "outputFull",
        "inputTrayEmpty",
    }
)


def error_state_bytes(bits: Sequence[str]) -> bytes:
    """Encode error-state bit names as RFC 2790 octets (two octets, as most agents send)."""
    value = 0
    for name in bits:
        value |= 0x8000 >> ERROR_BITS[name]
    return value.to_bytes(2, "big")


@dataclass(frozen=True, slots=True)
class SimAlert:
    severity: int
    group: int
    code: int
    description: str


@dataclass(frozen=True, slots=True)
class MibView:
    """What the agent shows. Levels use the RFC 3805 sentinels (-1, -2, -3) where meant."""

    sys_descr: str = "printd simulated card printer"
    uptime_ticks: int = 0
    device_status: int = DEVICE_RUNNING
    printer_status: int = PRINTER_IDLE
    error_state: bytes = b"\x00\x00"
    cover_open: bool = False
    hopper_level: int = _UNKNOWN
    hopper_capacity: int = _UNKNOWN
    ribbon_type: str | None = None  # ribbon code, e.g. "ymcko"; None: no ribbon installed
    ribbon_level: int = _UNKNOWN  # prints left
    ribbon_capacity: int = _UNKNOWN  # prints
    life_count: int = 0
    alerts: tuple[SimAlert, ...] = ()
    reject_box_level: int | None = None  # None: no receptacle row
    reject_box_capacity: int = _UNKNOWN


def _read(snapshot: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if hasattr(snapshot, name):
            return getattr(snapshot, name)
    return default


def _counter(snapshot: Any, *names: str) -> int | None:
    counters = _read(snapshot, "counters")
    for source in (counters, snapshot):
        if source is None:
            continue
        for name in names:
            value = source.get(name) if isinstance(source, dict) else getattr(source, name, None)
            if isinstance(value, int):
                return value
    return None


def mib_view_from_snapshot(snapshot: Any, *, uptime_ticks: int = 0) -> MibView:
    """Show a simulator snapshot (`SimPrinter.snapshot()`) as the Printer-MIB would.

    Duck-typed on the snapshot's attribute names so the agent does not depend on the model's
    class; a missing attribute shows as "unknown" rather than failing.
    """
    hopper = _read(snapshot, "hopper", "hopper_level")
    hopper_capacity = _read(snapshot, "hopper_capacity")
    ribbon_type = _read(snapshot, "ribbon_type")
    ribbon_left = _read(snapshot, "ribbon_remaining", "ribbon_left")
    ribbon_capacity = _read(snapshot, "ribbon_capacity")
    reject = _read(snapshot, "reject_box", "reject_box_level")
    reject_capacity = _read(snapshot, "reject_box_capacity")
    cover_open = bool(_read(snapshot, "cover_open", default=False))
    jammed = bool(_read(snapshot, "jammed", default=False))
    plugged = bool(_read(snapshot, "plugged", default=True))
    state = str(_read(snapshot, "state", default="") or "").lower()
    minors = {str(m).upper() for m in (_read(snapshot, "minors", default=()) or ())}

    bits: list[str] = []
    if (isinstance(hopper, int) and hopper <= 0) or "FEEDER_EMPTY" in minors:
        bits += ["noPaper", "inputTrayEmpty"]
    elif "INF_FEEDER_NEAR_EMPTY" in minors:
        bits.append("lowPaper")
    if cover_open or "DEF_COVER_OPEN" in minors:
        bits.append("doorOpen")
    if jammed or "ERR_MECHANICAL" in minors:
        bits.append("jammed")
    if not ribbon_type or "DEF_NO_RIBBON" in minors:
        bits.append("markerSupplyMissing")
    elif (isinstance(ribbon_left, int) and ribbon_left <= 0) or "RIBBON_ENDED" in minors:
        bits.append("noToner")
    elif "INF_RIBBON_LOW" in minors:
        bits.append("lowToner")
    reject_full = "ERR_REJECT_BOX_FULL" in minors or (
        isinstance(reject, int)
        and isinstance(reject_capacity, int)
        and 0 < reject_capacity <= reject
    )
    if reject_full:
        bits.append("outputFull")
    elif (
        isinstance(reject, int)
        and isinstance(reject_capacity, int)
        and 1 < reject_capacity <= reject + 1
    ):
        bits.append("outputNearFull")
    if not plugged:
        bits.append("offline")
    printing = bool(_read(snapshot, "printing", default=False)) or (
        "INF_PRINTING_RUNNING" in minors or "print" in state
    )
    stopping = [b for b in bits if b in _STOPPING_BITS]
    device_status = DEVICE_DOWN if stopping else DEVICE_WARNING if bits else DEVICE_RUNNING
    if stopping:
        printer_status = PRINTER_OTHER
    elif printing:
        printer_status = PRINTER_PRINTING
    else:
        printer_status = PRINTER_IDLE

    return MibView(
        sys_descr=(
            f"Evolis {_read(snapshot, 'model', default='Primacy')} (printd simulator), "
            f"firmware {_read(snapshot, 'firmware', default='unknown')}"
        ),
        uptime_ticks=uptime_ticks,
        device_status=device_status,
        printer_status=printer_status,
        error_state=error_state_bytes(bits),
        cover_open=cover_open,
        hopper_level=hopper if isinstance(hopper, int) else _UNKNOWN,
        hopper_capacity=hopper_capacity if isinstance(hopper_capacity, int) else _UNKNOWN,
        ribbon_type=str(ribbon_type) if ribbon_type else None,
        ribbon_level=ribbon_left if isinstance(ribbon_left, int) and ribbon_type else _UNKNOWN,
        ribbon_capacity=(
            ribbon_capacity if isinstance(ribbon_capacity, int) and ribbon_type else _UNKNOWN
        ),
        life_count=_counter(snapshot, "cards_inserted", "cards_printed") or 0,
        alerts=_alerts_for(bits),
        reject_box_level=reject if isinstance(reject, int) else None,
        reject_box_capacity=reject_capacity if isinstance(reject_capacity, int) else _UNKNOWN,
    )


# prtAlertCode values from IANA-PRINTER-MIB as far as they are known; the poller reads the
# description and group, so a wrong code here shows only in `printd probe` output.
_ALERT_FOR_BIT = {
    "doorOpen": SimAlert(_SEVERITY_CRITICAL, _GROUP_COVER, 3, "Cover open"),
    "jammed": SimAlert(_SEVERITY_CRITICAL, _GROUP_MEDIA_PATH, 8, "Card jam"),
    "noPaper": SimAlert(_SEVERITY_CRITICAL, _GROUP_INPUT, 808, "Card hopper empty"),
    "markerSupplyMissing": SimAlert(
        _SEVERITY_CRITICAL, _GROUP_MARKER_SUPPLIES, 1101, "Ribbon missing"
    ),
    "noToner": SimAlert(_SEVERITY_CRITICAL, _GROUP_MARKER_SUPPLIES, 1104, "Ribbon ended"),
    "outputFull": SimAlert(_SEVERITY_CRITICAL, _GROUP_OUTPUT, 904, "Reject box full"),
    "lowToner": SimAlert(_SEVERITY_WARNING, _GROUP_MARKER_SUPPLIES, 1103, "Ribbon low"),
    "lowPaper": SimAlert(_SEVERITY_WARNING, _GROUP_INPUT, 807, "Card hopper nearly empty"),
}


def _alerts_for(bits: Sequence[str]) -> tuple[SimAlert, ...]:
    return tuple(_ALERT_FOR_BIT[b] for b in bits if b in _ALERT_FOR_BIT)


def build_table(view: MibView) -> dict[Oid, Any]:
    """The agent's whole MIB for one view: OID → SNMP value."""
    d, one = _DEVICE_INDEX, 1
    ribbon_descr = f"{view.ribbon_type.upper()} ribbon" if view.ribbon_type else "No ribbon"
    t: dict[Oid, Any] = {
        (*_SYSTEM, 1, 0): rfc1902.OctetString(view.sys_descr.encode()),
        (*_SYSTEM, 3, 0): rfc1902.TimeTicks(view.uptime_ticks & 0xFFFFFFFF),
        (*_HR_DEVICE_ENTRY, 1, d): rfc1902.Integer32(d),
        (*_HR_DEVICE_ENTRY, 2, d): rfc1902.ObjectIdentifier(_HR_DEVICE_PRINTER),
        (*_HR_DEVICE_ENTRY, 3, d): rfc1902.OctetString(view.sys_descr.encode()),
        (*_HR_DEVICE_ENTRY, 5, d): rfc1902.Integer32(view.device_status),
        (*_HR_PRINTER_ENTRY, 1, d): rfc1902.Integer32(view.printer_status),
        (*_HR_PRINTER_ENTRY, 2, d): rfc1902.OctetString(view.error_state),
        (*_PRT_COVER_ENTRY, 2, d, one): rfc1902.OctetString(b"Printer cover"),
        (*_PRT_COVER_ENTRY, 3, d, one): rfc1902.Integer32(
            _COVER_OPEN if view.cover_open else _COVER_CLOSED
        ),
        (*_PRT_INPUT_ENTRY, 2, d, one): rfc1902.Integer32(_INPUT_SHEET_FEED_AUTO_NON_REMOVABLE),
        (*_PRT_INPUT_ENTRY, 8, d, one): rfc1902.Integer32(_UNIT_SHEETS),
        (*_PRT_INPUT_ENTRY, 9, d, one): rfc1902.Integer32(view.hopper_capacity),
        (*_PRT_INPUT_ENTRY, 10, d, one): rfc1902.Integer32(view.hopper_level),
        (*_PRT_INPUT_ENTRY, 12, d, one): rfc1902.OctetString(b"CR-80 PVC card"),
        (*_PRT_INPUT_ENTRY, 13, d, one): rfc1902.OctetString(b"Card hopper"),
        (*_PRT_MARKER_ENTRY, 4, d, one): rfc1902.Counter32(view.life_count & 0xFFFFFFFF),
    }
    supplies = [
        (
            _SUPPLY_CONSUMED,
            _TYPE_INK_RIBBON,
            ribbon_descr,
            _UNIT_IMPRESSIONS,
            view.ribbon_capacity,
            view.ribbon_level,
        ),
    ]
    if view.reject_box_level is not None:
        supplies.append(
            (
                _SUPPLY_RECEPTACLE,
                _TYPE_OTHER,
                "Reject box",
                _UNIT_ITEMS,
                view.reject_box_capacity,
                view.reject_box_level,
            )
        )
    for row, (cls, typ, descr, unit, cap, level) in enumerate(supplies, start=1):
        t[(*_PRT_SUPPLIES_ENTRY, 2, d, row)] = rfc1902.Integer32(1)
        t[(*_PRT_SUPPLIES_ENTRY, 3, d, row)] = rfc1902.Integer32(0)
        t[(*_PRT_SUPPLIES_ENTRY, 4, d, row)] = rfc1902.Integer32(cls)
        t[(*_PRT_SUPPLIES_ENTRY, 5, d, row)] = rfc1902.Integer32(typ)
        t[(*_PRT_SUPPLIES_ENTRY, 6, d, row)] = rfc1902.OctetString(descr.encode())
        t[(*_PRT_SUPPLIES_ENTRY, 7, d, row)] = rfc1902.Integer32(unit)
        t[(*_PRT_SUPPLIES_ENTRY, 8, d, row)] = rfc1902.Integer32(cap)
        t[(*_PRT_SUPPLIES_ENTRY, 9, d, row)] = rfc1902.Integer32(level)
    for row, alert in enumerate(view.alerts, start=1):
        t[(*_PRT_ALERT_ENTRY, 2, d, row)] = rfc1902.Integer32(alert.severity)
        t[(*_PRT_ALERT_ENTRY, 4, d, row)] = rfc1902.Integer32(alert.group)
        t[(*_PRT_ALERT_ENTRY, 5, d, row)] = rfc1902.Integer32(-1)
        t[(*_PRT_ALERT_ENTRY, 7, d, row)] = rfc1902.Integer32(alert.code)
        t[(*_PRT_ALERT_ENTRY, 8, d, row)] = rfc1902.OctetString(alert.description.encode())
        t[(*_PRT_ALERT_ENTRY, 9, d, row)] = rfc1902.TimeTicks(view.uptime_ticks & 0xFFFFFFFF)
    return t


class _ViewInstrumentation:
    """pysnmp MIB instrumentation over the current view (duck-typed, read-only)."""

    def __init__(
        self, view_provider: Callable[[], MibView], max_varbinds: int | None = None
    ) -> None:
        self._provider = view_provider
        self._max_varbinds = max_varbinds
        self._view: MibView | None = None
        self._table: dict[Oid, Any] = {}
        self._keys: list[Oid] = []

    def _current(self) -> tuple[dict[Oid, Any], list[Oid]]:
        view = self._provider()
        if view != self._view:
            self._view, self._table = view, build_table(view)
            self._keys = sorted(self._table)
        return self._table, self._keys

    def read_variables(self, *var_binds: Any, **ctx: Any) -> list[tuple[Any, Any]]:
        if self._max_varbinds is not None and len(var_binds) > self._max_varbinds:
            raise smi_error.TooBigError()
        table, _ = self._current()
        return [(oid, table.get(tuple(oid), rfc1905.noSuchInstance)) for oid, _ in var_binds]

    def read_next_variables(self, *var_binds: Any, **ctx: Any) -> list[tuple[Any, Any]]:
        if self._max_varbinds is not None and len(var_binds) > self._max_varbinds:
            # Like an agent with a small message buffer: the manager must ask for less.
            raise smi_error.TooBigError()
        table, keys = self._current()
        out: list[tuple[Any, Any]] = []
        for oid, _ in var_binds:
            i = bisect.bisect_right(keys, tuple(oid))
            if i < len(keys):
                out.append((rfc1902.ObjectName(keys[i]), table[keys[i]]))
            else:
                out.append((oid, rfc1905.endOfMibView))
        return out

    def write_variables(self, *var_binds: Any, **ctx: Any) -> list[tuple[Any, Any]]:
        return [(oid, rfc1905.noSuchObject) for oid, _ in var_binds]


@dataclass(frozen=True, slots=True)
class V3User:
    """An SNMPv3 user for tests: authPriv with HMAC-SHA-96 and AES-128."""

    name: str
    auth_key: str
    priv_key: str

    def __repr__(self) -> str:
        return f"V3User(name={self.name!r}, auth_key=<hidden>, priv_key=<hidden>)"


class SimSnmpAgent:
    """An SNMP agent for the simulator. `start()` runs it in its own thread and loop;
    `start_in_loop()` runs it in the caller's running asyncio loop. `close()` stops either.
    """

    def __init__(
        self,
        view_provider: Callable[[], MibView],
        community: str = "public",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        v3_user: V3User | None = None,
        max_varbinds: int | None = None,
        serve_getbulk: bool = True,
    ) -> None:
        self._provider = view_provider
        self._serve_getbulk = serve_getbulk  # False: GETBULK goes unanswered (old agents)
        self._max_varbinds = max_varbinds  # per request; more answers tooBig (tests)
        self._community = community
        self._host = host
        self._requested_port = port
        self._v3_user = v3_user
        self._sock: socket.socket | None = None
        self._engine: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._owns_loop = False

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError("SimSnmpAgent is not started")
        return int(self._sock.getsockname()[1])

    @property
    def host(self) -> str:
        return self._host

    def _bind(self) -> None:
        # Bound here, before the engine exists: a taken port raises OSError now.
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self._host, self._requested_port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self._sock = sock

    def _build_engine(self) -> None:
        eng = engine.SnmpEngine()
        config.add_transport(
            eng, udp.DOMAIN_NAME, udp.UdpTransport().open_server_mode(sock=self._sock)
        )
        config.add_v1_system(eng, "sim-area", self._community)
        for model in (1, 2):
            config.add_vacm_user(eng, model, "sim-area", "noAuthNoPriv", (1, 3, 6))
        if self._v3_user is not None:
            config.add_v3_user(
                eng,
                self._v3_user.name,
                config.USM_AUTH_HMAC96_SHA,
                self._v3_user.auth_key,
                config.USM_PRIV_CFB128_AES,
                self._v3_user.priv_key,
            )
            config.add_vacm_user(eng, 3, self._v3_user.name, "authPriv", (1, 3, 6))
        snmp_context = context.SnmpContext(eng)
        snmp_context.unregister_context_name(b"")
        snmp_context.register_context_name(
            b"", _ViewInstrumentation(self._provider, self._max_varbinds)
        )
        responders: list[Any] = [cmdrsp.GetCommandResponder, cmdrsp.NextCommandResponder]
        if self._serve_getbulk:
            responders.append(cmdrsp.BulkCommandResponder)
        for responder in responders:
            responder(eng, snmp_context)
        eng.transport_dispatcher.job_started(1)
        self._engine = eng

    def start_in_loop(self) -> SimSnmpAgent:
        """Serve from the running asyncio loop (call from a coroutine)."""
        self._loop = asyncio.get_running_loop()
        self._bind()
        self._build_engine()
        return self

    def start(self) -> SimSnmpAgent:
        """Serve from a background thread with its own loop; returns once it is listening."""
        self._bind()
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop, self._owns_loop = loop, True

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._build_engine()
            except Exception as e:  # noqa: BLE001  # handed to start(), raised in the caller
                failure.append(e)
                ready.set()
                return
            loop.call_soon(ready.set)
            loop.run_forever()
            # Let the engine's cancelled timer task finish before the loop goes away.
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

        self._thread = threading.Thread(target=serve, name="sim-snmp-agent", daemon=True)
        self._thread.start()
        ready.wait(timeout=10)
        if failure:
            self.close()
            raise failure[0]
        return self

    def _shutdown_engine(self) -> None:
        if self._engine is not None:
            self._engine.transport_dispatcher.job_finished(1)
            self._engine.close_dispatcher()
            self._engine = None

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if thread is not None and loop is not None:
            if thread.is_alive():

                def stop() -> None:
                    self._shutdown_engine()
                    loop.stop()

                loop.call_soon_threadsafe(stop)
                thread.join(timeout=10)
            if not loop.is_closed() and not thread.is_alive():
                loop.close()
        else:
            self._shutdown_engine()
        self._thread, self._loop = None, None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> SimSnmpAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
