"""``python -m crawler search``: full-text search of the archive's SQLite database, tones optional.

A query is words and "quoted phrases". Each is folded by ``search_key`` (crawler/normalise/text.py),
the function the database's index was built with, so "tran hung dao", "Tran Hung Dao" and
"Trần Hưng Đạo" are the same query, and "Đ" and "D" the same letter. Words are ANDed; a phrase
must appear as written, words in order. A word that folds to several (``Trần-Hưng``) is a phrase.

Ranking: articles whose title holds every word and phrase come first, then FTS5's bm25 with the
columns weighted (title 10, lead 4, body 1). The snippet is cut from the original text around the
matches, found by a pattern built from the same fold (every letter with its toned and marked
forms), so it shows the words as printed. ``fts_query`` is what Datasette's search box uses too
(crawler/analysis/serve.py): the command and the served page answer the same.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from crawler.analysis.database import FTS
from crawler.normalise.keys import search_key

_QUOTED = re.compile(r'"([^"]*)"?|(\S+)')
SNIPPET_CHARS = 220


class QueryError(ValueError):
    """A query with nothing to search for."""


@dataclass(frozen=True)
class Query:
    """A parsed query: each term is a tuple of folded tokens, a phrase when there are several."""

    text: str
    terms: tuple[tuple[str, ...], ...]

    def match(self) -> str:
        """Return the FTS5 MATCH expression: every term, ANDed; '""' (nothing) when empty."""
        if not self.terms:
            return '""'
        return " ".join('"' + " ".join(term) + '"' for term in self.terms)

    def title_match(self) -> str:
        """Return the MATCH expression of the terms in the title alone."""
        return f"title : ({self.match()})"


def parse(text: str) -> Query:
    """Parse a query: words and "quoted phrases", each folded by search_key."""
    terms = []
    for phrase, word in _QUOTED.findall(text or ""):
        tokens = tuple(search_key(phrase if phrase else word).split())
        if tokens and tokens not in terms:
            terms.append(tokens)
    return Query(text, tuple(terms))


def fts_query(text: str | None) -> str:
    """Return the FTS5 MATCH expression of a query typed by a person (Datasette's escape_fts)."""
    return parse(text or "").match()


# --- Highlighting ------------------------------------------------------------------------------

_MARK_RUN = "[\u0300-\u036f]*"


@lru_cache(maxsize=1)
def _letter_forms() -> dict[str, str]:
    """Return, per folded letter, a character class of every character search_key folds to it."""
    forms: dict[str, set[str]] = {}
    ranges = [(0x20, 0x24F), (0x1E00, 0x1EFF)]
    for first, last in ranges:
        for code in range(first, last + 1):
            ch = chr(code)
            key = search_key(ch)
            if len(key) == 1 and key.isalnum():
                forms.setdefault(key, {key}).add(ch)
    return {key: "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"
            for key, chars in forms.items()}


def _term_pattern(term: tuple[str, ...]) -> str:
    forms = _letter_forms()
    words = ["".join(forms.get(ch, re.escape(ch)) + _MARK_RUN for ch in token) for token in term]
    return r"(?<!\w)" + r"\W+".join(words) + r"(?!\w)"


@lru_cache(maxsize=64)
def highlighter(query: Query) -> re.Pattern[str] | None:
    """Return a pattern matching the query's terms in original text (any tones, any case)."""
    if not query.terms:
        return None
    return re.compile("|".join(f"({_term_pattern(t)})" for t in query.terms), re.IGNORECASE)


def snippet(text: str | None, query: Query, *, chars: int = SNIPPET_CHARS,
            marks: tuple[str, str] = ("**", "**")) -> str:
    """Return a passage of ``text`` around its best run of matches, each match between ``marks``."""
    text = " ".join((text or "").split())
    pattern = highlighter(query)
    found = list(pattern.finditer(text)) if pattern else []
    if not found:
        cut = text[:chars]
        return cut + ("…" if len(text) > chars else "")
    # The window that holds the most different terms, then the most matches.
    best, best_score = 0, (-1, -1)
    for i, first in enumerate(found):
        inside = [m for m in found[i:] if m.end() <= first.start() + chars]
        score = (len({m.lastindex for m in inside}), len(inside))
        if score > best_score:
            best, best_score = i, score
    start = max(0, found[best].start() - chars // 4)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < found[best].start() else start
    end = min(len(text), start + chars)
    if end < len(text):
        space = text.rfind(" ", found[best].end(), end)
        end = space if space > 0 else end
    out, at = [], start
    for m in found:
        if m.start() < start or m.end() > end:
            continue
        out += [text[at:m.start()], marks[0], m.group(), marks[1]]
        at = m.end()
    out.append(text[at:end])
    # Matches one space apart are one run: "**Lễ hội Phủ Dày**", not "**Lễ** **hội** ...".
    joined = "".join(out).replace(f"{marks[1]} {marks[0]}", " ")
    return ("…" if start else "") + joined + ("…" if end < len(text) else "")


# --- Filters -----------------------------------------------------------------------------------


def _period(value: str, *, end: bool) -> str:
    """Return YYYY-MM-DD for ``--since``/``--until`` given as YYYY, YYYY-MM or YYYY-MM-DD."""
    parts = value.strip().split("-")
    try:
        if len(parts) == 1:
            day = dt.date(int(parts[0]), 12 if end else 1, 31 if end else 1)
        elif len(parts) == 2:
            first = dt.date(int(parts[0]), int(parts[1]), 1)
            day = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) \
                - dt.timedelta(days=1) if end else first
        else:
            day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise QueryError(f"not a date (YYYY, YYYY-MM or YYYY-MM-DD): {value!r}") from None
    return day.isoformat()


def article_columns(db: sqlite3.Connection) -> set[str]:
    """Return the columns of the database's articles table."""
    return {row[1] for row in db.execute("PRAGMA table_info(articles)")}


def filters(db: sqlite3.Connection, *, since: str | None = None, until: str | None = None,
            section: str | None = None) -> tuple[str, list[Any]]:
    """Return SQL conditions on ``a`` (articles) and their parameters for the options given."""
    where, params = [], []
    # A record known only to its month (published_date null) counts in its month.
    if since:
        day = _period(since, end=False)
        where.append("(a.published_date >= ? OR (a.published_date IS NULL AND "
                     "a.published_month >= ?))")
        params += [day, day[:7]]
    if until:
        day = _period(until, end=True)
        where.append("(a.published_date <= ? OR (a.published_date IS NULL AND "
                     "a.published_month <= ?))")
        params += [day, day[:7]]
    if section:
        names = article_columns(db)
        alternatives = ["a.section = ?"]
        params.append(section)
        for column in ("section_key", "section_name"):
            if column in names:
                alternatives.append(f"search_key(a.{column}) = ?")
                params.append(search_key(section))
        where.append("(" + " OR ".join(alternatives) + ")")
    return (" AND ".join(where) or "1"), params


# --- Searching ---------------------------------------------------------------------------------


@dataclass
class Match:
    """One article that matches."""

    id: str
    title: str | None
    url: str
    published_date: str | None
    published_month: str
    section: str | None
    snippet: str
    key: str = ""  # the article's key (CMS generation and id): two articles may share an id

    def record(self) -> dict[str, Any]:
        """Return the match as the JSON object ``--format jsonl`` prints."""
        return dict(self.__dict__)


def connect(path: str) -> sqlite3.Connection:
    """Open the search database read-only, with the functions searching needs."""
    from pathlib import Path

    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    prepare(db)
    return db


def prepare(db: sqlite3.Connection) -> None:
    """Give a connection the SQL functions a search uses: search_key() and fts_query()."""
    db.create_function("search_key", 1, lambda s: search_key(s) if s is not None else None,
                       deterministic=True)
    db.create_function("fts_query", 1, fts_query, deterministic=True)


def _section_shown(db: sqlite3.Connection) -> str:
    return "coalesce(a.section_name, a.section)" if "section_name" in article_columns(db) \
        else "a.section"


def _ranked(db: sqlite3.Connection, match: str, where: str, params: list[Any],
            limit: int) -> list[int]:
    """Return the rowids matching an FTS5 expression and the filters, best rank first."""
    narrowed = "" if where == "1" else \
        f" AND rowid IN (SELECT a.rowid FROM articles a WHERE {where})"
    sql = f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH ?{narrowed} ORDER BY rank LIMIT ?"
    return [rowid for (rowid,) in db.execute(sql, [match, *params, limit])]


def search(db: sqlite3.Connection, query: Query, *, limit: int | None = 20,
           **options: str | None) -> list[Match]:
    """Return the best matches of ``query``: those with every term in the title first, then the
    rest, each by FTS5's rank (bm25 with the columns weighted, database.WEIGHTS)."""
    if not query.terms:
        return []
    where, params = filters(db, **options)
    wanted = -1 if limit is None else limit
    # In two steps, so that SQLite never sorts more than the title matches or reads any article
    # row but the ones shown: a common word matches most of the paper.
    rowids = _ranked(db, query.title_match(), where, params, wanted)
    if limit is None or len(rowids) < limit:
        rest = f"({query.match()}) NOT ({query.title_match()})"
        rowids += _ranked(db, rest, where, params, -1 if limit is None else limit - len(rowids))
    if not rowids:
        return []
    found = {}
    for start in range(0, len(rowids), 500):
        chunk = rowids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in db.execute('SELECT a.rowid, a.id, a.title, a.url, a.published_date, '
                              f'a.published_month, {_section_shown(db)}, a.lead, a.body, a."key" '
                              f"FROM articles a WHERE a.rowid IN ({marks})", chunk):
            found[row[0]] = row[1:]
    out = []
    for rowid in rowids:
        article_id, title, url, date, month, section, lead, body, key = found[rowid]
        text = passage_source(query, body, lead, title)
        out.append(Match(article_id, title, url, date, month, section, snippet(text, query),
                         key))
    return out


def count(db: sqlite3.Connection, query: Query, **options: str | None) -> int:
    """Return how many articles match."""
    where, params = filters(db, **options)
    narrowed = "" if where == "1" else \
        f" AND rowid IN (SELECT a.rowid FROM articles a WHERE {where})"
    sql = f"SELECT count(*) FROM {FTS} WHERE {FTS} MATCH ?{narrowed}"
    return db.execute(sql, [query.match(), *params]).fetchone()[0]


def months_between(first: str, last: str) -> list[str]:
    """Return every YYYY-MM from ``first`` to ``last``, both included."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def by_month(db: sqlite3.Connection, query: Query, **options: str | None) -> list[tuple[str, int]]:
    """Return (YYYY-MM, matching articles) for every month from the first match to the last
    (or over --since/--until when given), months without a match as 0."""
    where, params = filters(db, **options)
    sql = (f"SELECT a.published_month, count(*) FROM articles a WHERE a.rowid IN "
           f"(SELECT rowid FROM {FTS} WHERE {FTS} MATCH ?) AND {where} "
           f"GROUP BY a.published_month")
    counts = dict(db.execute(sql, [query.match(), *params]))
    first = _period(options["since"], end=False)[:7] if options.get("since") else \
        min(counts, default=None)
    last = _period(options["until"], end=True)[:7] if options.get("until") else \
        max(counts, default=None)
    if first is None or last is None:
        return []
    return [(month, counts.get(month, 0)) for month in months_between(first, last)]


def passage_source(query: Query, *texts: str | None) -> str:
    """Return the first of ``texts`` (body, lead, title) holding the most terms of the query."""
    pattern = highlighter(query)
    best, best_terms = "", -1
    for text in texts:
        terms = len({m.lastindex for m in pattern.finditer(text or "")}) if pattern else 0
        if text and terms > best_terms:
            best, best_terms = text, terms
    return best
