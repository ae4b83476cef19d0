"""What the store promises beyond one process's view of it: a commit is on the disk before the
call that made it returns, and a transaction that rolls back leaves no trace, not even in the
audit chain's memory of its last link."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from printd.errors import ConflictError
from printd.queue.jobs import JobState
from printd.queue.ledger import Entry, Item, Kind
from printd.queue.store import JobSpec, Store
from tests.conftest import require_tool

HOLDER = {"nik": "9901010101900001", "name": "CONTOH"}
FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "state")
    s.open()
    return s


def test_the_connection_commits_durably(store: Store) -> None:
    """WAL with synchronous=FULL: every commit syncs the log (NORMAL would lose the last
    commits at a power cut, OFF anything since the last checkpoint)."""
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] >= FULL
    # A reopened store sets it again: the pragma is the connection's, not the file's.
    store.close()
    store.open()
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] >= FULL


# One warm-up commit, then the commit under watch between two marks the tracer sees.
COMMIT_SCRIPT = """
import os, sys
from pathlib import Path
from printd.queue.store import JobSpec, Store

store = Store(Path(sys.argv[1]))
store.open()
holder = {"nik": "9901010101900001", "name": "CONTOH"}
store.submit(JobSpec("job-0", "ktp-el", holder, 1), [b"front"], actor="t")
mark = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT)
os.write(mark, b"before")
store.submit(JobSpec("job-1", "ktp-el", holder, 1), [b"front"], actor="t")
os.write(mark, b"after")
"""


def test_a_submit_is_on_the_disk_before_it_returns(tmp_path: Path) -> None:
    """The kernel's view, not SQLite's: between the call and its return the write-ahead log is
    flushed to the disk (fsync or fdatasync). Without that flush a power cut after the reply
    loses a job the caller was told is queued; a SIGKILL cannot show it, the page cache
    survives a killed process."""
    strace = require_tool("strace", "strace")
    trace = tmp_path / "trace"
    state = tmp_path / "state"
    mark = tmp_path / "mark"
    result = subprocess.run(
        [
            *(strace, "-f", "-y", "-qq", "-e", "signal=none", "-e", "trace=write,fsync,fdatasync"),
            *("-o", str(trace), sys.executable, "-c", COMMIT_SCRIPT, str(state), str(mark)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    calls = trace.read_text().splitlines()
    marks = [i for i, line in enumerate(calls) if f"<{mark}>" in line and "write(" in line]
    assert len(marks) == 2, calls
    inside = calls[marks[0] + 1 : marks[1]]
    wal = re.escape(str(state / "printd.sqlite3-wal"))
    flushes = [line for line in inside if re.search(rf"(fsync|fdatasync)\(\d+<{wal}>\)", line)]
    assert flushes, "the commit returned without flushing the log:\n" + "\n".join(inside)


def test_a_rolled_back_transaction_leaves_the_chain_where_it_was(store: Store) -> None:
    """A move that fails half-way (here: printing → cancelled is refused after queued →
    printing was written) rolls back; the chain's last link must roll back with it, or the
    next event chains onto a link that never committed."""
    store.submit(JobSpec("job-1", "ktp-el", HOLDER, 1), [b"img"], actor="t")
    with pytest.raises(ConflictError):
        store.transitions(
            "job-1", [(JobState.PRINTING, None), (JobState.CANCELLED, None)], actor="t"
        )
    assert store.get("job-1").state is JobState.QUEUED
    store.printer_event("counter-1", "an event after the rollback")
    assert store.verify_chain() is None


def test_a_refused_ledger_entry_leaves_the_chain_where_it_was(store: Store) -> None:
    """The same, where the ledger refuses an entry (one it has no rule for) after the job's
    event was written."""
    store.submit(JobSpec("job-1", "ktp-el", HOLDER, 1), [b"img"], actor="t")
    store.transition("job-1", JobState.PRINTING, actor="t")
    with pytest.raises(ValueError, match="no ledger rule"):
        store.transition(
            "job-1",
            JobState.PRINTED,
            actor="t",
            entries=[Entry(Item.RIBBONS, Kind.PRINTED, 1, "counter-1", job_id="job-1")],
        )
    assert store.get("job-1").state is JobState.PRINTING
    store.transition("job-1", JobState.INTERRUPTED, actor="t")
    assert store.verify_chain() is None
