"""What a simulated printer keeps while the process that runs it is gone.

A real printer keeps its blanks, its ribbon, its reject box and its jam when printd stops or
is killed; the simulator lives inside printd's process. So the simulator writes its physical
state to a small file after every change, under its own lock, and reads it back when it is
made again: after a restart printd meets the printer as it was left, and its own ledger can
disagree with it, as with a real printer. The counters (`Rco;c`, cards ejected…) count one life
of the simulator and are not kept.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

KEPT = (
    "hopper",
    "ribbon_type",
    "ribbon_capacity",
    "ribbon_remaining",
    "reject_box",
    "cover_open",
    "jammed",
    "needs_cleaning",
)


def read_kept(path: Path) -> dict[str, Any]:
    """The state a previous life left; empty when there is none or it cannot be read (a
    printer whose memory is gone starts as configured)."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: loaded[k] for k in KEPT if isinstance(loaded, dict) and k in loaded}


class KeepingCondition(threading.Condition):
    """The printer's lock: whoever changed the state under it, the change is written before
    the lock is let go (every change in the model happens inside `with self._cond`)."""

    def __init__(self, lock: Any, state: Callable[[], dict[str, Any]], path: Path) -> None:
        super().__init__(lock)
        self._state = state
        self._path = path
        self._written: dict[str, Any] | None = None

    def __exit__(self, *exc_info: Any) -> None:
        try:
            current = self._state()
            if current != self._written:
                temporary = self._path.with_suffix(".tmp")
                temporary.write_text(json.dumps(current), encoding="utf-8")
                temporary.replace(self._path)
                self._written = current
        except OSError:
            pass  # a printer without a memory still prints; it only forgets on restart
        finally:
            super().__exit__(*exc_info)
