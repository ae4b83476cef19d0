"""Versioned schema migrations. Migration N turns a version N−1 file into version N; each is
tested by upgrading a file made by the previous version. Never edit a released migration."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

APPLICATION_ID = 0x50524E44  # "PRND": tells our file from another program's SQLite file


def _run(db: sqlite3.Connection, script: str) -> None:
    # executescript() would commit on its own; each migration must stay in one transaction.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1(db: sqlite3.Connection) -> None:
    _run(
        db,
        """
        CREATE TABLE jobs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL,
            priority INTEGER NOT NULL DEFAULT 0,
            document TEXT NOT NULL,
            holder TEXT NOT NULL,
            batch TEXT,
            sides INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            printer TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            reprint_of TEXT,
            submitted_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            last_reason TEXT
        );
        CREATE INDEX jobs_by_state ON jobs (state, priority DESC, seq);
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            kind TEXT NOT NULL,
            job_id TEXT,
            printer TEXT,
            from_state TEXT,
            to_state TEXT,
            actor TEXT NOT NULL,
            reason TEXT,
            hash TEXT NOT NULL
        );
        CREATE INDEX events_by_job ON events (job_id);
        CREATE TABLE ledger (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            item TEXT NOT NULL,
            kind TEXT NOT NULL,
            printer TEXT NOT NULL DEFAULT '',
            quantity INTEGER NOT NULL CHECK (quantity >= 0),
            reason TEXT NOT NULL DEFAULT '',
            job_id TEXT,
            ribbon_id INTEGER,
            actor TEXT NOT NULL
        );
        CREATE INDEX ledger_by_time ON ledger (at);
        CREATE TABLE ribbons (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            printer TEXT NOT NULL,
            type TEXT NOT NULL,
            capacity INTEGER NOT NULL,
            used INTEGER NOT NULL DEFAULT 0,
            installed_at REAL NOT NULL,
            removed_at REAL
        );

        CREATE TABLE totals (
            name TEXT NOT NULL,
            printer TEXT NOT NULL DEFAULT '',
            label TEXT NOT NULL DEFAULT '',
            value INTEGER NOT NULL,
            PRIMARY KEY (name, printer, label)
        ) WITHOUT ROWID;
        """,
    )


def _v2(db: sqlite3.Connection) -> None:
    # The ribbon type a job asks for (None: whatever the printer has).
    db.execute("ALTER TABLE jobs ADD COLUMN ribbon_type TEXT")


def _v3(db: sqlite3.Connection) -> None:
    # Small card images are stored with their job row, so one commit (one fsync) makes a job
    # durable; larger ones stay in the spool folder.
    db.execute(
        "CREATE TABLE images (job_id TEXT NOT NULL, side INTEGER NOT NULL, data BLOB NOT NULL,"
        " PRIMARY KEY (job_id, side))"
    )


def _v4(db: sqlite3.Connection) -> None:
    # A job may carry one printer-ready file (raw printers) instead of card images.
    db.execute("ALTER TABLE jobs ADD COLUMN printer_ready INTEGER NOT NULL DEFAULT 0")


def _v5(db: sqlite3.Connection) -> None:
    # Jobs taken from the office's queue ([intake]) are recorded here, with the acknowledgement
    # subject of their message so a restart can confirm it to the server again. The outbox holds
    # their outcomes, written in the state change's own transaction, until the server has them.
    _run(
        db,
        """
        CREATE TABLE intake_jobs (
            job_id TEXT PRIMARY KEY,
            ack_subject TEXT,
            received_at REAL NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX intake_jobs_unconfirmed ON intake_jobs (ack_subject)
            WHERE ack_subject IS NOT NULL;
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            msg_id TEXT NOT NULL UNIQUE,
            job_id TEXT NOT NULL,
            at REAL NOT NULL,
            body TEXT NOT NULL
        )
        """,
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3, _v4, _v5]
