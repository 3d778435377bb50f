"""Sitemaps and feeds: where the site lists its own articles, when it does.

Found through robots.txt's ``Sitemap:`` lines and at the usual locations (the ``SITEMAP_LOCATIONS``
setting: ``/sitemap.xml``, ``/sitemap_index.xml``, ``/rss``, ``/feed``). Four shapes are read: a
sitemap index (``<sitemapindex>``: more sitemaps, each with its ``lastmod``), a sitemap
(``<urlset>``: article URLs with ``lastmod``, and ``news:publication_date`` when it is a news
sitemap), RSS 2.0 (``<item>`` with ``<link>`` and ``<pubDate>``) and Atom (``<entry>`` with
``<link href>``, ``<published>``, ``<updated>``). Anything else (the site's 404 page at a
location that holds no sitemap) is "not a sitemap", never an error. Gzipped sitemaps are read too.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from lxml import etree

from crawler.normalise.dates import VN_TZ
from crawler.site.urls import ArticleRef, is_site_url, parse_article_url

INDEX, URLSET, RSS, ATOM = "sitemapindex", "urlset", "rss", "atom"
# Bigger than any sitemap the protocol allows (50 MB uncompressed).
MAX_UNZIPPED = 64 * 1024 * 1024
_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_W3C_DATE = re.compile(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True,
                          remove_comments=True, remove_pis=True, huge_tree=False)


@dataclass(frozen=True)
class SitemapEntry:
    """One article a sitemap or feed lists: its URL, when it last changed, when it was published."""

    url: str
    ref: ArticleRef
    lastmod: dt.datetime | None = None
    published: dt.date | None = None


@dataclass
class SitemapPage:
    """What one sitemap or feed offers: more sitemaps, articles, and what it listed besides."""

    kind: str
    children: list[tuple[str, dt.datetime | None]] = field(default_factory=list)
    entries: list[SitemapEntry] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def sitemaps_from_robots(robots_txt: str, base_url: str) -> list[str]:
    """Return the sitemap URLs robots.txt names (``Sitemap:`` lines), absolute, in order."""
    found = [urljoin(base_url, m.group(1)) for m in _SITEMAP_LINE.finditer(robots_txt)]
    return list(dict.fromkeys(found))


def parse_lastmod(text: str | None) -> dt.datetime | None:
    """Return a W3C datetime (``2024-02-06``, ``2024-02-06T14:16:00+07:00``) as an aware datetime.

    A date without a time is that day's start in Vietnam time; None when it does not parse."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        if _W3C_DATE.match(text):
            parts = [int(p) for p in text.split("-")] + [1, 1]
            return dt.datetime(parts[0], parts[1], parts[2], tzinfo=VN_TZ)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=VN_TZ)


def _rfc822(text: str | None) -> dt.datetime | None:
    try:
        moment = parsedate_to_datetime((text or "").strip())
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=VN_TZ)


def _local(el: etree._Element) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    return tag.rsplit("}", 1)[-1].lower()


def _child_text(el: etree._Element, name: str) -> str | None:
    for child in el:
        if _local(child) == name:
            return (child.text or "").strip() or None
    return None


def _descendant_text(el: etree._Element, name: str) -> str | None:
    for child in el.iter():
        if child is not el and _local(child) == name:
            return (child.text or "").strip() or None
    return None


def _root(body: bytes) -> etree._Element | None:
    if body[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as fh:
                body = fh.read(MAX_UNZIPPED + 1)
        except (OSError, EOFError):
            return None
        if len(body) > MAX_UNZIPPED:
            return None
    head = body[:512].lstrip(b"\xef\xbb\xbf\t\r\n ").lower()
    # A sitemap or feed is XML; an HTML page at a usual location is the site's 404 or home page.
    if head.startswith((b"<!doctype html", b"<html")):
        return None
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    return root


def parse_sitemap(body: bytes, url: str, hosts: frozenset[str] | set[str]) -> SitemapPage | None:
    """Return what a sitemap, sitemap index, RSS or Atom feed lists; None when it is none of them.

    Child sitemaps are kept on the site's hosts only; entries are the article URLs on them."""
    root = _root(body)
    if root is None:
        return None
    kind = _local(root)
    if kind == "feed":
        kind = ATOM
    if kind not in (INDEX, URLSET, RSS, ATOM):
        return None
    page = SitemapPage(kind=kind)
    if kind == INDEX:
        for item in root:
            loc = _child_text(item, "loc") if _local(item) == "sitemap" else None
            if not loc:
                continue
            child = urljoin(url, loc)
            if is_site_url(child, hosts):
                page.children.append((child, parse_lastmod(_child_text(item, "lastmod"))))
            else:
                page.skipped["offsite"] += 1
        return page
    for link, lastmod, published in _items(root, kind):
        if not link:
            continue
        absolute = urljoin(url, link)
        if not is_site_url(absolute, hosts):
            page.skipped["offsite"] += 1
            continue
        ref = parse_article_url(absolute)
        if ref is None:
            page.skipped["not-article"] += 1
            continue
        page.entries.append(SitemapEntry(absolute, ref, lastmod,
                                         published.astimezone(VN_TZ).date() if published else None))
    return page


def _items(root: etree._Element, kind: str):
    """Yield (link, lastmod, published) for each entry of a urlset, RSS or Atom root."""
    if kind == URLSET:
        for item in root:
            if _local(item) == "url":
                published = parse_lastmod(_descendant_text(item, "publication_date"))
                yield _child_text(item, "loc"), parse_lastmod(_child_text(item, "lastmod")), \
                    published
    elif kind == RSS:
        for item in root.iter():
            if _local(item) == "item":
                published = _rfc822(_child_text(item, "pubdate"))
                # An RSS item tells when it was published, not when it last changed.
                yield _child_text(item, "link") or _child_text(item, "guid"), None, published
    else:
        for item in root:
            if _local(item) != "entry":
                continue
            links = [child for child in item if _local(child) == "link"]
            link = next((a.get("href") for a in links
                         if (a.get("rel") or "alternate") == "alternate" and a.get("href")), None)
            published = parse_lastmod(_child_text(item, "published"))
            updated = parse_lastmod(_child_text(item, "updated")) or published
            yield link, updated, published
