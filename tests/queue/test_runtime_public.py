"""What one printer's runtime shows `printctl status`, the console and /metrics: every field of
`PrinterRuntime.public()`, read back whole, and the printer's own hopper count that printd's is
held against."""

from __future__ import annotations

import time

from printd.drivers.status import (
    Condition,
    Identity,
    Level,
    LevelKind,
    PrinterState,
    PrinterStatus,
    Supplies,
)
from printd.queue.dispatcher import PrinterRuntime

USB = PrinterStatus(
    PrinterState.NEEDS_OPERATOR,
    frozenset({Condition.COVER_OPEN, Condition.HOPPER_EMPTY}),
    Supplies(hopper_level=Level.known(0), ribbon_type="ymcko"),  # the feeder sensor: empty
    commands="commands: Rse;f yes, Pcim;F refused",
)
SNMP = PrinterStatus(
    PrinterState.NEEDS_OPERATOR,
    frozenset({Condition.REJECT_BOX_FULL, Condition.JAM}),
    Supplies(hopper_level=Level.known(11), ribbon_remaining=Level.known(300)),
    source="snmp",
)


def _runtime() -> PrinterRuntime:
    return PrinterRuntime(
        "counter-1",
        state=PrinterState.NEEDS_OPERATOR,
        conditions={Condition.COVER_OPEN, Condition.HOPPER_EMPTY},
        reason="cover open",
        up=True,
        identity=Identity("Evolis", "Primacy", "PRI0001", "1.2.3"),
        status=USB,
        current_job="job-7",
        printer_ribbon_remaining=301,
    )


def test_everything_known_of_a_printer_is_shown_field_by_field() -> None:
    runtime = _runtime()
    assert runtime.public() == {
        "name": "counter-1",
        "state": "needs_operator",
        "conditions": ["cover_open", "hopper_empty"],
        "reason": "cover open",
        "up": True,
        "model": "Primacy",
        "serial": "PRI0001",
        "firmware": "1.2.3",
        "current_job": "job-7",
        "printer_hopper": 0,
        "printer_ribbon_remaining": 301,
        "printer_ribbon_type": "ymcko",
        "firmware_commands": "commands: Rse;f yes, Pcim;F refused",
        "snmp": None,  # no agent configured
    }


def test_a_printer_never_reached_shows_nothing_it_does_not_know() -> None:
    assert PrinterRuntime("counter-2").public() == {
        "name": "counter-2",
        "state": "unknown",
        "conditions": [],
        "reason": "",
        "up": False,
        "model": None,
        "serial": None,
        "firmware": None,
        "current_job": None,
        "printer_hopper": None,
        "printer_ribbon_remaining": None,
        "printer_ribbon_type": None,
        "firmware_commands": None,
        "snmp": None,
    }


def test_the_snmp_agents_reading_is_shown_with_its_age_and_its_problems() -> None:
    runtime = _runtime()
    runtime.snmp_up = True
    runtime.snmp_status = SNMP
    runtime.snmp_read_at = time.time() - 30
    runtime.snmp_problems = ("prtInputCurrentLevel above its capacity",)
    runtime.snmp_serial = "PRI0001"
    runtime.snmp_hopper_unknown = "the agent reports -3 (some remaining)"
    runtime.disagreements = ("hopper: printd counts 12, the agent 11",)
    snmp = runtime.public()["snmp"]
    age = snmp.pop("read_seconds_ago")
    assert 30 <= age < 30 + 3600  # the upper bound only catches nonsense, never a slow machine
    assert isinstance(age, float) and age == round(age, 1)  # tenths of a second
    assert snmp == {
        "up": True,
        "state": "needs_operator",
        "conditions": ["jam", "reject_box_full"],
        "hopper": 11,
        "ribbon_remaining": 300,
        "disagreements": ["hopper: printd counts 12, the agent 11"],
        "error": None,
        "problems": ["prtInputCurrentLevel above its capacity"],
        "serial": "PRI0001",
        "hopper_unknown_because": "the agent reports -3 (some remaining)",
    }


def test_an_agent_that_stopped_answering_says_why_and_shows_no_reading() -> None:
    runtime = _runtime()
    runtime.snmp_up = False
    runtime.snmp_error = "no answer from 127.0.0.1:1161"
    assert runtime.public()["snmp"] == {
        "up": False,
        "state": None,
        "conditions": [],
        "hopper": None,
        "ribbon_remaining": None,
        "disagreements": [],
        "read_seconds_ago": None,
        "error": "no answer from 127.0.0.1:1161",
        "problems": [],
        "serial": None,
        "hopper_unknown_because": None,
    }


def test_a_reading_stamped_ahead_of_the_stations_clock_is_never_negative() -> None:
    runtime = _runtime()
    runtime.snmp_up = True
    runtime.snmp_read_at = time.time() + 3600  # the clock was stepped back since
    assert runtime.public()["snmp"]["read_seconds_ago"] == 0.0


def test_the_printers_own_hopper_count_prefers_the_agent_then_an_empty_feeder() -> None:
    runtime = _runtime()
    assert runtime.printer_hopper_count() == 0  # the feeder sensor reads empty
    runtime.snmp_status = SNMP
    assert runtime.printer_hopper_count() == 11
    some = Supplies(hopper_level=Level(LevelKind.SOME_REMAINING))  # "cards", not how many
    runtime.snmp_status = PrinterStatus(PrinterState.IDLE, supplies=some)
    assert runtime.printer_hopper_count() == 0
    runtime.status = PrinterStatus(PrinterState.IDLE, supplies=some)
    assert runtime.printer_hopper_count() is None
    runtime.status = None
    runtime.snmp_status = None
    assert runtime.printer_hopper_count() is None
