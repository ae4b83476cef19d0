"""What the store gives back, on a real SQLite file: every field of a job as the API and
`printctl` read it, the lists and their order, the audit trail, the running totals, the
ledger's time window, the card images (inline and spooled) and the words of a failed write."""

from __future__ import annotations

import errno
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from printd.errors import ConflictError, NotFoundError, StoreError
from printd.queue.jobs import JobState
from printd.queue.ledger import Entry, Item, Kind
from printd.queue.ribbons import prints_on
from printd.queue.store import (
    GENESIS_HASH,
    INLINE_IMAGE_BYTES,
    Job,
    JobSpec,
    Store,
    _describe_os_error,
)
from tests.queue.station import Clock

HOLDER = {"nik": "9901010101900001", "name": "ÉLIA CONTOH"}
BIG = INLINE_IMAGE_BYTES  # with any back, the pair is past the inline limit: spooled


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    s = Store(tmp_path / "state", clock=clock)
    s.open()
    yield s
    s.close()


def spec(job_id: str, **fields: object) -> JobSpec:
    values: dict[str, object] = {"document": "ktp-el", "holder": HOLDER, "sides": 1}
    values.update(fields)
    return JobSpec(job_id, **values)  # type: ignore[arg-type]


# ---- a job, field by field ---------------------------------------------------------------


def test_a_submitted_job_reads_back_as_it_was_returned(store: Store, clock: Clock) -> None:
    clock.now = 1_234.5
    full = spec("full", sides=2, priority=7, batch="b-12", ribbon_type="ymcko")
    job, created = store.submit(full, [b"front", b"back"], actor="op", reprint_of="orig")
    assert created
    assert job == Job(
        seq=1,
        id="full",
        state=JobState.QUEUED,
        priority=7,
        document="ktp-el",
        batch="b-12",
        sides=2,
        printer=None,
        attempts=0,
        reprint_of="orig",
        submitted_at=1_234.5,
        updated_at=1_234.5,
        last_reason=None,
        printer_ready=False,
    )
    assert store.get("full") == job
    raw, _ = store.submit(spec("raw.prn", printer_ready=True), [b"\x1bE"], actor="op")
    assert raw.printer_ready is True and raw.seq == 2
    assert store.get("raw.prn") == raw
    row = store.db.execute(
        "SELECT ribbon_type, content_hash, holder FROM jobs WHERE id = 'full'"
    ).fetchone()
    assert row[0] == "ymcko" and len(row[1]) == 64
    assert json.loads(row[2]) == HOLDER


def test_a_moved_job_reads_back_with_every_field(store: Store, clock: Clock) -> None:
    store.submit(spec("j", priority=3, batch="b"), [b"f"], actor="op")
    clock.now = 2_000.0
    store.transition("j", JobState.PRINTING, actor="printd", printer="p1", count_attempt=True)
    clock.now = 2_050.0
    store.transition("j", JobState.PRINTED, actor="printd", reason="card out")
    assert store.get("j") == Job(
        1, "j", JobState.PRINTED, 3, "ktp-el", "b", 1, "p1", 1, None, 1_000.0, 2_050.0, "card out"
    )


def test_what_the_api_shows_of_a_job_leaves_out_the_holder(store: Store) -> None:
    store.submit(spec("j", priority=2, batch="b"), [b"f"], actor="op", reprint_of="old")
    store.transition("j", JobState.HELD, actor="op", reason="photo to check")
    assert store.get("j").public() == {
        "id": "j",
        "state": "held",
        "priority": 2,
        "document": "ktp-el",
        "batch": "b",
        "sides": 1,
        "printer": None,
        "attempts": 0,
        "reprint_of": "old",
        "submitted_at": 1_000.0,
        "updated_at": 1_000.0,
        "reason": "photo to check",
        "printer_ready": False,
    }


def test_the_holder_is_kept_whole_and_an_unknown_job_is_named(store: Store) -> None:
    store.submit(spec("j"), [b"f"], actor="op")
    assert store.holder("j") == HOLDER
    with pytest.raises(NotFoundError, match=r"^no job 'ghost'$"):
        store.holder("ghost")
    with pytest.raises(NotFoundError, match=r"^no job 'ghost'; `printctl jobs` lists the jobs$"):
        store.get("ghost")


def test_a_batch_gets_seqs_in_order_and_a_repeated_id_its_first_job(store: Store) -> None:
    store.submit(spec("before"), [b"x"], actor="op")
    results = store.submit_many(
        [(spec("a"), [b"1"]), (spec("b"), [b"2"]), (spec("a"), [b"1"]), (spec("c"), [b"3"])],
        actor="intake",
        reason="from the office queue",
    )
    assert [(job.id, job.seq, created) for job, created in results] == [
        ("a", 2, True),
        ("b", 3, True),
        ("a", 2, False),
        ("c", 4, True),
    ]
    assert [store.get(i).seq for i in "abc"] == [2, 3, 4]
    assert [e["reason"] for e in store.events("b")] == ["from the office queue"]
    assert store.total("jobs_submitted") == 4
    assert store.total("jobs_state", label="queued") == 4


def test_ids_already_stored_are_found_however_large_the_batch(store: Store) -> None:
    # The stored hashes are read a chunk of ids at a time: ids on both sides of a chunk's edge.
    for index in (0, 499, 500, 1000):
        store.submit(spec(f"j{index}"), [b"old"], actor="op")
    batch = [(spec(f"j{i}"), [b"new" if i in (499, 500, 1000) else b"old"]) for i in range(1001)]
    results = store.submit_each(batch, actor="op")
    refused = [i for i, r in enumerate(results) if isinstance(r, ConflictError)]
    assert refused == [499, 500, 1000]
    kept = [r for r in results if not isinstance(r, ConflictError)]
    assert [created for _, created in kept].count(False) == 1  # j0, unchanged
    with pytest.raises(ConflictError, match="job j1000 already exists with different content"):
        store.submit_many(batch[995:], actor="op")


def _stored_hash(fields: list[object], images: list[bytes]) -> str:
    """The content hash's stored format, written out: jobs stored by earlier versions are
    compared against it on every resubmit, so it must never drift."""
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode())
    for image in images:
        digest.update(hashlib.sha256(image).digest())
    return digest.hexdigest()


def test_the_content_hash_keeps_its_stored_format(store: Store) -> None:
    store.submit(spec("j", sides=2, priority=1, batch="b"), [b"F", b"B"], actor="op")
    store.submit(spec("j.prn", printer_ready=True), [b"raw"], actor="op")
    stored = dict(store.db.execute("SELECT id, content_hash FROM jobs").fetchall())
    assert stored["j"] == _stored_hash(["j", "ktp-el", HOLDER, 2, 1, "b"], [b"F", b"B"])
    assert stored["j.prn"] == _stored_hash(
        ["j.prn", "ktp-el", HOLDER, 1, 0, None, "printer_ready"], [b"raw"]
    )


def test_a_job_resent_in_another_batch_is_a_conflict(store: Store) -> None:
    store.submit(spec("j", batch="monday"), [b"F"], actor="op")
    with pytest.raises(ConflictError, match="job j already exists with different content"):
        store.submit(spec("j", batch="tuesday"), [b"F"], actor="op")


def test_a_reprint_is_submitted_with_its_reason(store: Store) -> None:
    store.submit(spec("j"), [b"F"], actor="op")
    store.submit(spec("j.r1"), [b"F"], actor="op", reprint_of="j", reason="reprint of j: smudged")
    assert [e["reason"] for e in store.events("j.r1")] == ["reprint of j: smudged"]


# ---- lists -------------------------------------------------------------------------------


def test_jobs_list_newest_first_by_state_and_up_to_the_limit(store: Store) -> None:
    for name in ("a", "b", "c", "d"):
        store.submit(spec(name), [b"f"], actor="op")
    store.transition("b", JobState.HELD, actor="op")
    store.transition("d", JobState.HELD, actor="op")
    assert [j.id for j in store.jobs()] == ["d", "c", "b", "a"]
    assert [j.id for j in store.jobs(limit=2)] == ["d", "c"]
    assert [j.id for j in store.jobs(JobState.HELD)] == ["d", "b"]
    assert [j.id for j in store.jobs(JobState.QUEUED, limit=1)] == ["c"]
    assert [j.state for j in store.jobs(JobState.HELD)] == [JobState.HELD, JobState.HELD]
    assert store.jobs(JobState.PRINTED) == []


def test_a_jobs_events_in_order_with_their_words(store: Store, clock: Clock) -> None:
    store.submit(spec("j"), [b"f"], actor="op")
    store.submit(spec("other"), [b"f"], actor="op")
    clock.now = 1_001.0
    store.transition("j", JobState.PRINTING, actor="printd", printer="p1")
    store.book([Entry(Item.BLANKS, Kind.PRINTED, 1, "p1", job_id="j")], actor="printd")
    events = store.events("j")
    assert [list(e) for e in events] == [
        ["at", "kind", "printer", "from", "to", "actor", "reason"]
    ] * 3
    assert [tuple(e.values()) for e in events] == [
        (1_000.0, "job", None, None, "queued", "op", "submitted"),
        (1_001.0, "job", "p1", "queued", "printing", "printd", None),
        (1_001.0, "ledger", "p1", None, None, "printd", "blanks printed 1"),
    ]
    assert store.events("ghost") == []


def test_reprints_of_a_job_in_the_order_they_were_made(store: Store) -> None:
    store.submit(spec("orig"), [b"f"], actor="op")
    store.submit(spec("unrelated"), [b"f"], actor="op", reprint_of="someone-else")
    for n in (1, 2):
        store.submit(spec(f"orig.r{n}"), [b"f"], actor="op", reprint_of="orig")
    assert [j.id for j in store.reprints("orig")] == ["orig.r1", "orig.r2"]
    assert [j.reprint_of for j in store.reprints("orig")] == ["orig", "orig"]
    assert store.reprint_count("orig") == 2
    assert store.reprints("orig.r1") == [] and store.reprint_count("orig.r1") == 0


def test_the_oldest_wait_counts_queued_jobs_only(store: Store, clock: Clock) -> None:
    assert store.oldest_waiting_at() is None
    clock.now = 500.25
    store.submit(spec("held"), [b"f"], actor="op")
    store.transition("held", JobState.HELD, actor="op")
    clock.now = 700.5
    store.submit(spec("waiting"), [b"f"], actor="op")
    clock.now = 900.0
    store.submit(spec("later"), [b"f"], actor="op")
    assert store.oldest_waiting_at() == 700.5
    store.transition("waiting", JobState.CANCELLED, actor="op")
    assert store.oldest_waiting_at() == 900.0
    store.transition("later", JobState.CANCELLED, actor="op")
    assert store.oldest_waiting_at() is None


# ---- totals, ledger, ribbons, printer events ---------------------------------------------


def test_totals_are_kept_by_name_printer_and_label(store: Store) -> None:
    store.book([Entry(Item.BLANKS, Kind.RECEIVED, 100, reason="delivery")], actor="op")
    store.book([Entry(Item.BLANKS, Kind.LOADED, 40, "p1")], actor="op")
    store.book([Entry(Item.BLANKS, Kind.SPOILED, 2, "p1", "jam")], actor="printd")
    store.record_retry("p1", "usb")
    store.record_retry("p1", "usb")
    assert store.total("hopper", "p1") == 38
    assert store.total("cards_spoiled", "p1", "jam") == 2
    assert store.total("cards_spoiled", "p1", "other") == 0
    assert store.total("job_retries", "p1", "usb") == 2
    assert store.total("no such total") == 0
    totals = store.totals()
    assert ("job_retries", "p1", "usb", 2) in totals
    assert ("cards_spoiled", "p1", "jam", 2) in totals
    assert all(isinstance(row, tuple) and len(row) == 4 for row in totals)


def test_the_ledger_window_takes_its_start_and_leaves_its_end(store: Store, clock: Clock) -> None:
    for at, quantity in ((10.0, 1), (20.0, 2), (30.0, 3)):
        clock.now = at
        store.book([Entry(Item.BLANKS, Kind.RECEIVED, quantity, reason=f"d{at:.0f}")], actor="op")
    rows = [tuple(r) for r in store.ledger_rows()]
    assert rows == [
        (10.0, "blanks", "received", "", 1, "d10"),
        (20.0, "blanks", "received", "", 2, "d20"),
        (30.0, "blanks", "received", "", 3, "d30"),
    ]
    assert [r[4] for r in store.ledger_rows(since=20.0)] == [2, 3]
    assert [r[4] for r in store.ledger_rows(until=20.0)] == [1]
    assert [r[4] for r in store.ledger_rows(since=10.0, until=30.0)] == [1, 2]
    assert store.ledger_rows(since=31.0) == []


def test_the_ribbon_in_a_printer_and_what_is_left_on_it(store: Store, clock: Clock) -> None:
    assert store.ribbon("p1") is None
    store.book([Entry(Item.RIBBONS, Kind.RECEIVED, 2, reason="delivery")], actor="op")
    first = store.install_ribbon("p1", "ymcko", 450, actor="op")
    clock.now = 1_100.0
    second = store.install_ribbon("p1", "kb", 1000, actor="op")
    store.book([Entry(Item.RIBBON_PRINTS, Kind.USED, 3, "p1", ribbon_id=second)], actor="printd")
    assert second > first
    assert store.ribbon("p1") == {
        "id": second,
        "type": "kb",
        "capacity": 1000,
        "used": 3,
        "remaining": 997,
        "installed_at": 1_100.0,
    }
    assert store.ribbon("p2") is None


def test_a_printer_event_is_in_the_chained_trail(store: Store) -> None:
    store.printer_event("p1", "cover open")
    store.printer_event("p1", "ribbon replaced", actor="op")
    rows = store.db.execute(
        "SELECT kind, job_id, printer, from_state, to_state, actor, reason FROM events ORDER BY seq"
    ).fetchall()
    assert rows == [
        ("printer", None, "p1", None, None, "printd", "cover open"),
        ("printer", None, "p1", None, None, "op", "ribbon replaced"),
    ]
    assert store.verify_chain() is None


# ---- opening and closing -----------------------------------------------------------------


def test_a_store_lives_in_its_state_dir(tmp_path: Path) -> None:
    store = Store(tmp_path / "a" / "b")
    assert store.retention_seconds == 0.0
    store.open()
    try:
        assert store.path == tmp_path / "a" / "b" / "printd.sqlite3" and store.path.is_file()
        assert store.spool == tmp_path / "a" / "b" / "spool" and store.spool.is_dir()
        assert store.inline_copies == store.spool / ".inline"
        job, _ = store.submit(spec("j"), [b"f"], actor="op")
        assert abs(job.submitted_at - time.time()) < 3600  # the wall clock
    finally:
        store.close()


def test_a_reopened_store_goes_on_with_its_chain(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with pytest.raises(StoreError, match=r"^the store is not open$"):
        store.db  # noqa: B018
    store.open()
    store.submit(spec("a"), [b"f"], actor="op")
    last = store.db.execute("SELECT hash FROM events ORDER BY seq DESC").fetchone()[0]
    store.close()
    store.close()  # twice is harmless
    with pytest.raises(StoreError, match=r"^the store is not open$"):
        store.db  # noqa: B018
    again = Store(tmp_path)
    again.open()
    assert again._last_hash == last != GENESIS_HASH
    again.submit(spec("b"), [b"f"], actor="op")
    assert again.verify_chain() is None
    again.close()


def test_an_empty_store_starts_its_chain_at_genesis(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store._last_hash = "f" * 64  # whatever a previous file left in this object
    store.open()
    assert store._last_hash == GENESIS_HASH
    store.close()


def test_opening_clears_the_last_runs_working_copies(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.open()
    store.submit(spec("j"), [b"front"], actor="op")
    front, _ = store.image_paths("j")
    store.close()
    assert front.is_relative_to(store.inline_copies)
    again = Store(tmp_path)
    again.open()
    assert not again.inline_copies.exists()
    assert again.image_paths("j")[0].read_bytes() == b"front"
    again.close()


# ---- card images -------------------------------------------------------------------------


def test_small_images_live_in_the_database_and_are_copied_out_fresh(store: Store) -> None:
    store.submit(spec("one"), [b"front only"], actor="op")
    store.submit(spec("two", sides=2), [b"F", b"B"], actor="op")
    assert not (store.spool / "one").exists()
    front, back = store.image_paths("one")
    assert (front, back) == (store.inline_copies / "one" / "front.png", None)
    assert front.read_bytes() == b"front only"
    front.write_bytes(b"torn")  # a copy cut short by a crash is never read again
    assert store.image_paths("one")[0].read_bytes() == b"front only"
    front2, back2 = store.image_paths("two")
    assert back2 == store.inline_copies / "two" / "back.png"
    assert (front2.read_bytes(), back2.read_bytes()) == (b"F", b"B")
    rows = store.db.execute("SELECT job_id, side, data FROM images ORDER BY job_id, side")
    assert rows.fetchall() == [("one", 0, b"front only"), ("two", 0, b"F"), ("two", 1, b"B")]


def test_large_images_go_to_the_spool_whole(store: Store) -> None:
    big = b"F" * BIG
    store.submit(spec("big", sides=2), [big, b"B"], actor="op")
    front, back = store.image_paths("big")
    assert (front, back) == (store.spool / "big" / "front.png", store.spool / "big" / "back.png")
    assert front.read_bytes() == big and back.read_bytes() == b"B"
    assert store.db.execute("SELECT count(*) FROM images").fetchone()[0] == 0
    assert sorted(p.name for p in store.spool.iterdir()) == ["big"]  # no staging left
    # Exactly at the limit still goes inline.
    store.submit(spec("edge"), [b"E" * INLINE_IMAGE_BYTES], actor="op")
    assert store.image_paths("edge")[0].parent == store.inline_copies / "edge"


def test_a_failed_batch_takes_its_spooled_images_back(store: Store) -> None:
    def refuse(db: sqlite3.Connection, results: list[tuple[Job, bool]]) -> None:
        assert [job.id for job, _ in results] == ["big-1", "big-2"]
        # The hook writes on the batch's own connection, inside its transaction.
        assert db.execute("SELECT count(*) FROM jobs").fetchone()[0] == 2
        raise RuntimeError("the office queue said no")

    items = [(spec(f"big-{n}"), [bytes([n]) * (BIG + 1)]) for n in (1, 2)]
    with pytest.raises(RuntimeError, match="said no"):
        store.submit_many(items, actor="intake", within=refuse)
    assert list(store.spool.iterdir()) == []
    assert store.jobs() == []


def test_a_spooled_job_rewritten_leaves_no_staging_behind(store: Store) -> None:
    staging = store.spool / ".big.partial"
    staging.mkdir()
    (staging / "front.png").write_bytes(b"from a crash")
    store.submit(spec("big"), [b"N" * (BIG + 1)], actor="op")
    assert not staging.exists()
    assert store.image_paths("big")[0].read_bytes() == b"N" * (BIG + 1)


def test_a_spool_folder_left_without_its_job_is_replaced(store: Store) -> None:
    # A crash between the folder's rename and the commit leaves the folder and no job row.
    left = store.spool / "big"
    left.mkdir()
    (left / "front.png").write_bytes(b"from a crash")
    (left / "back.png").write_bytes(b"from a crash")
    store.submit(spec("big"), [b"N" * (BIG + 1)], actor="op")
    assert store.image_paths("big") == (left / "front.png", None)
    assert (left / "front.png").read_bytes() == b"N" * (BIG + 1)


def test_purging_takes_orphans_and_finished_jobs_and_keeps_live_ones(
    tmp_path: Path, clock: Clock
) -> None:
    store = Store(tmp_path, clock=clock, retention_seconds=100.0)
    store.open()
    store.submit(spec("waiting", sides=2), [b"F" * BIG, b"B"], actor="op")
    store.submit(spec("printed"), [b"p"], actor="op")
    store.transition("printed", JobState.PRINTING, actor="printd")
    store.transition("printed", JobState.PRINTED, actor="printd")
    for orphan in ("orphan", "zz-orphan"):  # folders whose job rows never committed
        (store.spool / orphan).mkdir()
    store.db.execute("INSERT INTO images VALUES ('gone', 0, x'00')")
    store.image_paths("printed")  # makes spool/.inline, which is not a job
    clock.now += 100.0
    assert store.purge_expired_images() == 3  # gone, orphan, zz-orphan
    assert store.image_paths("printed")[0].read_bytes() == b"p"  # retention is not over
    clock.now += 0.5
    assert store.purge_expired_images() == 1
    assert store.image_paths("waiting")[0].read_bytes() == b"F" * BIG
    left = store.db.execute("SELECT DISTINCT job_id FROM images").fetchall()
    assert left == []
    assert sorted(p.name for p in store.spool.iterdir()) == [".inline", "waiting"]
    store.close()


def test_any_retention_keeps_a_printed_cards_images(tmp_path: Path) -> None:
    store = Store(tmp_path, retention_seconds=1.0)
    store.open()
    store.submit(spec("j"), [b"front"], actor="op")
    store.transition("j", JobState.PRINTING, actor="printd")
    store.transition("j", JobState.PRINTED, actor="printd")
    assert store.image_paths("j")[0].read_bytes() == b"front"
    store.close()


# ---- what a failed write says ------------------------------------------------------------


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG, errno.EDQUOT])
def test_a_full_disk_is_named(code: int) -> None:
    words = _describe_os_error(OSError(code, "no"), Path("/var/lib/printd"))
    assert words == "the disk holding /var/lib/printd is full: free space and retry"


def test_sqlites_own_full_disk_is_named() -> None:
    error = sqlite3.OperationalError("database or disk is FULL")
    assert _describe_os_error(error, Path("/s")) == (
        "the disk holding /s is full: free space and retry"
    )
    assert _describe_os_error(OSError("disk full"), Path("/s")).startswith("cannot write /s")


def test_a_read_only_place_is_named() -> None:
    words = "/s is not writable by this user: fix its permissions or pick another state_dir"
    assert _describe_os_error(PermissionError(errno.EACCES, "denied"), Path("/s")) == words
    assert (
        _describe_os_error(
            sqlite3.OperationalError("attempt to write a READONLY database"), Path("/s")
        )
        == words
    )


def test_any_other_write_error_is_quoted() -> None:
    error = OSError(errno.EIO, "Input/output error")
    assert _describe_os_error(error, Path("/s")) == "cannot write /s: [Errno 5] Input/output error"
    locked = sqlite3.OperationalError("database is locked")
    assert _describe_os_error(locked, Path("/s")) == "cannot write /s: database is locked"


def test_a_spool_that_cannot_be_synced_is_named(store: Store) -> None:
    # What `_sync_spool` meets if the spool is no longer a folder: fsync is refused.
    store.spool.rmdir()
    store.spool.write_text("a file where the spool goes")
    with pytest.raises(StoreError, match=rf"^cannot write {store.spool}: .*Not a directory"):
        store._sync_spool()


def test_a_state_dir_that_cannot_be_made_is_refused_with_its_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match=rf"^cannot write {blocker}/state: .*Not a directory"):
        Store(blocker / "state").open()


def test_a_database_file_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    (tmp_path / "printd.sqlite3").mkdir()
    path = tmp_path / "printd.sqlite3"
    with pytest.raises(StoreError, match=rf"^cannot open {path}: unable to open database file$"):
        Store(tmp_path).open()


def test_an_image_that_cannot_be_copied_out_names_the_folder(store: Store) -> None:
    store.submit(spec("j"), [b"f"], actor="op")
    store.inline_copies.mkdir(parents=True)
    (store.inline_copies / "j").write_text("a file where the folder goes")
    with pytest.raises(StoreError, match=rf"^cannot write {store.inline_copies}/j: .*File exists"):
        store.image_paths("j")


def test_a_spool_folder_that_cannot_be_put_in_place_leaves_no_staging(store: Store) -> None:
    (store.spool / "big").write_text("a file where the job's folder goes")
    with pytest.raises(StoreError, match=rf"^cannot write {store.spool}: .*Not a directory"):
        store.submit(spec("big"), [b"N" * (BIG + 1)], actor="op")
    assert sorted(p.name for p in store.spool.iterdir()) == ["big"]
    assert store.jobs() == []


def test_a_spool_that_cannot_take_the_images_is_named(store: Store) -> None:
    (store.spool / ".big.partial").write_text("a file where staging goes")  # rmtree skips it
    with pytest.raises(StoreError, match=rf"^cannot write {store.spool}: "):
        store.submit(spec("big"), [b"N" * (BIG + 1)], actor="op")
    assert store.jobs() == []


# ---- ribbons -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "ribbon", "prints"),
    [
        ("ktp-el", "ymcko", True),
        ("KTP-EL", "YMCKOS", True),
        ("ktp-el", "ymckok", True),
        ("ktp-el", "kb", False),
        ("ktp-el", "KO", False),
        ("staff-badge", "kb", True),
        ("Staff-Badge", "ymcko", True),
    ],
)
def test_a_colour_document_needs_a_colour_ribbon(document: str, ribbon: str, prints: bool) -> None:
    assert prints_on(document, ribbon) is prints
