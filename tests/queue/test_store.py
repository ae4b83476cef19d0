"""The store on a real SQLite file: state machine, idempotent submit, ledger balance, audit
chain, migrations and the bad files a station can meet."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from printd.errors import ConflictError, NotFoundError, StoreError
from printd.queue.jobs import TRANSITIONS, JobState
from printd.queue.ledger import Entry, Item, Kind
from printd.queue.migrations import MIGRATIONS
from printd.queue.store import JobSpec, Store

SPEC = JobSpec("job-1", "ktp-el", {"nik": "9901010101900001", "name": "CONTOH"}, 1)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "state")
    s.open()
    return s


def put_in_state(store: Store, job_id: str, state: JobState) -> None:
    """Walk a fresh job to `state` along legal transitions."""
    paths = {
        JobState.QUEUED: [],
        JobState.HELD: [JobState.HELD],
        JobState.PRINTING: [JobState.PRINTING],
        JobState.PRINTED: [JobState.PRINTING, JobState.PRINTED],
        JobState.SPOILED: [JobState.PRINTING, JobState.SPOILED],
        JobState.INTERRUPTED: [JobState.PRINTING, JobState.INTERRUPTED],
        JobState.FAILED: [JobState.PRINTING, JobState.FAILED],
        JobState.CANCELLED: [JobState.CANCELLED],
    }
    store.submit(JobSpec(job_id, "ktp-el", SPEC.holder, 1), [b"img"], actor="t")
    for step in paths[state]:
        store.transition(job_id, step, actor="t")


@pytest.mark.parametrize(("source", "target"), list(itertools.product(JobState, JobState)))
def test_every_pair_of_states(store: Store, source: JobState, target: JobState) -> None:
    put_in_state(store, "j", source)
    if target in TRANSITIONS[source]:
        assert store.transition("j", target, actor="t").state is target
    else:
        with pytest.raises(ConflictError, match=f"cannot become {target}"):
            store.transition("j", target, actor="t")
        assert store.get("j").state is source
    assert store.verify_chain() is None


def test_resubmit_is_idempotent_and_a_changed_job_is_a_conflict(store: Store) -> None:
    first, created = store.submit(SPEC, [b"front"], actor="t")
    again, created_again = store.submit(SPEC, [b"front"], actor="t")
    assert created and not created_again and again.seq == first.seq
    with pytest.raises(ConflictError, match="different content"):
        store.submit(SPEC, [b"another picture"], actor="t")
    assert store.total("jobs_submitted") == 1


def test_a_printing_job_found_at_start_is_interrupted_never_requeued(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.open()
    store.submit(SPEC, [b"front"], actor="t")
    store.transition(SPEC.id, JobState.PRINTING, actor="t")
    store.close()
    reopened = Store(tmp_path)
    reopened.open()
    assert reopened.interrupt_orphans() == [SPEC.id]
    job = reopened.get(SPEC.id)
    assert job.state is JobState.INTERRUPTED
    assert "reconcile" in (job.last_reason or "")
    assert reopened.next_queued() is None


def test_ledger_balances_and_personal_data_stays_in_the_job_row(store: Store) -> None:
    store.book(
        [Entry(Item.BLANKS, Kind.RECEIVED, 100), Entry(Item.RIBBONS, Kind.RECEIVED, 1)], actor="t"
    )
    store.book([Entry(Item.BLANKS, Kind.LOADED, 30, "p1")], actor="t")
    store.book([Entry(Item.BLANKS, Kind.UNLOADED, 5, "p1")], actor="t")
    store.submit(SPEC, [b"front"], actor="t")
    store.transition(SPEC.id, JobState.PRINTING, actor="t", printer="p1")
    store.transition(
        SPEC.id,
        JobState.PRINTED,
        actor="t",
        entries=[Entry(Item.BLANKS, Kind.PRINTED, 1, "p1", job_id=SPEC.id)],
    )
    store.book([Entry(Item.BLANKS, Kind.SPOILED, 1, "p1", "jam")], actor="t")
    assert store.total("hopper", "p1") == 30 - 5 - 1 - 1
    assert store.total("stock_blanks") == 100 - 30 + 5
    assert store.total("cards_spoiled", "p1", "jam") == 1
    dump = "\n".join(store.db.iterdump())
    for table_line in (x for x in dump.splitlines() if not x.startswith('INSERT INTO "jobs"')):
        assert SPEC.holder["nik"] not in table_line and "CONTOH" not in table_line
    assert store.verify_chain() is None


def test_audit_chain_names_the_first_broken_link(store: Store) -> None:
    for i in range(5):
        store.submit(JobSpec(f"j{i}", "ktp-el", SPEC.holder, 1), [b"x"], actor="t")
    store.db.execute("UPDATE events SET actor = 'mallory' WHERE seq = 3")
    assert store.verify_chain() == 3


def test_final_jobs_leave_no_images_behind(store: Store) -> None:
    store.submit(SPEC, [b"front", b"back"], actor="t")
    front, back = store.image_paths(SPEC.id)
    assert front.read_bytes() == b"front" and back is not None
    store.transition(SPEC.id, JobState.CANCELLED, actor="t")
    assert not front.exists()


def test_unknown_job(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no job 'nope'"):
        store.get("nope")


def test_each_migration_upgrades_a_file_of_the_previous_version(tmp_path: Path) -> None:
    for version in range(1, len(MIGRATIONS)):
        path = tmp_path / f"v{version}"
        path.mkdir()
        db = sqlite3.connect(path / "printd.sqlite3", isolation_level=None)
        for migration in MIGRATIONS[:version]:
            migration(db)
        db.execute(f"PRAGMA user_version={version}")
        db.execute("PRAGMA application_id=0x50524E44")
        db.execute(
            "INSERT INTO jobs (id, state, document, holder, sides, content_hash, submitted_at,"
            " updated_at) VALUES ('old', 'queued', 'ktp-el', '{}', 1, 'h', 1, 1)"
        )
        db.close()
        store = Store(path)
        store.open()
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert store.get("old").state is JobState.QUEUED
        store.close()


def test_a_migration_that_fails_leaves_the_file_at_the_version_before(tmp_path: Path) -> None:
    # A version 3 file whose jobs table already has the column migration 4 adds (edited by
    # hand, or a half-restored backup): migration 4 fails inside its own transaction.
    db = sqlite3.connect(tmp_path / "printd.sqlite3", isolation_level=None)
    for migration in MIGRATIONS[:3]:
        migration(db)
    db.execute("ALTER TABLE jobs ADD COLUMN printer_ready INTEGER")
    db.execute("PRAGMA user_version=3")
    db.execute("PRAGMA application_id=0x50524E44")
    db.close()
    with pytest.raises(
        StoreError,
        match=r"is not a printd database or is damaged \(duplicate column name: printer_ready\);",
    ):
        Store(tmp_path).open()
    db = sqlite3.connect(tmp_path / "printd.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'outbox'").fetchone()[0] == 0
    db.close()


def test_a_corrupt_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    tmp_path.joinpath("printd.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(
        StoreError,
        match=r"not a printd database or is damaged \(file is not a database\); "
        "restore it from a backup or move it aside to start empty$",
    ):
        Store(tmp_path).open()
    assert tmp_path.joinpath("printd.sqlite3").read_bytes().startswith(b"this is not")


def test_a_foreign_database_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "printd.sqlite3")
    db.execute("CREATE TABLE photos (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(
        StoreError, match=r"belongs to another program .*; point state_dir at printd's own folder$"
    ):
        Store(tmp_path).open()


def test_a_database_from_a_newer_printd_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.open()
    store.db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    store.close()
    with pytest.raises(StoreError, match="newer printd"):
        Store(tmp_path).open()


def test_a_read_only_state_dir_is_refused_clearly(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        # root ignores permission bits: make the folder read-only by mounting is not possible
        # here, so prove the message through a state dir below a file instead.
        blocker = tmp_path / "file"
        blocker.write_text("")
        with pytest.raises(StoreError, match="cannot write"):
            Store(blocker / "state").open()
        return
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="not writable"):
            Store(tmp_path / "state").open()
    finally:
        tmp_path.chmod(0o700)


FULL_DISK_SCRIPT = """
import resource, signal, sys
from pathlib import Path
from printd.errors import StoreError
from printd.queue.store import JobSpec, Store

store = Store(Path(sys.argv[1]))
store.open()
holder = {"nik": "9901010101900001", "name": "CONTOH"}
store.submit(JobSpec("job-1", "ktp-el", holder, 1), [b"front"], actor="t")
# From here on the kernel refuses to grow any file past 64 KiB, as a full disk would.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
try:
    store.submit(JobSpec("job-2", "ktp-el", holder, 1), [b"x" * 200_000], actor="t")
except StoreError as error:
    print("REFUSED:", error)
print("JOBS:", [j.id for j in store.jobs()])
print("CHAIN:", store.verify_chain())
"""


def test_a_full_disk_fails_the_submit_and_keeps_the_last_good_state(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "REFUSED:" in result.stdout and "is full: free space and retry" in result.stdout
    assert "JOBS: ['job-1']" in result.stdout
    assert "CHAIN: None" in result.stdout
    assert not list((tmp_path / "spool").glob(".job-2*"))
    assert not (tmp_path / "spool" / "job-2").exists()


def test_printed_images_stay_for_the_retention_then_go(tmp_path: Path) -> None:
    now = [1_000_000.0]
    store = Store(tmp_path, clock=lambda: now[0], retention_seconds=86_400)
    store.open()
    for job_id in ("kept", "cancelled"):
        store.submit(
            JobSpec(job_id, "ktp-el", SPEC.holder, 1), [b"front-" + job_id.encode()], actor="t"
        )
    store.transition("kept", JobState.PRINTING, actor="t")
    store.transition("kept", JobState.PRINTED, actor="t")
    store.transition("cancelled", JobState.CANCELLED, actor="t")
    assert store.image_paths("kept")[0].read_bytes() == b"front-kept"  # for a reprint
    assert not store.image_paths("cancelled")[0].exists()  # cancel removes at once
    now[0] += 3600
    assert store.purge_expired_images() == 0
    now[0] += 86_400
    assert store.purge_expired_images() == 1
    assert not store.image_paths("kept")[0].exists()
    assert store.db.execute("SELECT count(*) FROM images").fetchone()[0] == 0


def test_reprints_are_counted_however_long_the_history(store: Store) -> None:
    store.submit(SPEC, [b"front"], actor="t")
    for n in range(3):
        spec = JobSpec(f"{SPEC.id}.r{n + 1}", "ktp-el", SPEC.holder, 1)
        store.submit(spec, [b"front"], actor="t", reprint_of=SPEC.id)
    for i in range(1005):  # more jobs than the API lists
        store.submit(JobSpec(f"other-{i}", "ktp-el", SPEC.holder, 1), [b"x"], actor="t")
    assert store.reprint_count(SPEC.id) == 3
    assert len(store.jobs()) == 1000  # the list stops at its default length
