"""Listing pages (home, channel and category listings): their articles, next page and listings.

Article links on hosts that are not the site's are not followed but returned too
(``dropped_links``): the spider counts them, since an alias missing from SITE_HOST_ALIASES would
otherwise lose its articles without a word.

Pure functions over HTML, like crawler/extract/article.py. Nothing here assumes a URL scheme for
pagination: the next page is the link the page itself marks as next (``rel=next``, or in a
pagination block the number after the current page, or a "next" arrow).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import etree

from crawler.extract.html import element_text, parse_html
from crawler.extract.sections import listing_title, section_links
from crawler.normalise.dates import find_date_text
from crawler.site.sections import listing_path, listing_section
from crawler.site.urls import ArticleRef, ascii_digits, is_site_url, parse_article_url

NEXT_TEXTS = frozenset({"sau", "trang sau", "tiếp", "»", "›", ">", ">>", "next", "tiếp theo"})
MAX_ENTRY_DEPTH = 5


@dataclass(frozen=True)
class ListingEntry:
    """One article as a listing shows it."""

    url: str
    ref: ArticleRef
    time_raw: str | None
    title: str | None


@dataclass
class ListingPage:
    """What a listing page offers: articles, its next page, and other listings it links to."""

    entries: list[ListingEntry] = field(default_factory=list)
    next_url: str | None = None
    listing_urls: list[str] = field(default_factory=list)
    # Article-shaped links on hosts that are not the site's: not followed, but counted.
    dropped_links: list[str] = field(default_factory=list)
    # The page's navigation links to section listings, (code, name), and the section this
    # listing is of with its title as printed: what names the sections (crawler/store/sections.py).
    section_links: tuple[tuple[str, str], ...] = ()
    section: str | None = None
    title: str | None = None


def listing_key(url: str) -> str | None:
    """Return the listing a URL belongs to (its path without query), or None for other pages."""
    return listing_path(url)


def _entry_time(link: etree._Element, key: str) -> str | None:
    """Find the date printed with an article link: in its smallest container of no other article."""
    node = link
    for _ in range(MAX_ENTRY_DEPTH):
        node = node.getparent()
        if node is None:
            return None
        keys = {ref.key for a in node.iter("a") if (ref := parse_article_url(a.get("href") or ""))}
        if keys - {key}:
            return None
        found = find_date_text(element_text(node))
        if found:
            return found
    return None


def _next_url(root: etree._Element, base: str) -> str | None:
    for a in root.iter("a"):
        if "next" in (a.get("rel") or "").lower().split() and a.get("href"):
            return urljoin(base, a.get("href"))
    for block in root.iter():
        if not isinstance(block.tag, str):
            continue
        tokens = f"{block.get('class', '')} {block.get('id', '')}".lower()
        if "pag" not in tokens or block.tag == "a":
            continue
        current = 1
        for el in block.iter():
            el_tokens = str(el.get("class", "")).lower()
            text = element_text(el) if isinstance(el.tag, str) else ""
            if ("active" in el_tokens or "current" in el_tokens) and ascii_digits(text):
                current = int(text)
        links = [a for a in block.iter("a") if a.get("href")]
        for a in links:
            if element_text(a).strip() == str(current + 1):
                return urljoin(base, a.get("href"))
        for a in links:
            if element_text(a).strip().lower() in NEXT_TEXTS:
                return urljoin(base, a.get("href"))
    return None


# A link urljoin would only append to the page's scheme and host: a path from the root with
# nothing it rewrites (dot segments, empty query or fragment, characters it drops; doubled slashes,
# which urljoin has treated differently from one Python version to another).
_PLAIN_PATH = re.compile(r"/(?!/)[^?#;\\\t\r\n]*")


class _Links:
    """``urljoin`` against one page's URL, and whether the result is on the site, with the
    common case (a plain path from the root) answered without parsing: a listing page holds
    some sixty links, and joining them cost more than the rest of its parse."""

    def __init__(self, base: str, hosts: frozenset[str]):
        self.base = base
        self.hosts = hosts
        parts = urlsplit(base)
        self.origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") \
            and parts.netloc else None
        self.origin_on_site = self.origin is not None and is_site_url(base, hosts)

    def join(self, href: str) -> tuple[str, bool]:
        """Return (``urljoin(base, href)``, whether it is http(s) on one of the site's hosts)."""
        if self.origin is not None and _PLAIN_PATH.fullmatch(href) and "//" not in href \
                and "/." not in href:
            return self.origin + href, self.origin_on_site
        absolute = urljoin(self.base, href)
        return absolute, is_site_url(absolute, self.hosts)


def parse_listing(html: str, url: str, hosts: frozenset[str]) -> ListingPage:
    """Return the articles, the next page and the listings linked from a listing or home page."""
    page = ListingPage()
    if not html.strip():
        return page
    root = parse_html(html)
    seen: set[str] = set()
    listings: set[str] = set()
    links = _Links(url, hosts)
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        absolute, on_site = links.join(href)
        if not on_site:
            if urlsplit(absolute).scheme in ("http", "https") and parse_article_url(absolute) \
                    and absolute not in page.dropped_links:
                page.dropped_links.append(absolute)
            continue
        ref = parse_article_url(absolute)
        if ref is None:
            key = listing_key(absolute)
            if key and key not in listings and key != "/":
                listings.add(key)
                page.listing_urls.append(absolute.split("?")[0].split("#")[0])
            continue
        if ref.key in seen:
            continue
        seen.add(ref.key)
        page.entries.append(ListingEntry(
            url=absolute, ref=ref, time_raw=_entry_time(a, ref.key),
            title=element_text(a) or a.get("title"),
        ))
    page.next_url = _next_url(root, url)
    if page.next_url and not is_site_url(page.next_url, hosts):
        page.next_url = None
    page.section_links = section_links(root, url, hosts)
    page.section = listing_section(url)
    page.title = listing_title(root) if page.section else None
    return page
