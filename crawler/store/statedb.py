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
import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from crawler.items import article_key
from crawler.normalise.dates import VN_TZ
from crawler.site.urls import parse_article_url
from crawler.store.lines import FileCheck, read_lines

logger = logging.getLogger(__name__)

STATE_NAME = "state.sqlite3"
# Seconds a statement waits for a lock held by another connection before failing; a failure
# past that is a storage failure of the run (crawler/run/outcome.py).
DEFAULT_TIMEOUT = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    key TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    published_date TEXT,
    url TEXT,
    file TEXT NOT NULL,
    archived_at TEXT
);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published_date);
CREATE INDEX IF NOT EXISTS articles_file ON articles(file);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    committed_size INTEGER NOT NULL,
    mtime_ns INTEGER,
    committed_sha256 TEXT
);
CREATE TABLE IF NOT EXISTS rejects (
    url TEXT PRIMARY KEY,
    id TEXT,
    reason TEXT NOT NULL,
    stage TEXT,
    retryable INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    last_at TEXT,
    listing_raw TEXT,
    key TEXT
);
CREATE INDEX IF NOT EXISTS rejects_id ON rejects(id);
CREATE INDEX IF NOT EXISTS rejects_key ON rejects(key);
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
    key TEXT PRIMARY KEY,
    at TEXT
);
CREATE TABLE IF NOT EXISTS sitemap_lastmods (
    key TEXT PRIMARY KEY,
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
    ("files", "committed_sha256", "TEXT"),
    ("rejects", "key", "TEXT"),
)
# Tables keyed on the article id alone before issue 25, rebuilt keyed on the article's key.
KEYED_BY_ID = {
    "articles": ("key TEXT PRIMARY KEY, id TEXT NOT NULL, content_hash TEXT NOT NULL,"
                 " version INTEGER NOT NULL, published_date TEXT, url TEXT, file TEXT NOT NULL,"
                 " archived_at TEXT"),
    "rechecks": "key TEXT PRIMARY KEY, at TEXT",
    "sitemap_lastmods": "key TEXT PRIMARY KEY, lastmod TEXT NOT NULL",
}


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
    # Temporary tables (the run's marks, reconciliation's scratch) spill to a file, never
    # grow in memory past their own page cache.
    db.execute("PRAGMA temp_store=FILE")
    db.execute(f"PRAGMA temp.cache_size=-{CACHE_KIB}")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table, column, declaration in MIGRATIONS:
        if table in tables and column not in _columns(db, table):
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    if "articles" in tables and "key" not in _columns(db, "articles"):
        migrate_to_keys(db)
    db.executescript(SCHEMA)
    return db


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def key_of(article_id: str | None, url: str | None) -> str | None:
    """Return an article's key from its URL, else from its id when the id alone tells the CMS
    generation (hex letters: new; not 7 characters: old); None when it cannot be told."""
    ref = parse_article_url(url) if url else None
    if ref is not None:
        return ref.key
    if not article_id:
        return None
    if article_id.startswith("text:"):
        return article_id
    if any(ch in "abcdef" for ch in article_id.lower()):
        return article_key("new", article_id)
    if article_id.isdigit() and len(article_id) != 7:
        return article_key("old", article_id)
    return None


def migrate_to_keys(db: sqlite3.Connection) -> None:
    """Rebuild a state keyed on the article id alone (before issue 25) on the article's key.

    Each article row takes its key from its URL; the rejects get a key column; the re-check and
    sitemap marks follow their article (a mark whose CMS cannot be told is dropped: it is
    learnt again). Every listing is then walked to its end once: an article whose id an
    archived one of the other CMS generation shared was taken for it and never fetched. One
    transaction: a crash leaves the old state as it was."""
    db.create_function("key_of", 2, key_of, deterministic=True)
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("ALTER TABLE articles RENAME TO articles_by_id")
        db.execute(f"CREATE TABLE articles ({KEYED_BY_ID['articles']})")
        db.execute("INSERT OR REPLACE INTO articles(key, id, content_hash, version, published_date,"
                   " url, file, archived_at) SELECT COALESCE(key_of(id, url), id), id,"
                   " content_hash, version, published_date, url, file, archived_at"
                   " FROM articles_by_id")
        for table, value in (("rechecks", "at"), ("sitemap_lastmods", "lastmod")):
            if table not in {row[0] for row in db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table'")}:
                continue
            db.execute(f"ALTER TABLE {table} RENAME TO {table}_by_id")
            db.execute(f"CREATE TABLE {table} ({KEYED_BY_ID[table]})")
            db.execute(f"INSERT OR REPLACE INTO {table}(key, {value}) SELECT"
                       f" key_of(t.id, a.url), t.{value} FROM {table}_by_id t"
                       f" LEFT JOIN articles_by_id a ON a.id = t.id"
                       f" WHERE key_of(t.id, a.url) IS NOT NULL")
            db.execute(f"DROP TABLE {table}_by_id")
        db.execute("UPDATE rejects SET key = key_of(id, url)")
        db.execute("DROP TABLE articles_by_id")
        reopened = db.execute("UPDATE listings SET complete = 0").rowcount
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    logger.warning("state database: articles are now keyed on their CMS generation and id (an "
                   "old-CMS number and a new-CMS id can be the same string); %s listing(s) are "
                   "walked to their end once, for articles a shared id hid", reopened)


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
        "INSERT INTO rejects(url, id, key, reason, stage, retryable, last_at, listing_raw)"
        " VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET reason = excluded.reason,"
        " stage = excluded.stage, retryable = excluded.retryable, count = rejects.count + 1,"
        " last_at = excluded.last_at, key = excluded.key,"
        " listing_raw = COALESCE(excluded.listing_raw, rejects.listing_raw)",
        (record["url"], record.get("id"), reject_key(record), record["reason"],
         record.get("stage"), int(bool(record.get("retryable"))), record.get("fetched_at"),
         record.get("listing_raw")))


def reject_key(record: dict[str, Any]) -> str | None:
    """Return the key of the article a reject is about: from its URL (the CMS generation is
    in it) or its id when that alone tells, else its partial record's."""
    return key_of(record.get("id"), record.get("url")) or (record.get("record") or {}).get("key")


def upsert_reject(db: sqlite3.Connection, record: dict[str, Any]) -> None:
    """Register a reject line written before an interruption, as put_reject would have."""
    archived = False
    if record.get("id"):
        key = reject_key(record)
        archived = key is not None and db.execute(
            "SELECT 1 FROM articles WHERE key = ?", (key,)).fetchone() is not None
    if not archived:
        register_reject(db, record)


def rebuild_rejects_and_runs(root: Path, db: sqlite3.Connection) -> None:
    """After a damaged state was set aside: rejects from the reject files, runs from reports."""
    for path in sorted((root / "rejects").glob("*.jsonl")) if (root / "rejects").is_dir() else []:
        check = FileCheck(rel=f"rejects/{path.name}", start=0, size=0)
        for _offset, record in read_lines(root, check):
            upsert_reject(db, record)
    runs = root / "runs"
    for path in sorted(runs.glob("*.json")) if runs.is_dir() else []:
        try:
            report = json.loads(path.read_text("utf-8"))
            key = report["started_at"]
        except (ValueError, KeyError, TypeError, OSError):
            continue
        db.execute("INSERT OR IGNORE INTO runs(started_at, mode, report) VALUES(?, ?, ?)",
                   (key, report.get("mode"), json.dumps(report, ensure_ascii=False)))
