"""The metadata layer: what JSON-LD, OpenGraph and ``article:*`` meta tags say about an article."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

ARTICLE_TYPES = frozenset({"NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting",
                           "AnalysisNewsArticle", "OpinionNewsArticle"})

# Meta tags that state a publication date, in the order tried (after JSON-LD's datePublished).
DATE_META_NAMES = ("article:published_time", "datePublished", "pubdate", "publishdate",
                   "og:published_time")


def _json_ld_articles(scripts: list[etree._Element]) -> Iterator[dict]:
    for script in scripts:
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                kinds = node.get("@type")
                kinds = set(kinds) if isinstance(kinds, list) else {kinds}
                if kinds & ARTICLE_TYPES:
                    yield node
                if "@graph" in node:
                    stack.append(node["@graph"])


def _json_ld_breadcrumb(scripts: list[etree._Element]) -> tuple[str, ...]:
    """Return the item names of the first JSON-LD BreadcrumbList, in position order."""
    for script in scripts:
        text = script.text or ""
        if "BreadcrumbList" not in text:
            continue
        try:
            stack = [json.loads(text)]
        except ValueError:
            continue
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict):
                kinds = node.get("@type")
                if "BreadcrumbList" in (kinds if isinstance(kinds, list) else [kinds]):
                    items = [i for i in node.get("itemListElement") or [] if isinstance(i, dict)]
                    items.sort(key=lambda i: i["position"] if isinstance(i.get("position"), int)
                               else 0)
                    names = (_ld_text(i.get("name")) or (_ld_text(i["item"]) if isinstance(
                        i.get("item"), dict) else None) for i in items)
                    return tuple(n for n in names if n)
                stack.extend(v for k, v in node.items() if k == "@graph")
    return ()


META_ATTRIBUTES = ("property", "name", "itemprop")
# Meta tags naming the article's author, after JSON-LD's (the first that names one).
AUTHOR_META_NAMES = ("author", "article:author", "dc.creator", "DC.creator")
# Elements other than <meta> that state the publication date as microdata.
# (From the attributes: "//body//*[@itemprop=...]" walked every element, at twice the cost.)
_MICRODATA_DATES = etree.XPath(
    "//@itemprop[.='datePublished']/parent::*[not(self::meta)][ancestor::body]")
# ... and that name the author (<span itemprop="author"><span itemprop="name">…</span></span>).
_MICRODATA_AUTHORS = etree.XPath("//@itemprop[.='author']/parent::*[ancestor::body]")
AUTHOR_NAME_CHARS = 60


def meta_tags(root: etree._Element) -> dict[tuple[str, str], str]:
    """Return, for each (attribute, value) of the page's meta tags, the content of the first
    tag that has it (empty when that tag has none): one pass over the page for every name."""
    return _head_tags(root)[0]


def _head_tags(root: etree._Element) -> tuple[dict[tuple[str, str], str], list[etree._Element],
                                              list[etree._Element]]:
    """Return the page's meta_tags, its JSON-LD scripts and its canonical links, in one pass
    (lxml's own iteration over three tag names): what ``script[type="application/ld+json"]``
    and ``link[rel="canonical"]`` find, in the same order."""
    tags: dict[tuple[str, str], str] = {}
    scripts: list[etree._Element] = []
    canonical: list[etree._Element] = []
    for el in root.iter("meta", "script", "link"):
        if el.tag == "meta":
            for attr in META_ATTRIBUTES:
                value = el.get(attr)
                if value is not None:
                    tags.setdefault((attr, value), el.get("content") or "")
        elif el.tag == "script":
            if el.get("type") == "application/ld+json":
                scripts.append(el)
        elif el.get("rel") == "canonical":
            canonical.append(el)
    return tags, scripts, canonical


def meta_content(root: etree._Element | dict[tuple[str, str], str], *names: str) -> str | None:
    """Return the content of the first non-empty meta tag of `names` (property, name, itemprop);
    ``root`` may be the page or its ``meta_tags``."""
    tags = root if isinstance(root, dict) else meta_tags(root)
    for name in names:
        for attr in META_ATTRIBUTES:
            content = tags.get((attr, name), "").strip()
            if content:
                return content
    return None


def _ld_text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return _ld_text(value.get("name"))
    if isinstance(value, list) and value:
        return _ld_text(value[0])
    return None


@dataclass
class Metadata:
    title: str | None = None
    date: str | None = None
    # Every distinct publication date the metadata states, in the order tried: a placeholder
    # in JSON-LD (0001-01-01) must not hide a true article:published_time.
    dates: tuple[str, ...] = ()
    lead: str | None = None
    # The lead is the JSON-LD article's own description (not a page-wide meta description).
    lead_from_article: bool = False
    body: str | None = None
    authors: tuple[str, ...] = ()
    section: str | None = None
    # The names of a JSON-LD BreadcrumbList, in position order (crawler/extract/sections.py).
    breadcrumb: tuple[str, ...] = ()
    canonical: str | None = None
    site_name: str | None = None
    # Names the publisher goes by: og:site_name, application-name, JSON-LD's publisher.
    publishers: tuple[str, ...] = ()


def read_metadata(root: etree._Element, html: str | None = None) -> Metadata:
    """Return what JSON-LD, OpenGraph and ``article:*`` meta tags say about the article.

    ``html``, the text ``root`` was parsed from, when given, spares the microdata search on a
    page that cannot hold a datePublished: it never writes the word, nor a character reference
    or a NUL (parse_html drops it) that could spell it."""
    meta = Metadata()
    tags, scripts, canonical = _head_tags(root)
    dates: list[str | None] = []
    publishers: list[str] = []
    for article in _json_ld_articles(scripts):
        meta.title = meta.title or _ld_text(article.get("headline"))
        dates.append(_ld_text(article.get("datePublished")))
        if not meta.lead:
            meta.lead = _ld_text(article.get("description"))
            meta.lead_from_article = bool(meta.lead)
        meta.body = meta.body or _ld_text(article.get("articleBody"))
        meta.section = meta.section or _ld_text(article.get("articleSection"))
        authors = article.get("author")
        authors = authors if isinstance(authors, list) else [authors]
        names = tuple(filter(None, (_ld_text(a) for a in authors)))
        meta.authors = meta.authors or names
        publisher = _ld_text(article.get("publisher"))
        if publisher:
            publishers.append(publisher)
    meta.title = meta.title or meta_content(tags, "og:title", "twitter:title")
    if not meta.authors:
        # <meta name="author">, article:author (a name, not a profile's URL), Dublin Core's.
        meta.authors = tuple(dict.fromkeys(
            value for value in (meta_content(tags, name) for name in AUTHOR_META_NAMES)
            if value and not value.startswith(("http://", "https://", "/"))))
    if not meta.authors and (html is None or "itemprop" in html):
        meta.authors = _microdata_authors(root)
    dates += [meta_content(tags, name) for name in DATE_META_NAMES]
    # Microdata on an element of the page (<time itemprop="datePublished" datetime="...">).
    if html is None or "datePublished" in html or "&#" in html or "\x00" in html:
        dates += [(el.get("content") or el.get("datetime") or el.text or "").strip()
                  for el in _MICRODATA_DATES(root)]
    meta.dates = tuple(dict.fromkeys(d for d in dates if d))
    meta.date = meta.dates[0] if meta.dates else None
    meta.lead = meta.lead or meta_content(tags, "og:description", "description",
                                          "twitter:description")
    meta.section = meta.section or meta_content(tags, "article:section")
    meta.breadcrumb = _json_ld_breadcrumb(scripts)
    meta.site_name = meta_content(tags, "og:site_name", "application-name")
    publishers += [name for name in (meta_content(tags, "og:site_name"),
                                     meta_content(tags, "application-name")) if name]
    meta.publishers = tuple(dict.fromkeys(publishers))
    meta.canonical = ((canonical[0].get("href") if canonical else None)
                      or meta_content(tags, "og:url"))
    return meta


def _microdata_authors(root: etree._Element) -> tuple[str, ...]:
    """Return the names the page's body marks as its author with microdata: an element's
    ``itemprop="name"`` inside, else its own text (a <meta>'s content), each a name's length."""
    names: list[str] = []
    for el in _MICRODATA_AUTHORS(root):
        named = next((n for n in el.iter() if n.get("itemprop") == "name"), el)
        text = named.get("content") if named.tag == "meta" else "".join(named.itertext())
        text = " ".join((text or "").split())
        if 0 < len(text) <= AUTHOR_NAME_CHARS and not text.startswith(("http://", "https://")):
            names.append(text)
    return tuple(dict.fromkeys(names))
