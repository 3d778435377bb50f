"""Crawl state the spider keeps beside the archive: listings walked to their end, run history.

The archive's own state (crawler/store/archive.py) says which articles are safely on disk. This
module adds what the spider needs to decide what to fetch: whether a listing has been walked to
its end with every article it listed archived or finally rejected (only then may a nightly run
stop early at articles it already holds), the rejects to fetch again (with the listing time they
were found with), each article's ``lastmod`` as the site's sitemap last showed it (a later one
means the page changed), and the reports of earlier runs (to notice coverage falling after a site
redesign). Same SQLite file (crawler/store/statedb.py), other tables; opening it takes the
archive's lock and reconciles the state with the files (crawler/store/reconcile.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crawler.store import lock as archive_lock
from crawler.store.reconcile import Reconciliation, open_archive_db
from crawler.store.sections import LINK, TITLE, SectionBook
from crawler.store.statedb import DEFAULT_TIMEOUT, open_state


class CrawlState:
    """The spider's view of ARCHIVE_DIR/state.sqlite3 (the pipelines write articles there)."""

    def __init__(self, archive_dir: str | Path, *, timeout: float = DEFAULT_TIMEOUT,
                 reconcile: bool = True):
        root = Path(archive_dir)
        self._lock = archive_lock.acquire(root)
        try:
            if reconcile:
                self.db, self.reconciliation = open_archive_db(root, timeout=timeout)
            else:  # only the run history is wanted (the run report, at the end of a run)
                self.db, _ = open_state(root, timeout=timeout)
                self.reconciliation = Reconciliation()
        except BaseException:
            archive_lock.release(self._lock)
            raise
        self._sections: SectionBook | None = None

    def archived_date(self, key: str) -> str | None:
        """Return the publication date of an archived article ('' if unknown), or None if absent."""
        row = self.db.execute(
            "SELECT published_date FROM articles WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else (row[0] or "")

    def archived_fetched_at(self, key: str) -> str | None:
        """Return when the archived version of an article was fetched, or None if absent."""
        row = self.db.execute(
            "SELECT archived_at FROM articles WHERE key = ?", (key,)
        ).fetchone()
        return row[0] if row else None

    def sitemap_lastmods(self, keys: list[str]) -> dict[str, str]:
        """Return {key: lastmod} as a sitemap last showed them, for the articles it has seen."""
        found: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = self.db.execute(
                f"SELECT key, lastmod FROM sitemap_lastmods WHERE key IN "
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
                "INSERT INTO sitemap_lastmods(key, lastmod) VALUES(?, ?) ON CONFLICT(key)"
                " DO UPDATE SET lastmod = excluded.lastmod"
                " WHERE excluded.lastmod > sitemap_lastmods.lastmod", pairs)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def archived_by_month(self) -> dict[str, int]:
        """Return {YYYY-MM: archived articles published that month}."""
        # A month-precision record has no published_date; its file is its month's partition.
        rows = self.db.execute(
            "SELECT month, COUNT(*) FROM (SELECT COALESCE(NULLIF(substr(published_date, 1, 7),"
            " ''), substr(file, 10, 7)) AS month FROM articles)"
            " WHERE month GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]' GROUP BY 1"
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

    def reopen_listing(self, key: str) -> None:
        """Forget that this listing was walked: the next nightly walks it to its end again."""
        self.db.execute("UPDATE listings SET complete = 0 WHERE key = ?", (key,))

    def unresolved(self, keys: set[str]) -> tuple[set[str], set[str]]:
        """Return the keys neither archived nor finally rejected, and those of them with no
        reject at all (lost: nothing would fetch them again but a listing walked to its end)."""
        open_keys, lost = set(), set()
        for key in keys:
            if self.archived_date(key) is not None:
                continue
            rows = self.db.execute("SELECT retryable FROM rejects WHERE key = ?",
                                   (key,)).fetchall()
            if any(row[0] == 0 for row in rows):
                continue
            open_keys.add(key)
            if not rows:
                lost.add(key)
        return open_keys, lost

    def settle_listings(self, listed: ListedArticles | dict[str, set[str]], walked: set[str],
                        when: str, *, finished: bool, keep_open: frozenset[str] = frozenset()
                        ) -> dict[str, list[str]]:
        """Record what a run learnt of its listings; return the keys by outcome.

        A listing walked to its end counts as walked (``complete``) only when the run finished
        and every article it listed is archived or finally rejected. A listing with an article
        that is neither and has no reject either (lost), or one in ``keep_open``, is opened
        again, so the next nightly walks it to its end."""
        outcome: dict[str, list[str]] = {"complete": [], "reopened": [], "open": []}
        for key in sorted(set(listed.keys()) | walked | keep_open):
            open_keys, lost = self.unresolved(listed.get(key, set()))
            if lost or key in keep_open:
                self.reopen_listing(key)
                outcome["reopened"].append(key)
            elif finished and key in walked and not open_keys:
                self.mark_listing_complete(key, when)
                outcome["complete"].append(key)
            elif key in walked:
                outcome["open"].append(key)
        return outcome

    def rechecked(self, key: str) -> bool:
        """True when a nightly run has already re-fetched this archived article for edits."""
        return self.db.execute("SELECT 1 FROM rechecks WHERE key = ?", (key,)).fetchone() \
            is not None

    def mark_rechecked(self, key: str, when: str) -> None:
        """Remember that this archived article has been re-fetched for edits."""
        self.db.execute("INSERT OR REPLACE INTO rechecks(key, at) VALUES(?, ?)", (key, when))

    def begin_run(self) -> bool:
        """Mark a run as under way; return True when the previous one never finished (killed)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'run_open'").fetchone()
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('run_open', '1')")
        return bool(row and row[0] == "1")

    def end_run(self) -> None:
        """Mark the run as finished: the next one may trust what this one walked."""
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('run_open', '0')")

    def final_reject(self, key: str) -> str | None:
        """Return the reason an article was last rejected for good (not retryable), or None."""
        row = self.db.execute(
            "SELECT reason FROM rejects WHERE key = ? AND retryable = 0 ORDER BY last_at DESC",
            (key,),
        ).fetchone()
        return row[0] if row else None

    def retryable_rejects(self) -> list[tuple[str, str | None]]:
        """Return (URL, listing time it was found with) of each page rejected for a cause that
        may have passed (5xx, timeouts, truncation, a future date, a line lost from the files)."""
        rows = self.db.execute(
            "SELECT url, listing_raw FROM rejects WHERE retryable = 1 ORDER BY url")
        return [(row[0], row[1]) for row in rows]

    def add_run(self, started_at: str, mode: str | None, report: dict[str, Any]) -> str:
        """Keep a run's report for later comparisons (never over another's); return its key."""
        key, n = started_at, 1
        while True:
            try:
                self.db.execute("INSERT INTO runs(started_at, mode, report) VALUES(?, ?, ?)",
                                (key, mode, json.dumps(report, ensure_ascii=False)))
                return key
            except sqlite3.IntegrityError:
                n += 1
                key = f"{started_at}#{n}"

    def previous_runs(self, limit: int = 5) -> list[dict[str, Any]]:
        """Return the reports of the latest runs, newest first."""
        rows = self.db.execute(
            "SELECT report FROM runs ORDER BY started_at DESC LIMIT ?", (limit,)
        )
        return [json.loads(row[0]) for row in rows]

    def note_sections(self, links: tuple[tuple[str, str], ...], section: str | None = None,
                      title: str | None = None, at: str | None = None) -> None:
        """Remember what a home or listing page prints for the sections: its navigation links
        to section listings, (code, name), and the title of its own ``section``."""
        if self._sections is None:
            self._sections = SectionBook(self.db)
        book = self._sections
        book.note(links, LINK, at)
        if section and title:
            book.note([(section, title)], TITLE, at)
        book.flush()

    def close(self) -> None:
        """Close the database and let go of the archive's lock."""
        try:
            self.db.close()
        finally:
            archive_lock.release(self._lock)

    def __enter__(self) -> CrawlState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ListedArticles:
    """The articles each listing showed in this run, as ``{listing key: set of article keys}``
    reads.

    Kept in temporary tables of the state database's connection, not in the crawl's memory:
    a backfill lists every article of the site, and these sets were the largest structure
    that grew with it. SQLite holds a temporary table in its page cache (the connection's
    ``temp.cache_size``) and spills the rest to a temporary file; the tables go when the
    connection closes. Beside the wanted articles, every article a listing's pages showed
    (wanted or not) is kept, so that a walk knows when a page adds nothing new; and an article
    that redirects to another article is read as that one. Articles are named by their key
    (crawler/items.py article_key), never by the id alone."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS listed_articles (key TEXT NOT NULL,"
                   " article TEXT NOT NULL, PRIMARY KEY (key, article)) WITHOUT ROWID")
        db.execute("CREATE TEMP TABLE IF NOT EXISTS listing_shown (key TEXT NOT NULL,"
                   " article TEXT NOT NULL, PRIMARY KEY (key, article)) WITHOUT ROWID")
        db.execute("CREATE TEMP TABLE IF NOT EXISTS moved_articles (article TEXT PRIMARY KEY,"
                   " to_article TEXT NOT NULL) WITHOUT ROWID")

    def add(self, key: str, articles: list[str], shown: Sequence[str] = ()) -> int:
        """Remember that listing ``key`` showed these articles (a listing with none counts too);
        return how many of ``shown`` (every article a page showed, wanted or not) the listing's
        walk in this run had not met before."""
        self.db.execute("INSERT OR IGNORE INTO listed_articles(key, article) VALUES(?, '')",
                        (key,))
        self.db.executemany("INSERT OR IGNORE INTO listed_articles(key, article) VALUES(?, ?)",
                            [(key, article) for article in articles])
        before = self.db.total_changes
        self.db.executemany("INSERT OR IGNORE INTO listing_shown(key, article) VALUES(?, ?)",
                            [(key, article) for article in shown])
        return self.db.total_changes - before

    def moved(self, article: str, to_article: str) -> None:
        """Remember that an article redirects to another article (both by key): a listing that
        showed it is settled by that one."""
        self.db.execute("INSERT OR REPLACE INTO moved_articles(article, to_article) VALUES(?, ?)",
                        (article, to_article))

    def keys(self) -> set[str]:
        """Return the listings seen in this run."""
        return {row[0] for row in self.db.execute("SELECT DISTINCT key FROM listed_articles")}

    def get(self, key: str, default: set[str]) -> set[str]:
        """Return the articles listing ``key`` showed (an article that redirects to another as
        that one), or ``default`` when it was not seen."""
        rows = self.db.execute(
            "SELECT COALESCE(m.to_article, l.article) FROM listed_articles AS l"
            " LEFT JOIN moved_articles AS m ON m.article = l.article WHERE l.key = ?",
            (key,)).fetchall()
        if not rows:
            return default
        return {row[0] for row in rows if row[0]}


class ArticleMarks:
    """The articles of this run, by key: requested ("seen", a set's ``in`` and ``add``) and
    found by a source (counted once per source).

    A temporary table of the state database's connection, as ListedArticles: a backfill marks
    every article of the site, and a dict of them was what still grew in the crawl's memory."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS article_marks (article TEXT NOT NULL,"
                   " mark TEXT NOT NULL, PRIMARY KEY (article, mark)) WITHOUT ROWID")

    def __contains__(self, key: object) -> bool:
        return self.db.execute("SELECT 1 FROM article_marks WHERE article = ? AND mark = ''",
                               (key,)).fetchone() is not None

    def add(self, key: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO article_marks(article, mark) VALUES(?, '')", (key,))

    def first_found(self, key: str, source: str) -> bool:
        """Mark an article found by ``source``; True the first time."""
        return self.db.execute("INSERT OR IGNORE INTO article_marks(article, mark) VALUES(?, ?)",
                               (key, source)).rowcount == 1
