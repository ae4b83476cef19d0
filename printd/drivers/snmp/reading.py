"""What one SNMP poll read, decoded from raw varbinds into typed rows.

Decoding never raises on what an agent sends: a value of the wrong type, an undecodable
string or a truncated table becomes a line in `problems` and the affected field is unknown.
A column an agent leaves out of a row is None in that row: never a name made up here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
    description: str | None
    capacity: Level
    level: Level

    @property
    def is_receptacle(self) -> bool:
        return self.supply_class == mib.SUPPLY_CLASS_RECEPTACLE

    @property
    def is_ribbon(self) -> bool:
        return self.supply_type in mib.RIBBON_SUPPLY_TYPES

    @property
    def is_consumed(self) -> bool:
        return self.supply_class == mib.SUPPLY_CLASS_CONSUMED

    @property
    def class_name(self) -> str | None:
        """The RFC name of the class; None when absent or a number the RFC does not define."""
        return mib.SUPPLY_CLASS_NAMES.get(self.supply_class) if self.supply_class else None

    @property
    def type_name(self) -> str | None:
        return mib.SUPPLY_TYPE_NAMES.get(self.supply_type) if self.supply_type else None

    @property
    def unit_name(self) -> str | None:
        return mib.SUPPLY_UNIT_NAMES.get(self.unit) if self.unit else None

    @property
    def remaining_fraction(self) -> float | None:
        """Share left to use (0..1); for a receptacle, the free room. None when unknowable.

        Without a class the same level means opposite things (a waste box at 90 % is nearly
        full, a ribbon at 90 % nearly new), so an unclassed row has no share at all.
        """
        if not (self.is_consumed or self.is_receptacle):
            return None
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
    name: str | None
    capacity: Level
    level: Level
    input_type: int | None = None
    media_name: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class CoverRow:
    index: Oid
    description: str | None
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
    description: str | None


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
    serial_number: str | None = None  # prtGeneralSerialNumber
    device_index: Oid | None = None  # the printer's hrDeviceIndex, when one could be told
    hopper_index: Oid | None = None  # the prtInputTable row that is the card hopper
    hopper_reason: str | None = None  # why no hopper was chosen (hopper_index is None)

    @property
    def hopper(self) -> InputRow | None:
        return next((i for i in self.inputs if i.index == self.hopper_index), None)

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

    def text(self, col: Oid, index: Oid, value: Any) -> str | None:
        if value is None:
            return None
        if _is_octets(value):
            return bytes(value).decode("utf-8", errors="replace").strip("\x00").strip()
        self._wrong(col, index, value, "a string")
        return None

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
    hopper_input: int | None = None,
) -> SnmpReading:
    d = _Decoder(columns)

    descr = d.text(mib.SYS_DESCR, (0,), scalars.get(mib.SYS_DESCR)) or None
    uptime_raw = scalars.get(mib.SYS_UPTIME)
    uptime = d.integer(mib.SYS_UPTIME, (0,), uptime_raw)

    printer_status_rows = d.rows(mib.HR_PRINTER_STATUS)
    error_rows = d.rows(mib.HR_PRINTER_ERROR_STATE)
    device_rows = d.rows(mib.HR_DEVICE_STATUS)
    device_index = _device_index(d, printer_status_rows, error_rows, device_rows)

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
    hopper_index, hopper_reason = choose_hopper(inputs, hopper_input)
    serials = [(i, v) for i, v in d.rows(mib.PRT_GENERAL_SERIAL_NUMBER).items() if ours(i)]
    serial = d.text(mib.PRT_GENERAL_SERIAL_NUMBER, *serials[0]) if serials else None
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
        serial_number=serial or None,
        device_index=device_index,
        hopper_index=hopper_index,
        hopper_reason=hopper_reason,
    )


def _device_index(
    d: _Decoder,
    printer_status_rows: dict[Oid, Any],
    error_rows: dict[Oid, Any],
    device_rows: dict[Oid, Any],
) -> Oid | None:
    """The printer's hrDeviceIndex: its hrPrinterTable row, else its hrDeviceTable row.

    Real agents list CPUs and network cards in hrDeviceTable too, and some list the printer
    there (hrDeviceType = hrDevicePrinter) without any hrPrinterTable row.
    """
    printer_indexes = _index_order(printer_status_rows, error_rows)
    if printer_indexes:
        return printer_indexes[0]
    printers = [
        i
        for i, v in d.rows(mib.HR_DEVICE_TYPE).items()
        if isinstance(v, univ.ObjectIdentifier) and tuple(v) == mib.HR_DEVICE_PRINTER
    ]
    if printers:
        return printers[0]
    return next(iter(device_rows)) if len(device_rows) == 1 else None


# Words that name a card input in prtInputName/Description/MediaName ("Card hopper",
# "CR-80 PVC card", "Feeder 2 - cards"): a laser tray says "TRAY1", "A4", "MANUAL".
_CARD_WORDS = re.compile(r"\b(cards?|cr-?80|hopper)\b", re.IGNORECASE)


def _index_list(inputs: Sequence[InputRow]) -> str:
    return ", ".join(str(i.index[-1]) for i in inputs)


def choose_hopper(
    inputs: tuple[InputRow, ...], configured: int | None
) -> tuple[Oid | None, str | None]:
    """(hopper row index, None), or (None, why it cannot be told): never a guess.

    A configured prtInputIndex wins; a single input is the hopper; among several, the one
    input named as a card input that is not fed by hand.
    """
    if configured is not None:
        for row in inputs:
            if row.index[-1] == configured:
                return row.index, None
        listed = _index_list(inputs) or "none"
        return None, (
            f"hopper_input={configured} names no prtInputTable row (the agent lists: {listed})"
        )
    if not inputs:
        return None, "the agent lists no input (prtInputTable)"
    if len(inputs) == 1:
        return inputs[0].index, None
    named = [
        row
        for row in inputs
        if row.input_type != mib.INPUT_TYPE_MANUAL
        and any(
            _CARD_WORDS.search(text or "") for text in (row.name, row.description, row.media_name)
        )
    ]
    if len(named) == 1:
        return named[0].index, None
    fix = "set hopper_input=INDEX in the status URI"
    if not named:
        return None, (
            f"{len(inputs)} inputs ({_index_list(inputs)}) and none is named as a card "
            f"hopper; {fix}"
        )
    return None, f"several inputs look like the card hopper ({_index_list(named)}); {fix}"


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
    type_rows = d.rows(mib.PRT_INPUT_TYPE)
    max_rows = d.rows(mib.PRT_INPUT_MAX_CAPACITY)
    level_rows = d.rows(mib.PRT_INPUT_CURRENT_LEVEL)
    media_rows = d.rows(mib.PRT_INPUT_MEDIA_NAME)
    name_rows = d.rows(mib.PRT_INPUT_NAME)
    descr_rows = d.rows(mib.PRT_INPUT_DESCRIPTION)
    return tuple(
        InputRow(
            index=i,
            name=d.text(mib.PRT_INPUT_NAME, i, name_rows.get(i)),
            capacity=d.level(mib.PRT_INPUT_MAX_CAPACITY, i, max_rows.get(i)),
            level=d.level(mib.PRT_INPUT_CURRENT_LEVEL, i, level_rows.get(i)),
            input_type=d.integer(mib.PRT_INPUT_TYPE, i, type_rows.get(i)),
            media_name=d.text(mib.PRT_INPUT_MEDIA_NAME, i, media_rows.get(i)),
            description=d.text(mib.PRT_INPUT_DESCRIPTION, i, descr_rows.get(i)),
        )
        for i in _index_order(type_rows, max_rows, level_rows, media_rows, name_rows, descr_rows)
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
