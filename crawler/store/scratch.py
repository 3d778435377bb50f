"""Scratch space on disk for what a long pass over the archive must remember per article.

Re-extraction, ``verify``, ``report``, ``export`` and the manifest each read every line (or every
WARC record) of an archive and need to remember something about each article on the way: its
latest version, the listing text of its capture, where a response is. In Python objects that
grows with the archive (a quarter of a million articles made the largest of them four times as
large as at 25,000). ``scratch_db`` gives them a private temporary SQLite database instead:
SQLite keeps ``cache_kib`` of it in memory and the rest in a temporary file it deletes when the
connection closes (SQLite's temporary directory: ``SQLITE_TMPDIR``, else ``TMPDIR`` or ``/tmp``).
"""

from __future__ import annotations

import sqlite3

# Page cache of a scratch database, KiB: lookups are by key, so a small cache does.
CACHE_KIB = 4096


def scratch_db(schema: str = "", *, cache_kib: int = CACHE_KIB) -> sqlite3.Connection:
    """Return a new private temporary database with ``schema``, inside one open transaction.

    Nothing in it needs to survive a crash (it is gone with the connection), so it has no
    journal and is never synced; its writes are visible to its own reads at once."""
    db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA cache_size=-{cache_kib}")
    db.execute("PRAGMA temp_store=FILE")
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    if schema:
        db.executescript(schema)
    db.execute("BEGIN")
    return db
