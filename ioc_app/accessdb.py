"""The access file: local accounts, sessions, screens, pairing codes and sign-in links.

A SQLite file under ``./var/`` rather than the ClickHouse store, for two reasons: the store
belongs to the server process in embedded mode, while the ``user`` and ``screen`` commands
must change accounts and screens while the server runs, with effect at once; and checking a
session or a screen cookie must not cost the store a query. SQLite in WAL mode lets both
processes read and write the same file safely; a lookup by key is a few microseconds.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_step INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    no_totp INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    seen REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_name ON sessions(name);
CREATE TABLE IF NOT EXISTS screens (
    name TEXT PRIMARY KEY,
    token_hash TEXT UNIQUE,
    pages TEXT NOT NULL,
    created REAL NOT NULL,
    revoked REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS pairing (
    code TEXT PRIMARY KEY,
    browser_hash TEXT,
    name TEXT,
    pages TEXT,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS links (
    hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    expires REAL NOT NULL,
    used REAL NOT NULL DEFAULT 0
);
"""


class AccessDB:
    """One connection per thread to the access file (created owner-only on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        elif self.path.stat().st_mode & 0o077:  # made readable by others: owner-only again
            os.chmod(self.path, 0o600)
        with self.connect() as db:
            db.executescript(SCHEMA)

    def connect(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=10000")
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db


def copy_consistent(path: Path, dest: Path) -> None:
    """A consistent copy of the access file while the server and the commands write it
    (SQLite's online backup; the copy has no write-ahead log of its own): for backups."""
    from contextlib import closing

    with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(dest)) as copy:
        source.backup(copy)
