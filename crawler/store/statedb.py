"""ARCHIVE_DIR/state.sqlite3: its tables, their migrations, and opening it safely.

One SQLite file (WAL mode) beside the JSON Lines holds what the archive knows about itself
(``articles``, ``files``, ``rejects``: crawler/store/archive.py), what the spider needs to
decide what to fetch (``listings``, ``rechecks``, ``runs``, ``meta``: crawler/store/state.py) and
what the site's pages print for each section (``section_names``: crawler/store/sections.py).
The JSON Lines files are the archive of record; this database is an index of them that can be
rebuilt (crawler/store/reconcile.py). So a database that is not one, or fails SQLite's own
check, is never fatal: ``open_state`` sets it aside (renamed, never deleted: it is evidence),
logs a WARNING and starts an empty one, which reconciliation then fills from the files.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from crawler.normalise.dates import VN_TZ

logger = logging.getLogger(__name__)

STATE_NAME = "state.sqlite3"
# Seconds a statement waits for a lock held by another connection before failing; a failure
# past that is a storage failure of the run (crawler/run/outcome.py).
DEFAULT_TIMEOUT = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    published_date TEXT,
    url TEXT,
    file TEXT NOT NULL,
    archived_at TEXT
);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published_date);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    committed_size INTEGER NOT NULL,
    mtime_ns INTEGER
);
CREATE TABLE IF NOT EXISTS rejects (
    url TEXT PRIMARY KEY,
    id TEXT,
    reason TEXT NOT NULL,
    stage TEXT,
    retryable INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    last_at TEXT,
    listing_raw TEXT
);
CREATE INDEX IF NOT EXISTS rejects_id ON rejects(id);
CREATE TABLE IF NOT EXISTS listings (
    key TEXT PRIMARY KEY,
    complete INTEGER NOT NULL DEFAULT 0,
    walked_at TEXT
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE IF NOT EXISTS rechecks (
    id TEXT PRIMARY KEY,
    at TEXT
);
CREATE TABLE IF NOT EXISTS sitemap_lastmods (
    id TEXT PRIMARY KEY,
    lastmod TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    started_at TEXT PRIMARY KEY,
    mode TEXT,
    report TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS section_names (
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    seen INTEGER NOT NULL DEFAULT 1,
    first_seen TEXT,
    PRIMARY KEY (code, name, kind)
);
"""
# Columns added after the first release: (table, column, declaration).
MIGRATIONS = (
    ("files", "mtime_ns", "INTEGER"),
    ("rejects", "listing_raw", "TEXT"),
)


class StateCorrupt(sqlite3.DatabaseError):
    """The state database is damaged (raised by ``check``)."""


# Page cache per connection, KiB (SQLite's default is 2,000). The lookups are by primary key and
# the operating system caches the file: a smaller cache keeps a long backfill's memory flat.
CACHE_KIB = 256


def connect(path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> sqlite3.Connection:
    """Return a connection in autocommit mode, WAL journal, with the schema and its migrations."""
    db = sqlite3.connect(path, isolation_level=None, timeout=timeout)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    db.executescript(SCHEMA)
    for table, column, declaration in MIGRATIONS:
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in columns:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    return db


def check(db: sqlite3.Connection) -> None:
    """Raise StateCorrupt when SQLite's quick check finds the database damaged."""
    try:
        rows = [row[0] for row in db.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        raise StateCorrupt(str(exc)) from exc
    if rows != ["ok"]:
        raise StateCorrupt("; ".join(rows[:3]))


def set_aside(root: Path, reason: str) -> Path:
    """Rename a damaged state database (and its WAL files) out of the way; return its new name."""
    stamp = dt.datetime.now(VN_TZ).strftime("%Y%m%dT%H%M%S")
    target = root / f"{STATE_NAME}.corrupt-{stamp}"
    n = 1
    while target.exists():
        n += 1
        target = root / f"{STATE_NAME}.corrupt-{stamp}-{n}"
    os.replace(root / STATE_NAME, target)
    for suffix in ("-wal", "-shm"):
        side = root / f"{STATE_NAME}{suffix}"
        if side.exists():
            os.replace(side, Path(f"{target}{suffix}"))
    logger.warning("state database %s is damaged (%s): set aside as %s; a new one is rebuilt "
                   "from the JSON Lines files (listings are walked to their end again, the run "
                   "history comes back from runs/*.json)", root / STATE_NAME, reason, target.name)
    return target


def open_state(root: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT
               ) -> tuple[sqlite3.Connection, Path | None]:
    """Open ARCHIVE_DIR/state.sqlite3, checked; a damaged one is set aside and a new one begun.

    Return the connection and, when the old database was set aside, its new path (the caller
    then rebuilds the state from the files)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = root / STATE_NAME
    db = None
    try:
        db = connect(path, timeout=timeout)
        check(db)
        return db, None
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and not isinstance(exc, StateCorrupt) and \
                "not a database" not in str(exc) and "malformed" not in str(exc):
            raise  # locked, read-only, disk full: a storage failure, not a damaged file
        if db is not None:
            db.close()
        aside = set_aside(root, str(exc))
    return connect(path, timeout=timeout), aside


def register_reject(db: sqlite3.Connection, record: dict[str, Any]) -> None:
    """Remember a reject record in the ``rejects`` table (what the live crawl retries or skips).

    A reject of a web archive's capture (with an ``origin``) is not remembered: an archive's bad
    copy says nothing about the page on the site. Call inside the caller's transaction."""
    if record.get("origin"):
        return
    db.execute(
        "INSERT INTO rejects(url, id, reason, stage, retryable, last_at, listing_raw)"
        " VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET reason = excluded.reason,"
        " stage = excluded.stage, retryable = excluded.retryable, count = rejects.count + 1,"
        " last_at = excluded.last_at,"
        " listing_raw = COALESCE(excluded.listing_raw, rejects.listing_raw)",
        (record["url"], record.get("id"), record["reason"], record.get("stage"),
         int(bool(record.get("retryable"))), record.get("fetched_at"),
         record.get("listing_raw")))
