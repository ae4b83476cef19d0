"""The messages printctl asks the catalog for, read from its source (like xgettext)."""

from __future__ import annotations

import ast
from pathlib import Path

from printd.cli.i18n import (
    ARGPARSE_MESSAGES,
    DAEMON_MESSAGES,
    JOB_REASONS,
    JOBFILE_MESSAGES,
    LEDGER_LINES,
)
from printd.cli.render import FINISHED_STATES, MONTHS, WAITING_STATES
from printd.drivers.status import OPERATOR_HINTS, Condition, PrinterState
from printd.queue.jobs import JobState
from tests.conftest import REPO

SOURCES = [REPO / "printd" / "cli" / n for n in ("ctl.py", "render.py", "client.py")]
# The counter console asks the same catalog for its words.
SOURCES += sorted((REPO / "printd" / "console").glob("*.py"))
PRINTER_STATES = tuple(s.value for s in PrinterState)
CONDITIONS = tuple(c.value for c in Condition)
JOB_STATES = tuple(s.value for s in JobState)
SPOIL_REASONS = (
    "rejected",
    "ribbon_out",
    "jam",
    "cover_open",
    "printer_error",
    "interrupted",
    "unspecified",
)
EVENT_KINDS = ("job", "ledger", "printer")  # printd/queue/store.py `_event(kind=...)`


def _string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def source_msgids(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in ("_", "gettext"):
            text = _string(node.args[0])
            if text is not None:
                found.add(text)
        elif name == "ngettext" and len(node.args) >= 2:
            one, many = _string(node.args[0]), _string(node.args[1])
            if one is not None and many is not None:
                found.add(f"{one}\0{many}")  # how gettext keys a plural message
    return found


def expected_keys() -> set[str]:
    keys: set[str] = set()
    for path in SOURCES:
        keys |= source_msgids(path)
    keys |= set(DAEMON_MESSAGES)
    keys |= set(ARGPARSE_MESSAGES)
    keys |= set(JOB_REASONS)
    keys |= set(JOBFILE_MESSAGES)
    keys |= set(LEDGER_LINES)
    keys |= {f"event kind\x04{k}" for k in EVENT_KINDS}
    keys |= set(MONTHS)  # asked for by number, so no literal call names them
    keys |= set(OPERATOR_HINTS.values())  # the advice in a printer's "To do" line
    keys |= {f"job state\x04{s}" for s in (*JOB_STATES, *WAITING_STATES, *FINISHED_STATES)}
    keys |= {f"printer state\x04{s}" for s in PRINTER_STATES}
    keys |= {f"condition\x04{c}" for c in CONDITIONS}
    keys |= {f"spoil reason\x04{r}" for r in SPOIL_REASONS}
    return keys
