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
says so.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import HtmlResponse
from warcio.archiveiterator import ArchiveIterator

from crawler.analysis.readonly import open_state
from crawler.extract.listings import listing_key, parse_listing
from crawler.site.urls import parse_article_url

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


def _cdxj(root: Path) -> list[dict[str, Any]]:
    path = root / "raw" / "index.cdxj"
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text("utf-8", errors="replace").splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3:
            try:
                entries.append(json.loads(parts[2]))
            except ValueError:
                continue
    return entries


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


def promised_missing(root: str | Path, archived: set[str]) -> dict[str, Promise]:
    """Return every article some source promised that is not among ``archived`` ids."""
    base = Path(root)
    found: dict[str, Promise] = {}

    def promise(article_id: str | None, month: str | None, source: str) -> Promise | None:
        if not article_id or article_id in archived or not month:
            return None
        entry = found.setdefault(article_id, Promise(month))
        entry.sources.add(source)
        return entry

    captures = _cdxj(base)
    hosts = frozenset(urlsplit(e.get("url", "")).hostname or "" for e in captures) - {""}
    for entry in captures:
        url = entry.get("url", "")
        ref = parse_article_url(url)
        if ref is not None:
            found_entry = promise(ref.id, url_month(url), "fetched")
            if found_entry is not None:
                found_entry.status = str(entry.get("status"))
        elif str(entry.get("status")) == "200" and "html" in entry.get("mime", "") and \
                _is_listing(url):
            for link in _listing_links(base, entry, hosts):
                linked = parse_article_url(link)
                if linked is not None:
                    promise(linked.id, url_month(link), "listing")

    for path in sorted((base / "rejects").glob("*.jsonl")):
        with path.open("rb") as fh:
            for raw in fh:
                try:
                    reject = json.loads(raw)
                    url = reject["url"]
                except (ValueError, KeyError, TypeError):
                    continue
                ref = parse_article_url(url)
                entry = promise(reject.get("id") or (ref.id if ref else None), url_month(url),
                                "rejected")
                if entry is not None:
                    entry.reason = reject.get("reason")  # files are in day order: latest wins

    db = open_state(base)
    if db is not None:
        try:
            for url, article_id, reason in db.execute("SELECT url, id, reason FROM rejects"):
                entry = promise(article_id, url_month(url), "rejected")
                if entry is not None:
                    entry.reason = entry.reason or reason
            for article_id, published, url in db.execute(
                    "SELECT id, published_date, url FROM articles"):
                month = (published or "")[:7] or url_month(url or "")
                promise(article_id, month, "state")
        except Exception as exc:  # an older or damaged state: the files still speak
            logger.warning("cannot read the state database: %s", exc)
        finally:
            db.close()
    return found


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


def missing_by_month(promises: dict[str, Promise]) -> dict[str, Counter[str]]:
    """Return, per month, how many promised articles are missing, by reason."""
    months: dict[str, Counter[str]] = {}
    for promise in promises.values():
        months.setdefault(promise.month, Counter())[why(promise)] += 1
    return months
