"""Sections as the analysts see them: every record keyed by what the archive knows now.

A record's ``section_key`` is what was known when it was archived (crawler/normalise/sections.py):
an old-CMS record archived before the crawl learnt its channel's slug carries the slug of its
printed name, or its channel id. ``export`` and ``report`` key every record by what the archive
knows at the time they run: the channels the state has paired (crawler/store/sections.py), and
the names the records themselves print (so an archive whose state was rebuilt still pairs them);
a record whose page printed no name is keyed by the name the site prints for its section
elsewhere. Records from before schema 1.3.0 get a key the same way (from their URL's section).

``rekey_rows`` does the same to the rows of the SQLite export. ``section_table`` is one row per
key: the names printed for it, its old channel ids and new slug,
articles in each CMS generation and the months they span (the report page's table; a SQLite or
other export can take it as it is).
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crawler.analysis.readonly import open_state
from crawler.normalise.sections import is_channel, section_key
from crawler.store.archive import iter_records, partition_of
from crawler.store.sections import PAGE, SectionBook


class ArchiveSections:
    """What an archive knows of its sections: its state's names and the names its records print,
    read once; keys records by it."""

    def __init__(self, book: SectionBook):
        self.book = book
        self.channels = book.channels()
        self._names: dict[str, str | None] = {}

    @classmethod
    def of(cls, root: str | os.PathLike[str],
           printed: Counter[tuple[str, str]] | None = None) -> ArchiveSections:
        """Read the archive's state (read-only) and the names its records print: ``printed``,
        (section, section_name) of the lines counted, or the archive's lines read here."""
        db = open_state(root)
        try:
            book = SectionBook.snapshot(db)
        finally:
            if db is not None:
                db.close()
        if printed is None:
            printed = names_printed(iter_records(root))
        book.note((pair for pair, n in printed.items() for _ in range(n)), PAGE)
        return cls(book)

    def name_of(self, section: str) -> str | None:
        """Return the name the site prints most for a section (its listing's title first)."""
        code = section.lower()
        if code not in self._names:
            found = self.book.name_of(code)
            self._names[code] = found[0] if found else None
        return self._names[code]

    def rekeyed(self, record: dict[str, Any]) -> dict[str, Any]:
        """Return the record with ``section_key`` as the archive knows it now: the same record
        when that changes nothing, else a copy whose provenance says how the key was found (the
        line's own ``section_name`` is left as it was archived)."""
        section = record.get("section")
        if not section:
            return record
        name = record.get("section_name") or self.name_of(section)
        key, how = section_key(section, record.get("cms"), name, self.channels)
        if key == record.get("section_key") and \
                (record.get("provenance") or {}).get("section_key") == how:
            return record
        changed = dict(record, section_key=key)
        changed["provenance"] = {**(record.get("provenance") or {}), "section_key": how}
        return changed


def rekey_rows(db: sqlite3.Connection, table: str, root: str | os.PathLike[str]) -> int:
    """Set ``section_key`` (and its provenance) of an SQLite table of records (the SQLite
    export's ``articles``: one column per field, provenance as JSON text) to what the archive
    knows now; return how many rows changed. The names the rows print stand for the records'."""
    groups = db.execute(
        f"SELECT section, cms, section_name, section_key, json_extract(provenance, "
        f"'$.section_key'), count(*) FROM {table} WHERE section IS NOT NULL "
        f"GROUP BY 1, 2, 3, 4, 5").fetchall()
    printed: Counter[tuple[str, str]] = Counter()
    for section, _cms, name, _key, _how, count in groups:
        if name:
            printed[section.lower(), name] += count
    known = ArchiveSections.of(root, printed)
    changed = 0
    for section, cms, name, key, how, _count in groups:
        record = {"section": section, "cms": cms, "section_name": name, "section_key": key,
                  "provenance": {"section_key": how} if how else {}}
        now = known.rekeyed(record)
        if now is record:
            continue
        changed += db.execute(
            f"UPDATE {table} SET section_key = ?, provenance = json_set(coalesce(provenance, "
            f"'{{}}'), '$.section_key', ?) WHERE section = ? AND cms IS ? AND "
            f"section_name IS ? AND section_key IS ?",
            (now["section_key"], now["provenance"]["section_key"], section, cms, name,
             key)).rowcount
    return changed


def names_printed(records: Iterable[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """Return how often each (section code, section_name) is printed by the records."""
    return Counter((r["section"].lower(), r["section_name"]) for r in records
                   if r.get("section") and r.get("section_name"))


@dataclass
class SectionRow:
    """One section of the archive, by its key."""

    key: str
    names: Counter[str] = field(default_factory=Counter)
    channels: set[str] = field(default_factory=set)
    slugs: set[str] = field(default_factory=set)
    articles: Counter[str] = field(default_factory=Counter)  # by CMS generation
    months: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        """The name printed most often for the section ('' when none)."""
        return min(self.names, key=lambda n: (-self.names[n], n)) if self.names else ""

    @property
    def total(self) -> int:
        return sum(self.articles.values())


def section_table(latest: Iterable[dict[str, Any]], known: ArchiveSections) -> list[SectionRow]:
    """Return one row per section key of the records given (each article's latest version),
    most articles first; records with no section at all are left out."""
    rows: dict[str, SectionRow] = {}
    for record in latest:
        record = known.rekeyed(record)
        key = record.get("section_key")
        if not key:
            continue
        row = rows.setdefault(key, SectionRow(key))
        if record.get("section_name"):
            row.names[record["section_name"]] += 1
        section = record.get("section")
        if section:
            (row.channels if is_channel(section) else row.slugs).add(section.lower())
        row.articles[record.get("cms") or "unknown"] += 1
        month = partition_of(record)
        if month != "undated":
            row.months.add(month)
    return sorted(rows.values(), key=lambda r: (-r.total, r.key))
