"""What the site prints for each section, kept in the archive's state: the names behind the keys.

Table ``section_names`` of ARCHIVE_DIR/state.sqlite3 (crawler/store/statedb.py): one row per
section code (channel id or slug), name as printed and kind of evidence, with how often it was
seen and when first:

- ``link``: a navigation link to the section's listing printed the name (a menu, a breadcrumb,
  the home page's list of sections: from article pages and from the home and listing pages the
  spider reads);
- ``title``: the section's listing printed it as its title;
- ``page``: an article of the section printed it (its breadcrumb, metadata or menu).

From these, ``SectionBook.channels`` pairs each old channel with the new slug printed under the
same name (crawler/normalise/sections.py), and ``name_of`` gives a section's name for a page
that prints none. A new row is written at once, so the spider's notes and the pipeline's meet in
the database; the counts are added up in memory and written by ``flush``. The table is what
the crawl has learnt, not the archive of record: if the state is set aside, the next crawl learns
it again from the pages it reads (every page's menu names the sections), and the records keep
the keys they were given.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable

from crawler.normalise.sections import is_channel, pair_channels
from crawler.normalise.text import clean_line

logger = logging.getLogger(__name__)

LINK, TITLE, PAGE = "link", "title", "page"
KINDS = (LINK, TITLE, PAGE)
# A name no longer than this is a section's (longer ones are not kept).
MAX_NAME_CHARS = 60


class SectionBook:
    """The section names an archive has learnt, read from and written to its state database."""

    def __init__(self, db: sqlite3.Connection | None):
        self.db = db
        self.seen: Counter[tuple[str, str, str]] = Counter()
        self._unsaved: Counter[tuple[str, str, str]] = Counter()
        self._mark = -1
        self._channels: dict[str, str] | None = None
        self.reload()

    # --- reading ------------------------------------------------------------------------------

    def reload(self) -> bool:
        """Read rows other connections added since the last look (the spider's); True if any."""
        if self.db is None:
            return False
        try:
            mark = self.db.execute("SELECT coalesce(max(rowid), 0) FROM section_names")\
                .fetchone()[0]
            if mark == self._mark:
                return False
            rows = self.db.execute("SELECT code, name, kind, seen FROM section_names").fetchall()
        except sqlite3.OperationalError:  # a state database from before the table (read-only)
            return False
        self._mark = mark
        self.seen = Counter({(code, name, kind): seen for code, name, kind, seen in rows})
        self.seen.update(self._unsaved)
        self._channels = None
        return True

    def names(self) -> dict[str, Counter[str]]:
        """Return, for each section code, the names printed for it and how often."""
        found: dict[str, Counter[str]] = {}
        for (code, name, _kind), count in self.seen.items():
            found.setdefault(code, Counter())[name] += count
        return found

    def categories(self) -> set[str]:
        """Return the slugs some article was seen under (new-CMS sections that hold articles)."""
        return {code for code, _name, kind in self.seen if kind == PAGE and not is_channel(code)}

    def channels(self) -> dict[str, str]:
        """Return {channel id: slug} for the channels whose slug the site's names tell."""
        if self._channels is None:
            self._channels = pair_channels(self.names(), self.categories())
        return self._channels

    def name_of(self, code: str) -> tuple[str, str] | None:
        """Return (the name, the kind of evidence) printed most for a section: its listing's
        title first, then its links and pages; None when nothing named it."""
        for kinds in ((TITLE,), (LINK, PAGE)):
            counts: Counter[str] = Counter()
            for (c, name, kind), count in self.seen.items():
                if c == code and kind in kinds:
                    counts[name] += count
            if counts:
                name = min(counts, key=lambda n: (-counts[n], n))
                return name, kinds[0]
        return None

    # --- writing ------------------------------------------------------------------------------

    def note(self, pairs: Iterable[tuple[str, str]], kind: str, at: str | None = None) -> int:
        """Count (code, name) pairs of one kind of evidence; write the new ones at once.
        Return how many were new."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind of section evidence: {kind!r}")
        new = []
        for code, printed in pairs:
            name = clean_line(printed)
            if not code or not name or len(name) > MAX_NAME_CHARS:
                continue
            key = (code, name, kind)
            if key not in self.seen:
                new.append(key)
            self.seen[key] += 1
            self._unsaved[key] += 1
        if new:
            self._write("INSERT INTO section_names(code, name, kind, seen, first_seen)"
                        " VALUES(?, ?, ?, 0, ?) ON CONFLICT DO NOTHING",
                        [(*key, at) for key in new])
            self._channels = None
        return len(new)

    def flush(self) -> None:
        """Write the counts added up since the last flush."""
        if not self._unsaved:
            return
        self._write("INSERT INTO section_names(code, name, kind, seen) VALUES(?, ?, ?, ?)"
                    " ON CONFLICT(code, name, kind) DO UPDATE SET seen = seen + excluded.seen",
                    [(*key, count) for key, count in self._unsaved.items()])
        self._unsaved.clear()

    def _write(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        """Run one statement over rows in one transaction (the state is in autocommit mode)."""
        if self.db is None:
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(sql, rows)
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @classmethod
    def snapshot(cls, db: sqlite3.Connection | None) -> SectionBook:
        """Return what ``db`` holds (None: nothing) as a book that writes nothing: what is
        noted in it stays in memory (the analysts' commands never change an archive)."""
        book = cls(db)
        book.db = None
        return book
