"""Reading an archive without changing it: the state database opened read-only, file listings.

``verify``, ``changes`` and ``report`` must never repair or rewrite anything (the crawl reconciles
its state on start; a reader only looks), so the state is opened with SQLite's ``mode=ro``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crawler.store.statedb import key_of

STATE_FILE = "state.sqlite3"


def open_state(root: str | Path) -> sqlite3.Connection | None:
    """Return a read-only connection to the archive's state database, or None when it is absent."""
    path = Path(root) / STATE_FILE
    if not path.is_file():
        return None
    uri = path.resolve().as_uri()
    # mode=ro reads the WAL-mode database like any reader, alongside a crawl that is writing it,
    # and never writes to it (SQLite may create its shared-memory file beside it to do so).
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        # A copy on a read-only medium: no writer can be there, so read the file as it is.
        db.close()
        db = sqlite3.connect(f"{uri}?immutable=1", uri=True)
    db.execute("PRAGMA query_only = ON")
    return db


def committed_sizes(db: sqlite3.Connection) -> dict[str, int]:
    """Return each file's committed size as the state records it (path relative to the root)."""
    try:
        return dict(db.execute("SELECT path, committed_size FROM files"))
    except sqlite3.OperationalError:  # a state database without the table yet
        return {}


def jsonl_files(root: str | Path, kind: str = "articles") -> list[str]:
    """Return the JSON Lines files of one folder of the archive, relative to the root, sorted."""
    base = Path(root)
    return sorted(str(p.relative_to(base)) for p in (base / kind).glob("*.jsonl"))


def article_rows(db: sqlite3.Connection, batch: int = 5000) -> Iterator[list[tuple[Any, ...]]]:
    """Yield the state's article rows, ``batch`` at a time, as (key, id, version, content_hash,
    file); a state from before articles had keys (never opened by a crawl since) gets them from
    each row's URL, as its migration will."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(articles)")}
    if "key" in columns:
        cursor = db.execute("SELECT key, id, version, content_hash, file FROM articles")
        while rows := cursor.fetchmany(batch):
            yield rows
        return
    cursor = db.execute("SELECT id, url, version, content_hash, file FROM articles")
    while rows := cursor.fetchmany(batch):
        yield [(key_of(i, url) or i, i, version, chash, file)
               for i, url, version, chash, file in rows]
