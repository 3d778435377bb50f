"""What the sources promised: every article the archive knows exists, with the month it belongs to.

An article is *promised* when one of these says it exists (each article URL carries its month of
publication, ``/202201/``, so a promise has a month even without a record):

- ``listing``: a home or listing page captured in ``raw/`` (found through ``raw/index.cdxj``)
  links to it;
- ``fetched``: its article URL was requested (a response to it is in ``raw/index.cdxj``);
- ``rejected``: a reject (``rejects/`` lines, or the state's ``rejects`` table) names it;
- ``state``: the state database counts it as archived.

An archived article keeps its month of publication (``published_month``); a promised one that is
not archived counts as *missing* in its URL's month, with the reason: its latest reject's reason,
else what the other sources say. A month whose archive holds fewer articles than were promised is
a hole. What no source saw (a listing page that was never fetched) cannot be promised: the report
says so. Articles are told apart by their key (CMS generation and id); the promises are gathered
in a scratch database on disk, and the WARC index read a line at a time.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import HtmlResponse
from warcio.archiveiterator import ArchiveIterator

from crawler.analysis.readonly import open_state
from crawler.extract.listings import listing_key, parse_listing
from crawler.site.urls import parse_article_url
from crawler.store.statedb import key_of, reject_key

logger = logging.getLogger(__name__)


@dataclass
class Promise:
    """What the sources say of one article the archive does not hold."""

    month: str
    sources: set[str] = field(default_factory=set)
    reason: str | None = None  # the latest reject's reason, if any
    status: str | None = None  # the latest HTTP status its URL got, if fetched


def url_month(url: str) -> str | None:
    """Return ``YYYY-MM`` from an article URL's month segment, or None for other URLs."""
    ref = parse_article_url(url)
    if ref is None or len(ref.month) != 6:
        return None
    return f"{ref.month[:4]}-{ref.month[4:]}"


def reason_kind(reason: str) -> str:
    """Return a reject reason without its particulars (URLs, dates, counts), for grouping."""
    parts = reason.split("; ")[0].split(": ")
    kind = _plain(parts[0])
    if len(parts) > 1 and kind in ("date", "fetch failed", "text", "schema"):
        detail = _plain(parts[1])
        if detail:
            kind = f"{kind}: {detail}"
    return kind or reason


def _plain(text: str) -> str:
    for stop in (" (", " '", " \"", " «", " -> ", " http", " /"):
        text = text.split(stop)[0]
    words = []
    for word in text.split():
        if any(ch.isdigit() for ch in word) and not word.startswith("HTTP"):
            if not words or not words[-1].startswith("HTTP"):
                break
        words.append(word)
    return " ".join(words).strip(" :;,.")


def _cdxj(root: Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON of each line of ``raw/index.cdxj``, a line at a time."""
    path = root / "raw" / "index.cdxj"
    if not path.is_file():
        return
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) == 3:
                try:
                    yield json.loads(parts[2])
                except ValueError:
                    continue


def _listing_links(root: Path, entry: dict[str, Any], hosts: frozenset[str]) -> list[str]:
    """Return the article URLs a captured listing page links to."""
    path = root / "raw" / entry.get("filename", "")
    try:
        with path.open("rb") as fh:
            fh.seek(int(entry["offset"]))
            for record in ArchiveIterator(fh):
                body = record.content_stream().read()  # transfer and content codings undone
                headers = dict(record.http_headers.headers) if record.http_headers else {}
                response = HtmlResponse(entry["url"], body=body, headers={
                    "Content-Type": headers.get("Content-Type", "text/html")})
                page = parse_listing(response.text, entry["url"], hosts)
                return [e.url for e in page.entries]
    except (OSError, ValueError, KeyError, AttributeError, EOFError) as exc:
        logger.warning("cannot read the listing %s in %s: %s", entry.get("url"), path, exc)
    return []


def _is_listing(url: str) -> bool:
    return parse_article_url(url) is None and (
        (urlsplit(url).path or "/") in ("/", "/index.htm", "/index.html")
        or listing_key(url) is not None)


# Sources, as bits of promises.sources.
SOURCES = {"listing": 1, "fetched": 2, "rejected": 4, "state": 8}
PROMISES = """
CREATE TABLE IF NOT EXISTS promises (key TEXT PRIMARY KEY, month TEXT NOT NULL,
                                     sources INTEGER NOT NULL, reason TEXT, status TEXT);
DELETE FROM promises;
"""


class _Promises:
    """Promises kept in the caller's scratch database (table ``promises``), one row a key."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        for statement in PROMISES.split(";"):
            if statement.strip():
                db.execute(statement)

    def add(self, key: str | None, month: str | None, source: str, *, status: str | None = None,
            reason: str | None = None, reason_if_none: bool = False) -> None:
        """Record that ``source`` promised the article: the first promise gives the month, the
        last fetch its status, the last reject line its reason (the state's only if none)."""
        if not key or not month:
            return
        reason_sql = "COALESCE(promises.reason, excluded.reason)" if reason_if_none else \
            "COALESCE(excluded.reason, promises.reason)"
        self.db.execute(
            "INSERT INTO promises(key, month, sources, reason, status) VALUES(?, ?, ?, ?, ?)"
            f" ON CONFLICT(key) DO UPDATE SET sources = promises.sources | excluded.sources,"
            f" status = COALESCE(excluded.status, promises.status), reason = {reason_sql}",
            (key, month, SOURCES[source], reason, status))


def promised_missing(root: str | Path, db: sqlite3.Connection) -> Iterator[Promise]:
    """Yield every article some source promised that the archive does not hold.

    ``db`` is a scratch database whose table ``latest`` has a row (``key``) per archived
    article; the promises are gathered in its table ``promises``, not in memory."""
    base = Path(root)
    promises = _Promises(db)
    hosts = frozenset(urlsplit(e.get("url", "")).hostname or "" for e in _cdxj(base)) - {""}
    for entry in _cdxj(base):
        url = entry.get("url", "")
        ref = parse_article_url(url)
        if ref is not None:
            promises.add(ref.key, url_month(url), "fetched", status=str(entry.get("status")))
        elif str(entry.get("status")) == "200" and "html" in entry.get("mime", "") and \
                _is_listing(url):
            for link in _listing_links(base, entry, hosts):
                linked = parse_article_url(link)
                if linked is not None:
                    promises.add(linked.key, url_month(link), "listing")

    for path in sorted((base / "rejects").glob("*.jsonl")):
        with path.open("rb") as fh:
            for raw in fh:
                try:
                    reject = json.loads(raw)
                    url = reject["url"]
                except (ValueError, KeyError, TypeError):
                    continue
                # files are in day order: the latest reason wins
                promises.add(reject_key(reject), url_month(url), "rejected",
                             reason=reject.get("reason"))

    state = open_state(base)
    if state is not None:
        try:
            columns = {row[1] for row in state.execute("PRAGMA table_info(rejects)")}
            key = "key" if "key" in columns else "NULL"
            for url, article_id, reason, found in state.execute(
                    f"SELECT url, id, reason, {key} FROM rejects"):
                promises.add(found or key_of(article_id, url), url_month(url), "rejected",
                             reason=reason, reason_if_none=True)
            _state_months(state, promises)
        except Exception as exc:  # an older or damaged state: the files still speak
            logger.warning("cannot read the state database: %s", exc)
        finally:
            state.close()
    rows = db.execute("SELECT month, sources, reason, status FROM promises p WHERE NOT EXISTS"
                      " (SELECT 1 FROM latest l WHERE l.key = p.key)")
    for month, sources, reason, status in rows:
        yield Promise(month, {name for name, bit in SOURCES.items() if sources & bit},
                      reason, status)


def _state_months(state: sqlite3.Connection, promises: _Promises) -> None:
    """Promise every article the state counts as archived, in its month of publication."""
    columns = {row[1] for row in state.execute("PRAGMA table_info(articles)")}
    key = "key" if "key" in columns else "NULL"
    for found, article_id, published, url in state.execute(
            f"SELECT {key}, id, published_date, url FROM articles"):
        month = (published or "")[:7] or url_month(url or "")
        promises.add(found or key_of(article_id, url) or article_id, month, "state")


def why(promise: Promise) -> str:
    """Return why a promised article is missing, in a few words."""
    if promise.reason:
        return reason_kind(promise.reason)
    if "state" in promise.sources:
        return "in the state, but no line holds it"
    if promise.status and promise.status != "200":
        return f"HTTP {promise.status}, no record"
    if "fetched" in promise.sources:
        return "fetched, no record or reject"
    return "listed, never fetched"


def missing_by_month(promises: Iterable[Promise]) -> dict[str, Counter[str]]:
    """Return, per month, how many promised articles are missing, by reason."""
    months: dict[str, Counter[str]] = {}
    for promise in promises:
        months.setdefault(promise.month, Counter())[why(promise)] += 1
    return months
