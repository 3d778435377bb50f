"""Crawl state the spider keeps beside the archive: listings walked to their end, run history.

The archive's own state (crawler/store/archive.py) says which articles are safely on disk. This
module adds what the spider needs to decide what to fetch: whether a listing has ever been walked
to its end (only then may a nightly run stop early at articles it already holds), each article's
``lastmod`` as the site's sitemap last showed it (a later one means the page changed), and the
reports of earlier runs (to notice coverage falling after a site redesign). Same SQLite file, other
tables.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from crawler.store.archive import STATE_SCHEMA

_SCHEMA = """
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
"""


class CrawlState:
    """The spider's view of ARCHIVE_DIR/state.sqlite3 (the pipelines write articles there)."""

    def __init__(self, archive_dir: str | Path):
        root = Path(archive_dir)
        root.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(root / "state.sqlite3", isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        # The spider may open the file before the archive pipeline does: same tables either way.
        self.db.executescript(STATE_SCHEMA + _SCHEMA)

    def archived_date(self, article_id: str) -> str | None:
        """Return the publication date of an archived article ('' if unknown), or None if absent."""
        row = self.db.execute(
            "SELECT published_date FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return None if row is None else (row[0] or "")

    def archived_fetched_at(self, article_id: str) -> str | None:
        """Return when the archived version of an article was fetched, or None if absent."""
        row = self.db.execute(
            "SELECT archived_at FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return row[0] if row else None

    def sitemap_lastmods(self, article_ids: list[str]) -> dict[str, str]:
        """Return {id: lastmod} as a sitemap last showed them, for the ids it has seen."""
        found: dict[str, str] = {}
        for start in range(0, len(article_ids), 500):
            chunk = article_ids[start:start + 500]
            rows = self.db.execute(
                f"SELECT id, lastmod FROM sitemap_lastmods WHERE id IN "
                f"({','.join('?' * len(chunk))})", chunk)
            found.update(dict(rows))
        return found

    def remember_sitemap_lastmods(self, pairs: list[tuple[str, str]]) -> None:
        """Remember each article's latest lastmod a sitemap showed (UTC ISO strings, so that
        they compare as text), in one transaction."""
        if not pairs:
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(
                "INSERT INTO sitemap_lastmods(id, lastmod) VALUES(?, ?) ON CONFLICT(id)"
                " DO UPDATE SET lastmod = excluded.lastmod"
                " WHERE excluded.lastmod > sitemap_lastmods.lastmod", pairs)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def archived_by_month(self) -> dict[str, int]:
        """Return {YYYY-MM: archived articles published that month}."""
        rows = self.db.execute(
            "SELECT substr(published_date, 1, 7), COUNT(*) FROM articles"
            " WHERE published_date IS NOT NULL AND published_date != '' GROUP BY 1"
        )
        return {month: count for month, count in rows}

    def listing_complete(self, key: str) -> bool:
        """True when a run has walked this listing to its last page."""
        row = self.db.execute("SELECT complete FROM listings WHERE key = ?", (key,)).fetchone()
        return bool(row and row[0])

    def mark_listing_complete(self, key: str, when: str) -> None:
        """Remember that this listing has been walked to its end."""
        self.db.execute(
            "INSERT INTO listings(key, complete, walked_at) VALUES(?, 1, ?) ON CONFLICT(key)"
            " DO UPDATE SET complete = 1, walked_at = excluded.walked_at",
            (key, when),
        )

    def rechecked(self, article_id: str) -> bool:
        """True when a nightly run has already re-fetched this archived article for edits."""
        return self.db.execute("SELECT 1 FROM rechecks WHERE id = ?", (article_id,)).fetchone() \
            is not None

    def mark_rechecked(self, article_id: str, when: str) -> None:
        """Remember that this archived article has been re-fetched for edits."""
        self.db.execute("INSERT OR REPLACE INTO rechecks(id, at) VALUES(?, ?)", (article_id, when))

    def begin_run(self) -> bool:
        """Mark a run as under way; return True when the previous one never finished (killed)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'run_open'").fetchone()
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('run_open', '1')")
        return bool(row and row[0] == "1")

    def end_run(self) -> None:
        """Mark the run as finished: the next one may trust what this one walked."""
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('run_open', '0')")

    def final_reject(self, article_id: str) -> str | None:
        """Return the reason an article was last rejected for good (not retryable), or None."""
        row = self.db.execute(
            "SELECT reason FROM rejects WHERE id = ? AND retryable = 0 ORDER BY last_at DESC",
            (article_id,),
        ).fetchone()
        return row[0] if row else None

    def retryable_rejects(self) -> list[str]:
        """Return URLs rejected for a cause that may have passed (5xx, timeouts, truncation)."""
        rows = self.db.execute("SELECT url FROM rejects WHERE retryable = 1 ORDER BY url")
        return [row[0] for row in rows]

    def add_run(self, started_at: str, mode: str, report: dict[str, Any]) -> None:
        """Keep a run's report for later comparisons."""
        self.db.execute(
            "INSERT OR REPLACE INTO runs(started_at, mode, report) VALUES(?, ?, ?)",
            (started_at, mode, json.dumps(report, ensure_ascii=False)),
        )

    def previous_runs(self, limit: int = 5) -> list[dict[str, Any]]:
        """Return the reports of the latest runs, newest first."""
        rows = self.db.execute(
            "SELECT report FROM runs ORDER BY started_at DESC LIMIT ?", (limit,)
        )
        return [json.loads(row[0]) for row in rows]

    def close(self) -> None:
        """Close the database."""
        self.db.close()
