"""`printd probe snmp://HOST…`: read a printer's status and supplies once and show them.

Human table by default, `--json` for scripts. Exit status follows the error class
(`printd.errors`): 0 read, 69 no answer, 76 garbage, 78 bad URI or credentials.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from printd.drivers.snmp import (
    SnmpPoller,
    SnmpReading,
    SupplyRow,
    parse_snmp_uri,
    status_from_reading,
)
from printd.drivers.snmp.mib import (
    ALERT_SEVERITY_NAMES,
    COVER_STATUS_NAMES,
)
from printd.drivers.status import Level, LevelKind, PrinterStatus
from printd.errors import PrintdError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="printd probe",
        description="Read a printer's Printer-MIB status and supplies over SNMP, once.",
    )
    p.add_argument(
        "uri",
        help="snmp://HOST[:PORT]?version=2c&community=NAME, or version=3&user=U&auth_key_file=…",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds per try (default 2)")
    p.add_argument("--retries", type=int, default=1, help="retries after a timeout (default 1)")
    return p


def _level(level: Level) -> str:
    if level.kind is LevelKind.KNOWN:
        return str(level.value)
    return {
        LevelKind.UNRESTRICTED: "unrestricted(-1)",
        LevelKind.UNKNOWN: "unknown(-2)",
        LevelKind.SOME_REMAINING: "some left(-3)",
    }[level.kind]


def _level_json(level: Level) -> dict[str, Any]:
    return {"kind": level.kind.value, "value": level.value}


def _index(index: tuple[int, ...] | None) -> str:
    return ".".join(map(str, index)) if index else "-"


def _text(value: str | None) -> str:
    """A column the agent left out shows as "-": never a name made up here."""
    return "-" if value is None else value


def _enum(names: dict[int, str], value: int | None) -> str:
    """An enumeration by its RFC name, else its number as sent; "-" when absent."""
    if value is None:
        return "-"
    return names.get(value, str(value))


def _share(row: SupplyRow) -> str:
    """What the level means for this class: a receptacle fills up, a supply runs down."""
    fraction = row.remaining_fraction
    if fraction is None:
        return "-"
    if row.is_receptacle:
        return f"{(1 - fraction) * 100:.0f}% full"
    return f"{fraction * 100:.0f}% left"


def to_json(reading: SnmpReading, status: PrinterStatus) -> dict[str, Any]:
    s = status.supplies
    return {
        "agent": reading.address,
        "method": reading.method,
        "duration_seconds": round(reading.duration_seconds, 6),
        "sys_descr": reading.sys_descr,
        "serial_number": reading.serial_number,
        "device_index": _index(reading.device_index) if reading.device_index else None,
        "hopper_input": _index(reading.hopper_index) if reading.hopper_index else None,
        "hopper_unknown_because": reading.hopper_reason,
        "uptime_seconds": reading.uptime_seconds,
        "state": status.state.value,
        "conditions": sorted(c.value for c in status.conditions),
        "hr_device_status": reading.device_status_name,
        "hr_printer_status": reading.printer_status_name,
        "error_state_hex": None if reading.error_state is None else reading.error_state.hex(),
        "error_bits": sorted(reading.error_bits),
        "supplies": {
            "hopper_level": _level_json(s.hopper_level),
            "hopper_capacity": _level_json(s.hopper_capacity),
            "ribbon_type": s.ribbon_type,
            "ribbon_remaining": _level_json(s.ribbon_remaining),
            "ribbon_capacity": _level_json(s.ribbon_capacity),
        },
        "supply_rows": [
            {
                "index": _index(r.index),
                "class": r.supply_class,
                "class_name": r.class_name,
                "type": r.supply_type,
                "type_name": r.type_name,
                "unit": r.unit,
                "unit_name": r.unit_name,
                "description": r.description,
                "level": _level_json(r.level),
                "max_capacity": _level_json(r.capacity),
                "receptacle": r.is_receptacle,
                "remaining_fraction": r.remaining_fraction,
            }
            for r in reading.supplies
        ],
        "inputs": [
            {
                "index": _index(r.index),
                "name": r.name,
                "description": r.description,
                "media_name": r.media_name,
                "type": r.input_type,
                "level": _level_json(r.level),
                "max_capacity": _level_json(r.capacity),
            }
            for r in reading.inputs
        ],
        "covers": [
            {"index": _index(c.index), "description": c.description, "open": c.is_open}
            for c in reading.covers
        ],
        "alerts": [
            {
                "index": _index(a.index),
                "severity": ALERT_SEVERITY_NAMES.get(a.severity or 0, a.severity),
                "group": a.group,
                "code": a.code,
                "description": a.description,
            }
            for a in reading.alerts
        ],
        "life_count": reading.life_count,
        "absent_tables": list(reading.absent_tables),
        "problems": list(reading.problems),
    }


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def to_text(reading: SnmpReading, status: PrinterStatus) -> str:
    s = status.supplies
    out = [
        (
            f"agent       {reading.address}  ({reading.method}, "
            f"{reading.duration_seconds * 1000:.1f} ms)"
        ),
        f"sysDescr    {reading.sys_descr or '-'}",
        f"serial      {_text(reading.serial_number)}",
        f"state       {status.state.value}  ({status.detail})",
        f"conditions  {', '.join(sorted(c.value for c in status.conditions)) or 'none'}",
        (
            f"hopper      input {_index(reading.hopper_index)}: {_level(s.hopper_level)} / "
            f"{_level(s.hopper_capacity)} blanks"
            if reading.hopper_reason is None
            else f"hopper      unknown: {reading.hopper_reason}"
        ),
        (
            f"ribbon      {s.ribbon_type or '-'}  {_level(s.ribbon_remaining)} / "
            f"{_level(s.ribbon_capacity)} prints"
        ),
        f"life count  {reading.life_count if reading.life_count is not None else '-'}",
    ]
    if reading.supplies:
        out.append("supplies")
        rows = [["index", "class", "type", "description", "level", "max", "unit", "share"]]
        rows += [
            [
                _index(r.index),
                _text(r.class_name),
                _text(r.type_name),
                _text(r.description),
                _level(r.level),
                _level(r.capacity),
                _text(r.unit_name),
                _share(r),
            ]
            for r in reading.supplies
        ]
        out += _table(rows)
    if reading.inputs:
        out.append("inputs")
        rows = [["index", "name", "description", "media", "level", "max"]]
        rows += [
            [
                _index(r.index) + (" (hopper)" if r.index == reading.hopper_index else ""),
                _text(r.name),
                _text(r.description),
                _text(r.media_name),
                _level(r.level),
                _level(r.capacity),
            ]
            for r in reading.inputs
        ]
        out += _table(rows)
    if reading.covers:
        out.append("covers")
        rows = [["index", "description", "status"]]
        rows += [
            [_index(c.index), _text(c.description), _enum(COVER_STATUS_NAMES, c.status)]
            for c in reading.covers
        ]
        out += _table(rows)
    if reading.alerts:
        out.append("alerts")
        rows = [["index", "severity", "group", "code", "description"]]
        rows += [
            [
                _index(a.index),
                _enum(ALERT_SEVERITY_NAMES, a.severity),
                _enum({}, a.group),
                _enum({}, a.code),
                _text(a.description),
            ]
            for a in reading.alerts
        ]
        out += _table(rows)
    if reading.absent_tables:
        out.append(f"not implemented by the agent: {', '.join(reading.absent_tables)}")
    for problem in reading.problems:
        out.append(f"problem: {problem}")
    return "\n".join(out)


async def _probe(uri: str, timeout: float, retries: int) -> SnmpReading:
    poller = SnmpPoller(parse_snmp_uri(uri), timeout=timeout, retries=retries)
    try:
        return await poller.poll()
    finally:
        await poller.aclose()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        reading = asyncio.run(_probe(args.uri, args.timeout, args.retries))
    except PrintdError as e:
        if args.json:
            print(json.dumps({"error": type(e).__name__, "message": str(e)}))
        else:
            print(f"printd probe: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    status = status_from_reading(reading)
    if args.json:
        print(json.dumps(to_json(reading, status), indent=2))
    else:
        print(to_text(reading, status))
    return 0
