"""Layered extraction: an article page's HTML in, an ArticleItem out, with each field's layer.

Three layers are tried field by field, in order:
1. ``site``: the vendor CMS's markup, both generations (selectors in SITE_PROFILE below);
2. ``metadata``: JSON-LD, OpenGraph and ``article:*`` meta tags;
3. ``heuristic``: markup-agnostic rules (the densest block of paragraphs, the first heading,
   the first date-looking text after it).
The live site's markup has never been seen here, so the lower layers must carry a page on their
own; ``provenance`` in the record says which layer gave each field. Extraction keeps text as
printed (dates included); cleaning and normalising are the pipelines' job.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from urllib.parse import urljoin

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from crawler.normalise.dates import find_date_text
from crawler.items import ArticleItem
from crawler.normalise.text import parse_byline, parse_top_author, similar
from crawler.extract.urls import parse_article_url

SITE, METADATA, HEURISTIC, URL = "site", "metadata", "heuristic", "url"


class ExtractionError(ValueError):
    """The page is not an article, or not enough of one to make a record."""


@dataclass(frozen=True)
class SiteProfile:
    """Ordered CSS selectors per field for the vendor's CMS, old and new generation together."""

    title: tuple[str, ...]
    kicker: tuple[str, ...]
    date: tuple[str, ...]
    lead: tuple[str, ...]
    body: tuple[str, ...]
    byline: tuple[str, ...]
    top_author: tuple[str, ...]


# Class names seen on the vendor's sister papers (Báo Đà Nẵng, Báo Quảng Bình) and on the
# post-merger Ninh Bình pages; see shared/site-notes.md. Generic names last.
SITE_PROFILE = SiteProfile(
    title=("h2#title", "h1.article-title", "h1.title-detail", ".detail-title", "h1.title"),
    kicker=(".sub-title", ".article-kicker", ".kicker"),
    date=(".page-detail-meta .date", ".article-meta .article-time", ".page-detail-meta",
          ".article-time", ".detail-time", ".date-time"),
    lead=(".sapo", ".article-sapo", ".detail-sapo", ".lead"),
    body=(".detail-content", "#content_detail", ".article-content", ".col-content .content",
          ".page-detail-content", ".content-detail"),
    byline=("p.author", ".detail-author", ".article-author"),
    top_author=(".author-top",),
)

# Elements never part of article text, whatever the layer.
SKIP_TAGS = frozenset({"script", "style", "noscript", "iframe", "form", "button", "select",
                       "nav", "header", "footer", "aside", "svg", "input", "textarea", "video"})
# Class/id tokens of page chrome; used by the heuristic and to prune inside a body container.
CHROME_TOKENS = ("related", "footer", "menu", "nav", "sidebar", "col-right", "comment",
                 "reader-form", "share", "social", "breadcrumb", "paging", "pagination",
                 "tags", "banner", "advert", "box-related", "most-read", "author-top")
BLOCK_TAGS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
                        "blockquote", "table", "tbody", "tr", "td", "th", "section",
                        "article", "figure", "figcaption", "center", "pre", "dl", "dd", "dt"})
CAPTION_TOKENS = ("caption", "figcaption", "image-desc", "desc")
ARTICLE_TYPES = frozenset({"NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting",
                           "AnalysisNewsArticle", "OpinionNewsArticle"})
SITE_TITLE_SUFFIX = re.compile(r"\s*[-|–]\s*(Báo|Bao)\s+Nam\s+(Định|Dinh).*$", re.IGNORECASE)
MIN_BODY_CHARS = 200
MIN_PARAGRAPH_CHARS = 25


@cache
def _css(selector: str) -> CSSSelector:
    return CSSSelector(selector, translator="html")


def _first(root: etree._Element, selectors: tuple[str, ...]) -> etree._Element | None:
    for selector in selectors:
        found = _css(selector)(root)
        if found:
            return found[0]
    return None


def _tokens(el: etree._Element) -> str:
    return f"{el.get('class', '')} {el.get('id', '')}".lower()


def _is_chrome(el: etree._Element) -> bool:
    tokens = _tokens(el)
    return any(token in tokens for token in CHROME_TOKENS)


def _squash(text: str) -> str:
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def element_text(el: etree._Element) -> str:
    """Return an element's visible text, ``<br>`` as a line break, scripts and styles skipped."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if not isinstance(node.tag, str):  # comments, processing instructions
            if node.tail:
                parts.append(node.tail)
            return
        tag = node.tag.lower()
        if tag in ("script", "style", "noscript"):
            pass
        elif tag == "br":
            parts.append("\n")
        else:
            if tag in BLOCK_TAGS:
                parts.append("\n")
            if node.text:
                parts.append(node.text)
            for child in node:
                walk(child)
            if tag in BLOCK_TAGS:
                parts.append("\n")
        if node.tail:
            parts.append(node.tail)

    if el.text:
        parts.append(el.text)
    for child in el:
        walk(child)
    return _squash("".join(parts))


# --- Metadata ----------------------------------------------------------------------------------


def _json_ld_articles(root: etree._Element) -> Iterator[dict]:
    for script in _css('script[type="application/ld+json"]')(root):
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


def _meta(root: etree._Element, *names: str) -> str | None:
    for name in names:
        for attr in ("property", "name", "itemprop"):
            found = _css(f'meta[{attr}="{name}"]')(root)
            if found and (found[0].get("content") or "").strip():
                return found[0].get("content").strip()
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
class _Metadata:
    title: str | None = None
    date: str | None = None
    lead: str | None = None
    body: str | None = None
    authors: tuple[str, ...] = ()
    section: str | None = None
    canonical: str | None = None


def read_metadata(root: etree._Element) -> _Metadata:
    """Return what JSON-LD, OpenGraph and ``article:*`` meta tags say about the article."""
    meta = _Metadata()
    for article in _json_ld_articles(root):
        meta.title = meta.title or _ld_text(article.get("headline"))
        meta.date = meta.date or _ld_text(article.get("datePublished"))
        meta.lead = meta.lead or _ld_text(article.get("description"))
        meta.body = meta.body or _ld_text(article.get("articleBody"))
        meta.section = meta.section or _ld_text(article.get("articleSection"))
        authors = article.get("author")
        authors = authors if isinstance(authors, list) else [authors]
        names = tuple(filter(None, (_ld_text(a) for a in authors)))
        meta.authors = meta.authors or names
    meta.title = meta.title or _meta(root, "og:title", "twitter:title")
    meta.date = meta.date or _meta(root, "article:published_time", "datePublished",
                                   "pubdate", "publishdate", "og:published_time")
    meta.lead = meta.lead or _meta(root, "og:description", "description", "twitter:description")
    meta.section = meta.section or _meta(root, "article:section")
    canonical = _css('link[rel="canonical"]')(root)
    meta.canonical = (canonical[0].get("href") if canonical else None) or _meta(root, "og:url")
    return meta


# --- Body blocks -------------------------------------------------------------------------------


def _is_image_block(el: etree._Element) -> bool:
    tag = el.tag.lower()
    if tag == "img":
        return True
    if tag == "figure":
        return True
    if tag in ("table", "div", "p", "span") and _css("img")(el):
        text = element_text(el)
        # A container of a photo and at most a caption-sized text.
        return len(text) < 400 and (
            tag == "table" or any(t in _tokens(el) for t in ("image", "photo", "pic", "figure"))
            or bool(_css("figcaption, .caption, .image-caption, td.caption")(el))
            or not text
        )
    return False


def _image(el: etree._Element, page_url: str) -> dict[str, str | None]:
    img = el if el.tag.lower() == "img" else _css("img")(el)[0]
    src = img.get("src") or img.get("data-src") or img.get("data-original")
    caption_el = _first(el, ("figcaption", ".caption", ".image-caption", "td.caption", ".desc"))
    caption = element_text(caption_el) if caption_el is not None else None
    if caption is None and el.tag.lower() != "img":
        caption = element_text(el) or None
    return {
        "url": urljoin(page_url, src.strip()) if src else None,
        "alt": (img.get("alt") or img.get("title") or "").strip() or None,
        "caption": caption,
    }


def body_blocks(container: etree._Element, page_url: str) -> tuple[list[str], list[dict]]:
    """Split a content container into paragraphs and photos (with alt text and caption)."""
    paragraphs: list[str] = []
    images: list[dict] = []
    pending: list[str] = []

    def flush() -> None:
        text = _squash("".join(pending))
        pending.clear()
        if text:
            paragraphs.extend(p for p in text.split("\n") if p)

    def walk(el: etree._Element) -> None:
        if not isinstance(el.tag, str):
            if el.tail:
                pending.append(el.tail)
            return
        tag = el.tag.lower()
        if tag in SKIP_TAGS or _is_chrome(el):
            pass
        elif _is_image_block(el):
            flush()
            images.append(_image(el, page_url))
        elif tag == "br":
            pending.append("\n")
        elif tag in BLOCK_TAGS:
            flush()
            if el.text:
                pending.append(el.text)
            for child in el:
                walk(child)
            flush()
        else:
            if el.text:
                pending.append(el.text)
            for child in el:
                walk(child)
        if el.tail:
            pending.append(el.tail)

    if container.text:
        pending.append(container.text)
    for child in container:
        walk(child)
    flush()
    return paragraphs, images


def densest_block(root: etree._Element) -> etree._Element | None:
    """Return the element holding the most paragraph text outside page chrome (readability-style)."""
    scores: dict[etree._Element, float] = {}
    for p in _css("p, div")(root):
        if p.tag == "div" and any(child.tag in BLOCK_TAGS for child in p):
            continue
        if any(a.tag in SKIP_TAGS or _is_chrome(a) for a in p.iterancestors()) or _is_chrome(p):
            continue
        text = element_text(p)
        if len(text) < MIN_PARAGRAPH_CHARS:
            continue
        link_chars = sum(len(element_text(a)) for a in _css("a")(p))
        if link_chars > len(text) / 2:
            continue
        score = 1 + text.count(",") + min(len(text) / 100, 3)
        parent = p.getparent()
        if parent is not None:
            scores[parent] = scores.get(parent, 0) + score
            grandparent = parent.getparent()
            if grandparent is not None:
                scores[grandparent] = scores.get(grandparent, 0) + score / 2
    if not scores:
        return None
    return max(scores, key=scores.__getitem__)


# --- Assembly ----------------------------------------------------------------------------------


def _site_text(root: etree._Element, selectors: tuple[str, ...]) -> str | None:
    el = _first(root, selectors)
    text = element_text(el) if el is not None else ""
    return text or None


def _heuristic_title(root: etree._Element) -> str | None:
    for selector in ("h1", "h2"):
        for el in _css(selector)(root):
            if not any(_is_chrome(a) for a in el.iterancestors()):
                text = element_text(el)
                if len(text) > 10:
                    return text
    title = _css("title")(root)
    if title and title[0].text:
        return SITE_TITLE_SUFFIX.sub("", title[0].text).strip() or None
    return None


def _heuristic_date(root: etree._Element, after: etree._Element | None) -> str | None:
    # The date line follows the title: look there first, then anywhere outside chrome.
    candidates = list(after.itersiblings()) if after is not None else []
    if after is not None and after.getparent() is not None:
        candidates += list(after.getparent().itersiblings())
    candidates += [root]
    for el in candidates:
        if not isinstance(el.tag, str) or el.tag in SKIP_TAGS or _is_chrome(el):
            continue
        found = find_date_text(element_text(el)[:2000])
        if found:
            return found
    return None


def _pick(provenance: dict[str, str], field: str, *layers: tuple[str, object]) -> object:
    for layer, value in layers:
        if value:
            provenance[field] = layer
            return value
    return None


_UTF8_HTML_PARSER = lxml.html.HTMLParser(encoding="utf-8")


def _parse_html(html: str) -> etree._Element:
    """Parse a decoded page; an XHTML page's ``<?xml ... encoding=...?>`` line is no obstacle."""
    # A NUL carries nothing, and lxml would turn it into U+FFFD inside the text.
    html = html.replace("\x00", "")
    try:
        return lxml.html.fromstring(html)
    except ValueError:
        # lxml refuses a str that opens with an XML declaration naming an encoding; the text is
        # decoded already, so hand it over as UTF-8 bytes with the parser told so.
        return lxml.html.fromstring(html.encode("utf-8"), parser=_UTF8_HTML_PARSER)


def extract_article(
    html: str, url: str, *, fetched_at: str, site_url: str | None = None
) -> ArticleItem:
    """Return the article on a page as printed, or raise ExtractionError saying why there is none."""
    if not html or not html.strip():
        raise ExtractionError("empty page")
    try:
        root = _parse_html(html)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"unparseable HTML: {exc}") from exc
    meta = read_metadata(root)
    ref = parse_article_url(url) or (meta.canonical and parse_article_url(meta.canonical))
    if not ref:
        raise ExtractionError(f"not an article URL: {url}")
    provenance: dict[str, str] = {"id": URL, "url": URL, "section": URL}

    title_el = _first(root, SITE_PROFILE.title)
    title = _pick(
        provenance, "title",
        (SITE, element_text(title_el) if title_el is not None else None),
        (METADATA, meta.title and SITE_TITLE_SUFFIX.sub("", meta.title)),
        (HEURISTIC, _heuristic_title(root)),
    )
    date_raw = _pick(
        provenance, "published_raw",
        (SITE, _site_text(root, SITE_PROFILE.date)),
        (METADATA, meta.date),
        (HEURISTIC, _heuristic_date(root, title_el)),
    )

    container = _first(root, SITE_PROFILE.body)
    body_layer = SITE
    if container is None or len(element_text(container)) < MIN_BODY_CHARS:
        container, body_layer = densest_block(root), HEURISTIC
    paragraphs, images = body_blocks(container, url) if container is not None else ([], [])
    if sum(map(len, paragraphs)) < MIN_BODY_CHARS and meta.body:
        paragraphs, images, body_layer = [p for p in meta.body.split("\n") if p.strip()], [], \
            METADATA
    if sum(map(len, paragraphs)) < MIN_BODY_CHARS:
        raise ExtractionError("no article body found (not an article page?)")
    if not title:
        raise ExtractionError("no title found")

    lead = _pick(
        provenance, "lead",
        (SITE, _site_text(root, SITE_PROFILE.lead)),
        (METADATA, meta.lead),
        (HEURISTIC, paragraphs[0]),
    )
    provenance["body"] = body_layer
    lead = _settle_lead(lead, paragraphs, provenance)
    if not similar(paragraphs[0], lead):
        paragraphs.insert(0, lead)
    if images:
        provenance["images"] = body_layer

    byline = _site_text(root, SITE_PROFILE.byline)
    if byline:
        provenance["byline"] = SITE
    authors: list[str] = []
    top = _site_text(root, SITE_PROFILE.top_author)
    parsed_top = parse_top_author(top) if top else None
    if parsed_top:
        authors = [parsed_top[0]]
        provenance["authors"] = SITE
    elif meta.authors:
        # Metadata "authors" are sometimes an agency ("TTXVN"): keep only what reads as a name.
        authors = [name for a in meta.authors for name in parse_byline(a).authors]
        if authors:
            provenance["authors"] = METADATA

    kicker = _site_text(root, SITE_PROFILE.kicker)
    if kicker:
        provenance["kicker"] = SITE
    return ArticleItem(
        url=ref.canonical_url(site_url or _origin(url)),
        fetched_at=fetched_at,
        id=ref.id,
        cms=ref.cms,
        kicker=kicker,
        title=title,
        lead=lead,
        body="\n\n".join(paragraphs),
        authors=authors,
        byline=byline,
        images=images,
        section=ref.section,
        published_raw=date_raw,
        provenance=provenance,
    )


def _settle_lead(lead: str, paragraphs: list[str], provenance: dict[str, str]) -> str:
    """Prefer the body's first paragraph when the lead found elsewhere is a cut-down copy of it."""
    first = paragraphs[0]
    stem = re.sub(r"(\.\.\.|…)\s*$", "", lead).strip()
    if lead != first and stem and first.startswith(stem) and len(first) > len(stem):
        provenance["lead"] = provenance["body"]
        return first
    return lead


def _origin(url: str) -> str:
    match = re.match(r"^[a-z]+://[^/]+", url, re.IGNORECASE)
    return match.group(0) if match else ""


def looks_truncated(html: str) -> bool:
    """True when an HTML document stops before its end (no closing ``</html>``)."""
    tail = html[-4096:].lower()
    return "</html>" not in tail
