"""The durable store: SQLite in WAL mode, synchronous=FULL, versioned migrations.

One connection, used from the daemon's event loop thread. Every state change is one
transaction: the job row, its event (hash-chained for tamper evidence) and any ledger entries
and running totals commit together or not at all.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from printd.errors import ConflictError, NotFoundError, StoreError
from printd.queue.jobs import FINAL_STATES, JobState, check_transition
from printd.queue.ledger import EFFECTS, Entry, Item, Kind
from printd.queue.migrations import APPLICATION_ID, MIGRATIONS

GENESIS_HASH = "0" * 64
# A job whose images together are at most this size keeps them in its own database rows:
# durable with the same commit as the job, instead of three more fsyncs in the spool.
INLINE_IMAGE_BYTES = 64 * 1024
IMAGE_NAMES = ("front.png", "back.png")
# Kibibytes of page cache (negative: KiB, SQLite's convention): enough that a deep queue's
# indexes stay in memory, so submit does not slow down as the queue grows.
CACHE_KIB = 16 * 1024


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A validated job as submitted. `holder` is personal data: stored, never logged."""

    id: str
    document: str
    holder: dict[str, str]
    sides: int  # 1 = front only, 2 = front and back
    priority: int = 0
    batch: str | None = None
    ribbon_type: str | None = None
    # True: the one "image" is a printer-ready file for a raw printer (Fargo, Zebra, Entrust).
    printer_ready: bool = False


@dataclass(frozen=True, slots=True)
class Job:
    seq: int
    id: str
    state: JobState
    priority: int
    document: str
    batch: str | None
    sides: int
    printer: str | None
    attempts: int
    reprint_of: str | None
    submitted_at: float
    updated_at: float
    last_reason: str | None
    printer_ready: bool = False

    def public(self) -> dict[str, Any]:
        """What the API shows: everything but the holder's personal data."""
        return {
            "id": self.id,
            "state": str(self.state),
            "priority": self.priority,
            "document": self.document,
            "batch": self.batch,
            "sides": self.sides,
            "printer": self.printer,
            "attempts": self.attempts,
            "reprint_of": self.reprint_of,
            "submitted_at": self.submitted_at,
            "updated_at": self.updated_at,
            "reason": self.last_reason,
            "printer_ready": self.printer_ready,
        }


@dataclass(frozen=True, slots=True)
class Transition:
    """One job state change, as the transition hooks see it inside its transaction."""

    job_id: str
    from_state: JobState
    to_state: JobState
    reason: str | None
    printer: str | None
    at: float
    event_hash: str = ""  # the audit event's chained hash: unique, and stable once committed


JOB_COLUMNS = (
    "seq, id, state, priority, document, batch, sides, printer, attempts, reprint_of, "
    "submitted_at, updated_at, last_reason, printer_ready"
)


def _job(row: Sequence[Any]) -> Job:
    return Job(
        row[0],
        row[1],
        JobState(row[2]),
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        row[11],
        row[12],
        bool(row[13]),
    )


# Built once: json.dumps with non-default options builds a new encoder on every call.
# Their output is the stored format (hash chain, content hash, holder); never change them.
_CHAIN_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True)
_CONTENT_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
_HOLDER_JSON = json.JSONEncoder(ensure_ascii=False)


JOB_INSERT = (
    "INSERT INTO jobs (id, state, priority, document, holder, batch, sides, content_hash,"
    " ribbon_type, reprint_of, submitted_at, updated_at, printer_ready)"
    " VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
IMAGE_INSERT = "INSERT INTO images (job_id, side, data) VALUES (?, ?, ?)"
EVENT_INSERT = (
    "INSERT INTO events (at, kind, job_id, printer, from_state, to_state, actor, reason, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _chain(previous: str, fields: Sequence[Any]) -> str:
    payload = _CHAIN_JSON.encode([previous, *fields])
    return hashlib.sha256(payload.encode()).hexdigest()


def content_hash(spec: JobSpec, images: Sequence[bytes]) -> str:
    digest = hashlib.sha256()
    canonical: list[Any] = [spec.id, spec.document, spec.holder, spec.sides, spec.priority]
    canonical.append(spec.batch)
    if spec.printer_ready:  # only then: hashes of jobs stored before this field stay valid
        canonical.append("printer_ready")
    digest.update(_CONTENT_JSON.encode(canonical).encode())
    for image in images:
        digest.update(hashlib.sha256(image).digest())
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _describe_os_error(error: BaseException, path: Path) -> str:
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"the disk holding {path} is full: free space and retry"
    if isinstance(error, sqlite3.Error) and "full" in str(error).lower():
        return f"the disk holding {path} is full: free space and retry"
    if isinstance(error, PermissionError) or "readonly" in str(error).lower():
        return f"{path} is not writable by this user: fix its permissions or pick another state_dir"
    return f"cannot write {path}: {error}"


class Store:
    """The queue, the audit trail and the ledger in one SQLite file."""

    def __init__(
        self,
        state_dir: Path,
        *,
        clock: Callable[[], float] = time.time,
        retention_seconds: float = 0.0,
    ) -> None:
        self.state_dir = state_dir
        # How long a printed card's images stay for `printctl reprint` (0: gone at once).
        # Cancelled and failed jobs lose theirs at once, whatever this says.
        self.retention_seconds = retention_seconds
        self.path = state_dir / "printd.sqlite3"
        self.spool = state_dir / "spool"
        # Working copies of inline images for the driver to read; never the durable copy.
        self.inline_copies = self.spool / ".inline"
        self.clock = clock
        self._db: sqlite3.Connection | None = None
        self._last_hash = GENESIS_HASH
        # Called inside every job transition's transaction (e.g. the intake's outbox), so what
        # they write commits or rolls back with the state change itself.
        self.transition_hooks: list[Callable[[sqlite3.Connection, Transition], None]] = []

    # ---- lifecycle -------------------------------------------------------------------------

    def open(self) -> None:
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self.spool.mkdir(exist_ok=True)
        except OSError as error:
            raise StoreError(_describe_os_error(error, self.state_dir)) from error
        if not os.access(self.state_dir, os.W_OK):
            raise StoreError(_describe_os_error(PermissionError(), self.state_dir))
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open {self.path}: {error}") from error
        try:
            self._check_and_migrate(db)
        except sqlite3.DatabaseError as error:
            db.close()
            raise StoreError(
                f"{self.path} is not a printd database or is damaged ({error}); "
                "restore it from a backup or move it aside to start empty"
            ) from error
        except StoreError:
            db.close()
            raise
        self._db = db
        shutil.rmtree(self.inline_copies, ignore_errors=True)  # a previous run's copies
        row = db.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        self._last_hash = row[0] if row else GENESIS_HASH

    def _check_and_migrate(self, db: sqlite3.Connection) -> None:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id != APPLICATION_ID and (tables or app_id):
            raise StoreError(
                f"{self.path} belongs to another program (application id {app_id:#x}); "
                "point state_dir at printd's own folder"
            )
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path} was written by a newer printd (schema {version}, this one knows "
                f"{len(MIGRATIONS)}); upgrade printd or restore a backup"
            )
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise StoreError(f"{self.path}: the file system does not support WAL mode ({mode})")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=5000")
        db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        for target in range(version + 1, len(MIGRATIONS) + 1):
            try:
                db.execute("BEGIN IMMEDIATE")
                MIGRATIONS[target - 1](db)
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                db.execute(f"PRAGMA user_version={target}")
                db.execute("COMMIT")
            except sqlite3.Error as error:
                db.execute("ROLLBACK")
                if isinstance(error, sqlite3.OperationalError) and "readonly" in str(error):
                    raise StoreError(_describe_os_error(error, self.path)) from error
                raise

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError("the store is not open")
        return self._db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        saved_hash = self._last_hash
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise StoreError(_describe_os_error(error, self.path)) from error
        try:
            yield db
            db.execute("COMMIT")
        except BaseException as error:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            self._last_hash = saved_hash
            if isinstance(error, sqlite3.OperationalError):
                raise StoreError(_describe_os_error(error, self.path)) from error
            raise

    # ---- events and totals -----------------------------------------------------------------

    def _event(
        self,
        db: sqlite3.Connection,
        *,
        kind: str,
        actor: str,
        job_id: str | None = None,
        printer: str | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        reason: str | None = None,
    ) -> None:
        what = (kind, job_id, printer, from_state, to_state, actor, reason)
        db.execute(EVENT_INSERT, self._event_row(what))

    def _event_row(self, what: tuple[str | None, ...]) -> tuple[Any, ...]:
        """The next event's row (`what`: the columns from kind to reason), chained to the one
        before. The chain moves on at once, so a batch's rows can be written together; a
        rollback restores the hash the transaction started from."""
        fields = (self.clock(), *what)
        self._last_hash = _chain(self._last_hash, fields)
        return (*fields, self._last_hash)

    @staticmethod
    def _bump(
        db: sqlite3.Connection, name: str, delta: int, printer: str = "", label: str = ""
    ) -> None:
        db.execute(
            "INSERT INTO totals (name, printer, label, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name, printer, label) DO UPDATE SET value = value + excluded.value",
            (name, printer, label, delta),
        )

    def total(self, name: str, printer: str = "", label: str = "") -> int:
        row = self.db.execute(
            "SELECT value FROM totals WHERE name = ? AND printer = ? AND label = ?",
            (name, printer, label),
        ).fetchone()
        return int(row[0]) if row else 0

    def totals(self) -> list[tuple[str, str, str, int]]:
        """Every running total: what /metrics reads (one small table, never history)."""
        return self.db.execute("SELECT name, printer, label, value FROM totals").fetchall()

    def _book(self, db: sqlite3.Connection, entry: Entry, actor: str) -> None:
        effects = EFFECTS.get((entry.item, entry.kind))
        if effects is None:
            raise ValueError(f"no ledger rule for {entry.item} {entry.kind}")
        db.execute(
            "INSERT INTO ledger (at, item, kind, printer, quantity, reason, job_id, ribbon_id,"
            " actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.clock(),
                entry.item,
                entry.kind,
                entry.printer,
                entry.quantity,
                entry.reason,
                entry.job_id,
                entry.ribbon_id,
                actor,
            ),
        )
        for name, sign, per_printer in effects:
            printer = entry.printer if per_printer else ""
            label = entry.reason if name == "cards_spoiled" else ""
            self._bump(db, name, sign * entry.quantity, printer, label)
        if entry.item is Item.RIBBON_PRINTS and entry.ribbon_id is not None:
            db.execute(
                "UPDATE ribbons SET used = used + ? WHERE id = ?", (entry.quantity, entry.ribbon_id)
            )
        self._event(
            db,
            kind="ledger",
            actor=actor,
            job_id=entry.job_id,
            printer=entry.printer or None,
            reason=f"{entry.item} {entry.kind} {entry.quantity}"
            + (f" ({entry.reason})" if entry.reason else ""),
        )

    # ---- jobs ------------------------------------------------------------------------------

    def _spool_dir(self, job_id: str) -> Path:
        return self.spool / job_id

    def image_paths(self, job_id: str) -> tuple[Path, Path | None]:
        """Files holding the job's front and back (None: no back). Inline images are copied
        out afresh on every call, so a copy torn by a crash is never read."""
        folder = self._spool_dir(job_id)
        rows = [] if folder.exists() else self._inline_images(job_id)
        if rows:
            folder = self.inline_copies / job_id
            try:
                folder.mkdir(parents=True, exist_ok=True)
                for side, data in rows:
                    (folder / IMAGE_NAMES[side]).write_bytes(data)
            except OSError as error:
                raise StoreError(_describe_os_error(error, folder)) from error
        back = folder / IMAGE_NAMES[1]
        return folder / IMAGE_NAMES[0], back if back.exists() else None

    def _inline_images(self, job_id: str) -> list[tuple[int, bytes]]:
        return self.db.execute(
            "SELECT side, data FROM images WHERE job_id = ? ORDER BY side", (job_id,)
        ).fetchall()

    def _write_images(self, job_id: str, images: Sequence[bytes]) -> Path:
        """The job's images in its spool folder, each file fsynced. The spool's own entry is
        fsynced by the caller (`_sync_spool`), once for a batch, before its commit."""
        final = self._spool_dir(job_id)
        staging = self.spool / f".{job_id}.partial"
        try:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            for name, data in zip(IMAGE_NAMES, images, strict=False):
                with (staging / name).open("wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            shutil.rmtree(final, ignore_errors=True)
            staging.rename(final)
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(_describe_os_error(error, self.spool)) from error
        return final

    def _sync_spool(self) -> None:
        try:
            _fsync_dir(self.spool)
        except OSError as error:
            raise StoreError(_describe_os_error(error, self.spool)) from error

    def submit(
        self,
        spec: JobSpec,
        images: Sequence[bytes],
        *,
        actor: str,
        reprint_of: str | None = None,
        reason: str | None = None,
    ) -> tuple[Job, bool]:
        """Store a job durably. Returns (job, created); a resubmit returns the existing job."""
        return self.submit_many(
            [(spec, images)], actor=actor, reason=reason, reprint_of=reprint_of
        )[0]

    def submit_many(
        self,
        items: Sequence[tuple[JobSpec, Sequence[bytes]]],
        *,
        actor: str,
        reason: str | None = None,
        reprint_of: str | None = None,
        within: Callable[[sqlite3.Connection, list[tuple[Job, bool]]], None] | None = None,
    ) -> list[tuple[Job, bool]]:
        """Store many jobs in one transaction (one commit for the lot: group commit). A job whose
        id exists with the same content is returned as it is; with other content, nothing is
        stored and ConflictError names it. `within` runs inside the same transaction."""
        digests = [content_hash(spec, images) for spec, images in items]
        existing = self._existing(items, digests, None)
        return self._store_new(
            list(enumerate(items)),
            digests,
            existing,
            actor=actor,
            reason=reason,
            reprint_of=reprint_of,
            within=within,
        )

    def submit_each(
        self, items: Sequence[tuple[JobSpec, Sequence[bytes]]], *, actor: str
    ) -> list[tuple[Job, bool] | ConflictError]:
        """Like submit_many, one commit for the lot, but a job that conflicts (its id taken by
        other content) is refused on its own and the others are stored: a folder's worth of
        files, each with its own outcome."""
        digests = [content_hash(spec, images) for spec, images in items]
        refused: dict[int, ConflictError] = {}
        existing = self._existing(items, digests, refused)
        kept = [(i, item) for i, item in enumerate(items) if i not in refused]
        stored = iter(self._store_new(kept, digests, existing, actor=actor))
        return [refused[i] if i in refused else next(stored) for i in range(len(items))]

    def _existing(
        self,
        items: Sequence[tuple[JobSpec, Sequence[bytes]]],
        digests: Sequence[str],
        refused: dict[int, ConflictError] | None,
    ) -> dict[str, Job]:
        """The jobs already stored with the same content. A conflict raises, or with `refused`
        is noted there by the item's index."""
        stored = self._content_hashes([spec.id for spec, _ in items])
        existing = {}
        seen: dict[str, str] = {}
        for index, (spec, digest) in enumerate(zip((s for s, _ in items), digests, strict=True)):
            error = None
            if seen.setdefault(spec.id, digest) != digest:
                error = ConflictError(f"job {spec.id} is given twice with different content")
            elif spec.id in stored and stored[spec.id] != digest:
                error = ConflictError(
                    f"job {spec.id} already exists with different content; "
                    "use a new id for a different card (or `printctl reprint`)"
                )
            if error is not None:
                if refused is None:
                    raise error
                refused[index] = error
            elif spec.id in stored:
                existing[spec.id] = self.get(spec.id)
        return existing

    def _store_new(
        self,
        items: Sequence[tuple[int, tuple[JobSpec, Sequence[bytes]]]],
        digests: Sequence[str],
        existing: dict[str, Job],
        *,
        actor: str,
        reason: str | None = None,
        reprint_of: str | None = None,
        within: Callable[[sqlite3.Connection, list[tuple[Job, bool]]], None] | None = None,
    ) -> list[tuple[Job, bool]]:
        folders: list[Path] = []
        now = self.clock()
        # Which item creates each id: the first one not stored yet. A later item with the same
        # id (and content: _existing checked) gets the job the first one made.
        order: list[tuple[str, bool]] = []
        claimed: set[str] = set()
        fresh: list[JobSpec] = []
        rows: list[tuple[Any, ...]] = []
        image_rows: list[tuple[str, int, bytes]] = []
        try:
            with self.transaction() as db:
                for index, (spec, images) in items:
                    created = spec.id not in existing and spec.id not in claimed
                    order.append((spec.id, created))
                    if not created:
                        continue
                    claimed.add(spec.id)
                    if sum(len(image) for image in images) <= INLINE_IMAGE_BYTES:
                        image_rows.extend((spec.id, side, data) for side, data in enumerate(images))
                    else:
                        folders.append(self._write_images(spec.id, images))
                    fresh.append(spec)
                    rows.append(self._job_row(spec, digests[index], now, reprint_of))
                # One statement a table for the lot: each row's own execute cost more than
                # SQLite spent writing it.
                if fresh:
                    db.executemany(JOB_INSERT, rows)
                    # AUTOINCREMENT under this transaction's write lock: the rows' seqs run on.
                    first = db.execute("SELECT last_insert_rowid()").fetchone()[0] - len(fresh) + 1
                    db.executemany(IMAGE_INSERT, image_rows)
                    queued = reason or "submitted"
                    db.executemany(
                        EVENT_INSERT,
                        [
                            self._event_row(
                                ("job", spec.id, None, None, JobState.QUEUED, actor, queued)
                            )
                            for spec in fresh
                        ],
                    )
                    for offset, spec in enumerate(fresh):
                        existing[spec.id] = self._new_job(first + offset, spec, now, reprint_of)
                if folders:
                    # One fsync of the spool makes every new folder's entry durable before the
                    # commit that names them (the files were fsynced one by one).
                    self._sync_spool()
                results = [(existing[job_id], created) for job_id, created in order]
                if fresh:
                    self._bump(db, "jobs_state", len(fresh), label=JobState.QUEUED)
                    self._bump(db, "jobs_submitted", len(fresh))
                if within is not None:
                    within(db, results)
        except BaseException:
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        return results

    def _content_hashes(self, job_ids: Sequence[str]) -> dict[str, str]:
        """The stored content hash of each of these ids that exists (a few queries a batch)."""
        found: dict[str, str] = {}
        for first in range(0, len(job_ids), 500):
            chunk = job_ids[first : first + 500]
            marks = ", ".join("?" * len(chunk))
            found.update(
                self.db.execute(
                    f"SELECT id, content_hash FROM jobs WHERE id IN ({marks})", chunk
                ).fetchall()
            )
        return found

    @staticmethod
    def _job_row(spec: JobSpec, digest: str, now: float, reprint_of: str | None) -> tuple[Any, ...]:
        return (
            spec.id,
            spec.priority,
            spec.document,
            _HOLDER_JSON.encode(spec.holder),
            spec.batch,
            spec.sides,
            digest,
            spec.ribbon_type,
            reprint_of,
            now,
            now,
            int(spec.printer_ready),
        )

    @staticmethod
    def _new_job(seq: int, spec: JobSpec, now: float, reprint_of: str | None) -> Job:
        return Job(
            seq,
            spec.id,
            JobState.QUEUED,
            spec.priority,
            spec.document,
            spec.batch,
            spec.sides,
            None,
            0,
            reprint_of,
            now,
            now,
            None,
            spec.printer_ready,
        )

    def get(self, job_id: str) -> Job:
        row = self.db.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no job {job_id!r}; `printctl jobs` lists the jobs")
        return _job(row)

    def holder(self, job_id: str) -> dict[str, str]:
        row = self.db.execute("SELECT holder FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no job {job_id!r}")
        value: dict[str, str] = json.loads(row[0])
        return value

    def jobs(self, state: JobState | None = None, limit: int = 1000) -> list[Job]:
        if state is None:
            rows = self.db.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
        else:
            rows = self.db.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs WHERE state = ? ORDER BY seq DESC LIMIT ?",
                (state, limit),
            ).fetchall()
        return [_job(r) for r in rows]

    def events(self, job_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT at, kind, printer, from_state, to_state, actor, reason FROM events"
            " WHERE job_id = ? ORDER BY seq",
            (job_id,),
        ).fetchall()
        keys = ("at", "kind", "printer", "from", "to", "actor", "reason")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def reprints(self, job_id: str) -> list[Job]:
        rows = self.db.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE reprint_of = ? ORDER BY seq", (job_id,)
        ).fetchall()
        return [_job(r) for r in rows]

    def reprint_count(self, job_id: str) -> int:
        row = self.db.execute("SELECT count(*) FROM jobs WHERE reprint_of = ?", (job_id,))
        return int(row.fetchone()[0])

    def next_queued(self) -> Job | None:
        row = self.db.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'queued'"
            " ORDER BY priority DESC, seq LIMIT 1"
        ).fetchone()
        return _job(row) if row else None

    def oldest_waiting_at(self) -> float | None:
        row = self.db.execute(
            "SELECT min(submitted_at) FROM jobs WHERE state = 'queued'"
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def transition(
        self,
        job_id: str,
        target: JobState,
        *,
        actor: str,
        reason: str | None = None,
        printer: str | None = None,
        entries: Sequence[Entry] = (),
        expect: JobState | None = None,
        count_attempt: bool = False,
    ) -> Job:
        """Move a job, with its event and ledger entries, in one transaction."""
        with self.transaction() as db:
            job = self._transition(
                db,
                job_id,
                target,
                actor=actor,
                reason=reason,
                printer=printer,
                expect=expect,
                count_attempt=count_attempt,
            )
            for entry in entries:
                self._book(db, entry, actor)
        if job.state in FINAL_STATES and not self._keeps_images(job.state):
            self._release_images(job_id)
        return job

    def _keeps_images(self, state: JobState) -> bool:
        return state is JobState.PRINTED and self.retention_seconds > 0

    def purge_expired_images(self) -> int:
        """Remove the images of finished jobs past their retention. Returns how many jobs."""
        cutoff = self.clock() - self.retention_seconds
        candidates = {r[0] for r in self.db.execute("SELECT DISTINCT job_id FROM images")}
        if self.spool.exists():
            candidates |= {p.name for p in self.spool.iterdir() if not p.name.startswith(".")}
        purged = 0
        for job_id in sorted(candidates):
            row = self.db.execute(
                "SELECT state, updated_at FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is not None and (
                JobState(row[0]) not in FINAL_STATES
                or (self._keeps_images(JobState(row[0])) and row[1] >= cutoff)
            ):
                continue
            with self.transaction() as db:
                db.execute("DELETE FROM images WHERE job_id = ?", (job_id,))
            self._release_images(job_id)
            purged += 1
        return purged

    def _transition(
        self,
        db: sqlite3.Connection,
        job_id: str,
        target: JobState,
        *,
        actor: str,
        reason: str | None,
        printer: str | None,
        expect: JobState | None,
        count_attempt: bool,
    ) -> Job:
        row = db.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no job {job_id!r}; `printctl jobs` lists the jobs")
        before = _job(row)
        current = before.state
        if expect is not None and current is not expect:
            raise ConflictError(f"job {job_id} is {current}, not {expect}")
        check_transition(job_id, current, target)
        now = self.clock()
        db.execute(
            "UPDATE jobs SET state = ?, updated_at = ?, last_reason = ?,"
            " printer = coalesce(?, printer), attempts = attempts + ? WHERE id = ?",
            (target, now, reason, printer, int(count_attempt), job_id),
        )
        self._event(
            db,
            kind="job",
            actor=actor,
            job_id=job_id,
            printer=printer,
            from_state=current,
            to_state=target,
            reason=reason,
        )
        self._bump(db, "jobs_state", -1, label=current)
        self._bump(db, "jobs_state", 1, label=target)
        if self.transition_hooks:
            moved = Transition(
                job_id, current, target, reason, printer or before.printer, now, self._last_hash
            )
            for hook in self.transition_hooks:
                hook(db, moved)
        if target in FINAL_STATES:
            self._bump(db, "jobs_completed", 1, label=target)
            if not self._keeps_images(target):
                # Card images hold a face and personal data: they leave with the job, atomically.
                db.execute("DELETE FROM images WHERE job_id = ?", (job_id,))
        return dataclasses.replace(
            before,
            state=target,
            updated_at=now,
            last_reason=reason,
            printer=printer if printer is not None else before.printer,
            attempts=before.attempts + int(count_attempt),
        )

    def transitions(
        self,
        job_id: str,
        steps: Sequence[tuple[JobState, str | None]],
        *,
        actor: str,
        printer: str | None = None,
        entries: Sequence[Entry] = (),
        count_attempt: bool = False,
    ) -> Job:
        """Several moves (e.g. printing → spoiled → queued) and their ledger in one commit."""
        with self.transaction() as db:
            job = None
            for index, (target, reason) in enumerate(steps):
                job = self._transition(
                    db,
                    job_id,
                    target,
                    actor=actor,
                    reason=reason,
                    printer=printer,
                    expect=None,
                    count_attempt=count_attempt and index == 0,
                )
            for entry in entries:
                self._book(db, entry, actor)
        if job is None:
            raise ValueError("transitions() needs at least one step")
        if job.state in FINAL_STATES and not self._keeps_images(job.state):
            self._release_images(job_id)
        return job

    def _release_images(self, job_id: str) -> None:
        # Card images hold a face and personal data: they leave the station with the job.
        shutil.rmtree(self._spool_dir(job_id), ignore_errors=True)
        shutil.rmtree(self.inline_copies / job_id, ignore_errors=True)

    def interrupt_orphans(self) -> list[str]:
        """At start-up: a job found `printing` had its outcome cut off. Never re-queue it."""
        orphans = [r[0] for r in self.db.execute("SELECT id FROM jobs WHERE state = 'printing'")]
        for job_id in orphans:
            self.transition(
                job_id,
                JobState.INTERRUPTED,
                actor="printd",
                reason="printd stopped while this card was in the printer; check the output"
                " and reject trays, then `printctl reconcile`",
            )
        return orphans

    def record_retry(self, printer: str, reason: str) -> None:
        with self.transaction() as db:
            self._bump(db, "job_retries", 1, printer, reason)

    def printer_event(self, printer: str, reason: str, *, actor: str = "printd") -> None:
        with self.transaction() as db:
            self._event(db, kind="printer", actor=actor, printer=printer, reason=reason)

    # ---- ledger ----------------------------------------------------------------------------

    def book(self, entries: Sequence[Entry], *, actor: str) -> None:
        with self.transaction() as db:
            for entry in entries:
                self._book(db, entry, actor)

    def install_ribbon(self, printer: str, ribbon_type: str, capacity: int, *, actor: str) -> int:
        if self.total("stock_ribbons") < 1:
            raise ConflictError(
                "office stock has no ribbon; record the delivery first with "
                "`printctl stock receive --ribbons N`"
            )
        with self.transaction() as db:
            now = self.clock()
            db.execute(
                "UPDATE ribbons SET removed_at = ? WHERE printer = ? AND removed_at IS NULL",
                (now, printer),
            )
            cursor = db.execute(
                "INSERT INTO ribbons (printer, type, capacity, installed_at) VALUES (?, ?, ?, ?)",
                (printer, ribbon_type, capacity, now),
            )
            ribbon_id = int(cursor.lastrowid or 0)
            self._book(
                db,
                Entry(
                    Item.RIBBONS,
                    Kind.INSTALLED,
                    1,
                    printer,
                    f"{ribbon_type}:{capacity}",
                    ribbon_id=ribbon_id,
                ),
                actor,
            )
        return ribbon_id

    def ribbon(self, printer: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT id, type, capacity, used, installed_at FROM ribbons"
            " WHERE printer = ? AND removed_at IS NULL ORDER BY id DESC LIMIT 1",
            (printer,),
        ).fetchone()
        if row is None:
            return None
        return {
            "id": row[0],
            "type": row[1],
            "capacity": row[2],
            "used": row[3],
            "remaining": row[2] - row[3],
            "installed_at": row[4],
        }

    def ledger_rows(self, since: float | None = None, until: float | None = None) -> list[Any]:
        return self.db.execute(
            "SELECT at, item, kind, printer, quantity, reason FROM ledger"
            " WHERE at >= ? AND at < ? ORDER BY seq",
            (
                since if since is not None else float("-inf"),
                until if until is not None else float("inf"),
            ),
        ).fetchall()

    # ---- audit -----------------------------------------------------------------------------

    def verify_chain(self) -> int | None:
        """The seq of the first event whose hash does not follow from the one before, or None."""
        previous = GENESIS_HASH
        for row in self.db.execute(
            "SELECT seq, at, kind, job_id, printer, from_state, to_state, actor, reason, hash"
            " FROM events ORDER BY seq"
        ):
            if _chain(previous, row[1:9]) != row[9]:
                return int(row[0])
            previous = row[9]
        return None
