"""What one SNMP poll read, decoded from raw varbinds into typed rows.

Decoding never raises on what an agent sends: a value of the wrong type, an undecodable
string or a truncated table becomes a line in `problems` and the affected field is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyasn1.type import univ  # type: ignore[import-untyped]

import printd.drivers.snmp.mib as mib  # noqa: PLR0402  (a from-import of the package would import its facade, a circle)
from printd.drivers.snmp.client import ColumnRows, Oid
from printd.drivers.status import Level, LevelKind


@dataclass(frozen=True, slots=True)
class SupplyRow:
    index: Oid  # (hrDeviceIndex, prtMarkerSuppliesIndex)
    supply_class: int | None
    supply_type: int | None
    unit: int | None
    description: str
    capacity: Level
    level: Level

    @property
    def is_receptacle(self) -> bool:
        return self.supply_class == mib.SUPPLY_CLASS_RECEPTACLE

    @property
    def is_ribbon(self) -> bool:
        return self.supply_type in mib.RIBBON_SUPPLY_TYPES

    @property
    def type_name(self) -> str:
        return mib.SUPPLY_TYPE_NAMES.get(self.supply_type or 0, f"type{self.supply_type}")

    @property
    def unit_name(self) -> str:
        return mib.SUPPLY_UNIT_NAMES.get(self.unit or 0, f"unit{self.unit}")

    @property
    def remaining_fraction(self) -> float | None:
        """Share left to use (0..1); for a receptacle, the free room. None when unknowable."""
        if self.level.kind is not LevelKind.KNOWN or self.capacity.kind is not LevelKind.KNOWN:
            return None
        level, capacity = self.level.value or 0, self.capacity.value or 0
        if capacity <= 0:
            return None
        share = min(1.0, level / capacity)
        return 1.0 - share if self.is_receptacle else share


@dataclass(frozen=True, slots=True)
class InputRow:
    index: Oid  # (hrDeviceIndex, prtInputIndex)
    name: str
    capacity: Level
    level: Level


@dataclass(frozen=True, slots=True)
class CoverRow:
    index: Oid
    description: str
    status: int | None

    @property
    def is_open(self) -> bool:
        return self.status in mib.COVER_OPEN_VALUES


@dataclass(frozen=True, slots=True)
class AlertRow:
    index: Oid
    severity: int | None
    group: int | None
    code: int | None
    description: str


@dataclass(frozen=True, slots=True)
class SnmpReading:
    """One poll. Tables an agent does not implement are empty tuples, not errors."""

    address: str
    sys_descr: str | None = None
    uptime_seconds: float | None = None
    device_status: int | None = None
    printer_status: int | None = None
    error_state: bytes | None = None
    error_bits: frozenset[str] = frozenset()
    supplies: tuple[SupplyRow, ...] = ()
    inputs: tuple[InputRow, ...] = ()
    covers: tuple[CoverRow, ...] = ()
    alerts: tuple[AlertRow, ...] = ()
    life_count: int | None = None
    problems: tuple[str, ...] = ()
    method: str = "getbulk"
    duration_seconds: float = 0.0
    absent_tables: tuple[str, ...] = field(default=())

    @property
    def device_status_name(self) -> str | None:
        if self.device_status is None:
            return None
        return mib.HR_DEVICE_STATUS_NAMES.get(self.device_status, str(self.device_status))

    @property
    def printer_status_name(self) -> str | None:
        if self.printer_status is None:
            return None
        return mib.HR_PRINTER_STATUS_NAMES.get(self.printer_status, str(self.printer_status))


def _is_octets(value: Any) -> bool:
    # pyasn1's Null (and SNMP's noSuch*/endOfMibView) derive from OctetString: not text.
    return isinstance(value, univ.OctetString) and not isinstance(value, univ.Null)


class _Decoder:
    """Turns walked columns into typed values, collecting problems instead of raising."""

    def __init__(self, columns: dict[Oid, ColumnRows]) -> None:
        self.columns = columns
        self.problems: list[str] = []
        for col, found in columns.items():
            name = mib.COLUMN_NAME.get(col, ".".join(map(str, col)))
            if found.problem:
                self.problems.append(f"{name}: {found.problem}")
            if found.truncated:
                self.problems.append(
                    f"{mib.TABLE_OF.get(col, name)}: more rows than the limit of "
                    f"{len(found.rows)}; only the first {len(found.rows)} were read"
                )
        self.problems = list(dict.fromkeys(self.problems))

    def rows(self, col: Oid) -> dict[Oid, Any]:
        found = self.columns.get(col)
        return dict(found.rows) if found else {}

    def integer(self, col: Oid, index: Oid, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, univ.Integer):
            return int(value)
        self._wrong(col, index, value, "an integer")
        return None

    def text(self, col: Oid, index: Oid, value: Any) -> str:
        if value is None:
            return ""
        if _is_octets(value):
            return bytes(value).decode("utf-8", errors="replace").strip("\x00").strip()
        self._wrong(col, index, value, "a string")
        return ""

    def octets(self, col: Oid, index: Oid, value: Any) -> bytes | None:
        if value is None:
            return None
        if _is_octets(value):
            return bytes(value)
        self._wrong(col, index, value, "an OCTET STRING")
        return None

    def level(self, col: Oid, index: Oid, value: Any) -> Level:
        raw = self.integer(col, index, value)
        return Level.unknown() if raw is None else Level.from_mib(raw)

    def _wrong(self, col: Oid, index: Oid, value: Any, wanted: str) -> None:
        name = mib.COLUMN_NAME.get(col, "?")
        suffix = ".".join(map(str, index))
        self.problems.append(
            f"{name}.{suffix}: expected {wanted}, agent sent {type(value).__name__}; value ignored"
        )


def _index_order(*row_sets: dict[Oid, Any]) -> list[Oid]:
    keys: set[Oid] = set()
    for rows in row_sets:
        keys.update(rows)
    return sorted(keys)


def decode_reading(
    address: str,
    scalars: dict[Oid, Any],
    columns: dict[Oid, ColumnRows],
    *,
    notes: list[str],
    method: str,
    duration_seconds: float,
) -> SnmpReading:
    d = _Decoder(columns)

    descr = d.text(mib.SYS_DESCR, (0,), scalars.get(mib.SYS_DESCR)) or None
    uptime_raw = scalars.get(mib.SYS_UPTIME)
    uptime = d.integer(mib.SYS_UPTIME, (0,), uptime_raw)

    # The printer's hrDeviceIndex: the first hrPrinterTable row. Real agents list CPUs and
    # network cards in hrDeviceTable too, so its status is read for that index only.
    printer_status_rows = d.rows(mib.HR_PRINTER_STATUS)
    error_rows = d.rows(mib.HR_PRINTER_ERROR_STATE)
    printer_indexes = _index_order(printer_status_rows, error_rows)
    device_index = printer_indexes[0] if printer_indexes else None
    device_rows = d.rows(mib.HR_DEVICE_STATUS)
    if device_index is None and len(device_rows) == 1:
        device_index = next(iter(device_rows))

    def pick(rows: dict[Oid, Any]) -> Any:
        return rows.get(device_index) if device_index is not None else None

    device_status = d.integer(mib.HR_DEVICE_STATUS, device_index or (), pick(device_rows))
    printer_status = d.integer(mib.HR_PRINTER_STATUS, device_index or (), pick(printer_status_rows))
    error_state = d.octets(mib.HR_PRINTER_ERROR_STATE, device_index or (), pick(error_rows))

    def ours(index: Oid) -> bool:
        # Printer-MIB rows are indexed (hrDeviceIndex, sub-index): keep the printer's rows.
        return device_index is None or not index or index[:1] == device_index[:1]

    supplies = _supplies(d, ours)
    inputs = _inputs(d, ours)
    covers = _covers(d, ours)
    alerts = _alerts(d, ours)

    life_rows = [(i, v) for i, v in d.rows(mib.PRT_MARKER_LIFE_COUNT).items() if ours(i)]
    life_count = (
        d.integer(mib.PRT_MARKER_LIFE_COUNT, life_rows[0][0], life_rows[0][1])
        if (life_rows)
        else None
    )

    present = {t for c, t in mib.TABLE_OF.items() if c in columns and columns[c].rows}
    absent = sorted(set(mib.TABLE_OF.values()) - present)
    return SnmpReading(
        address=address,
        sys_descr=descr,
        uptime_seconds=None if uptime is None else uptime / 100.0,
        device_status=device_status,
        printer_status=printer_status,
        error_state=error_state,
        error_bits=mib.decode_error_state(error_state or b""),
        supplies=supplies,
        inputs=inputs,
        covers=covers,
        alerts=alerts,
        life_count=life_count,
        problems=tuple(dict.fromkeys([*notes, *d.problems])),
        method=method,
        duration_seconds=duration_seconds,
        absent_tables=tuple(absent),
    )


def _supplies(d: _Decoder, ours: Any) -> tuple[SupplyRow, ...]:
    cls_rows = d.rows(mib.PRT_SUPPLY_CLASS)
    type_rows = d.rows(mib.PRT_SUPPLY_TYPE)
    descr_rows = d.rows(mib.PRT_SUPPLY_DESCRIPTION)
    unit_rows = d.rows(mib.PRT_SUPPLY_UNIT)
    max_rows = d.rows(mib.PRT_SUPPLY_MAX_CAPACITY)
    level_rows = d.rows(mib.PRT_SUPPLY_LEVEL)
    out = []
    for i in _index_order(cls_rows, type_rows, descr_rows, max_rows, level_rows):
        if not ours(i):
            continue
        out.append(
            SupplyRow(
                index=i,
                supply_class=d.integer(mib.PRT_SUPPLY_CLASS, i, cls_rows.get(i)),
                supply_type=d.integer(mib.PRT_SUPPLY_TYPE, i, type_rows.get(i)),
                unit=d.integer(mib.PRT_SUPPLY_UNIT, i, unit_rows.get(i)),
                description=d.text(mib.PRT_SUPPLY_DESCRIPTION, i, descr_rows.get(i)),
                capacity=d.level(mib.PRT_SUPPLY_MAX_CAPACITY, i, max_rows.get(i)),
                level=d.level(mib.PRT_SUPPLY_LEVEL, i, level_rows.get(i)),
            )
        )
    return tuple(out)


def _inputs(d: _Decoder, ours: Any) -> tuple[InputRow, ...]:
    max_rows = d.rows(mib.PRT_INPUT_MAX_CAPACITY)
    level_rows = d.rows(mib.PRT_INPUT_CURRENT_LEVEL)
    name_rows = d.rows(mib.PRT_INPUT_NAME)
    return tuple(
        InputRow(
            index=i,
            name=d.text(mib.PRT_INPUT_NAME, i, name_rows.get(i)),
            capacity=d.level(mib.PRT_INPUT_MAX_CAPACITY, i, max_rows.get(i)),
            level=d.level(mib.PRT_INPUT_CURRENT_LEVEL, i, level_rows.get(i)),
        )
        for i in _index_order(max_rows, level_rows, name_rows)
        if ours(i)
    )


def _covers(d: _Decoder, ours: Any) -> tuple[CoverRow, ...]:
    descr_rows = d.rows(mib.PRT_COVER_DESCRIPTION)
    status_rows = d.rows(mib.PRT_COVER_STATUS)
    return tuple(
        CoverRow(
            index=i,
            description=d.text(mib.PRT_COVER_DESCRIPTION, i, descr_rows.get(i)),
            status=d.integer(mib.PRT_COVER_STATUS, i, status_rows.get(i)),
        )
        for i in _index_order(descr_rows, status_rows)
        if ours(i)
    )


def _alerts(d: _Decoder, ours: Any) -> tuple[AlertRow, ...]:
    sev = d.rows(mib.PRT_ALERT_SEVERITY)
    grp = d.rows(mib.PRT_ALERT_GROUP)
    code = d.rows(mib.PRT_ALERT_CODE)
    descr = d.rows(mib.PRT_ALERT_DESCRIPTION)
    return tuple(
        AlertRow(
            index=i,
            severity=d.integer(mib.PRT_ALERT_SEVERITY, i, sev.get(i)),
            group=d.integer(mib.PRT_ALERT_GROUP, i, grp.get(i)),
            code=d.integer(mib.PRT_ALERT_CODE, i, code.get(i)),
            description=d.text(mib.PRT_ALERT_DESCRIPTION, i, descr.get(i)),
        )
        for i in _index_order(sev, grp, code, descr)
        if ours(i)
    )
