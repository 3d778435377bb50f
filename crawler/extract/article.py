"""Layered extraction: an article page's HTML in, an ArticleItem out, with each field's layer.

Three layers are tried field by field, in order:
1. ``site``: the vendor CMS's markup, both generations (selectors in crawler/extract/profile.py);
2. ``metadata``: JSON-LD, OpenGraph and ``article:*`` meta tags (crawler/extract/metadata.py);
3. ``heuristic``: markup-agnostic rules (the densest block of paragraphs, the first heading,
   the first date-looking text after it: crawler/extract/heuristic.py).
This module assembles the record from them, field by field.
The live site's markup has never been seen here, so the lower layers must carry a page on their
own; ``provenance`` in the record says which layer gave each field. Extraction keeps text as
printed (dates included); cleaning and normalising are the pipelines' job.
"""

from __future__ import annotations

import re

from lxml import etree

from crawler.extract.heuristic import (
    SITE_TITLE_SUFFIX,
    densest_block,
    heuristic_date,
    heuristic_title,
)
from crawler.extract.html import body_blocks, element_text, first, looks_truncated, parse_html
from crawler.extract.metadata import read_metadata
from crawler.extract.profile import SITE_PROFILE, site_text
from crawler.extract.urls import canonical_site_url, host_of, parse_article_url
from crawler.items import ArticleItem
from crawler.normalise.bylines import parse_byline, parse_top_author
from crawler.normalise.text import similar

__all__ = ["ExtractionError", "extract_article", "looks_truncated"]

SITE, METADATA, HEURISTIC, URL = "site", "metadata", "heuristic", "url"
MIN_BODY_CHARS = 200


class ExtractionError(ValueError):
    """The page is not an article, or not enough of one to make a record."""


def _pick(provenance: dict[str, str], field: str, *layers: tuple[str, object]) -> object:
    for layer, value in layers:
        if value:
            provenance[field] = layer
            return value
    return None


def extract_article(
    html: str, url: str, *, fetched_at: str, site_url: str | None = None,
    hosts: frozenset[str] | None = None,
) -> ArticleItem:
    """Return the article on a page as printed; raise ExtractionError saying why there is none.

    URLs in the record are canonical: the article's on ``site_url``, and image URLs on any of
    the site's ``hosts`` (default: the page's and ``site_url``'s) moved to ``site_url``'s host,
    so a record does not depend on which host alias served the page."""
    if not html or not html.strip():
        raise ExtractionError("empty page")
    try:
        root = parse_html(html)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"unparseable HTML: {exc}") from exc
    meta = read_metadata(root)
    ref = parse_article_url(url) or (meta.canonical and parse_article_url(meta.canonical))
    if not ref:
        raise ExtractionError(f"not an article URL: {url}")
    provenance: dict[str, str] = {"id": URL, "url": URL, "section": URL}

    title_el = first(root, SITE_PROFILE.title)
    title = _pick(
        provenance, "title",
        (SITE, element_text(title_el) if title_el is not None else None),
        (METADATA, meta.title and SITE_TITLE_SUFFIX.sub("", meta.title)),
        (HEURISTIC, heuristic_title(root)),
    )
    date_raw = _pick(
        provenance, "published_raw",
        (SITE, site_text(root, SITE_PROFILE.date)),
        (METADATA, meta.date),
        (HEURISTIC, heuristic_date(root, title_el)),
    )

    container = first(root, SITE_PROFILE.body)
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
        (SITE, site_text(root, SITE_PROFILE.lead)),
        (METADATA, meta.lead),
        (HEURISTIC, paragraphs[0]),
    )
    provenance["body"] = body_layer
    lead = _settle_lead(lead, paragraphs, provenance)
    if not similar(paragraphs[0], lead):
        paragraphs.insert(0, lead)
    if images:
        provenance["images"] = body_layer

    byline = site_text(root, SITE_PROFILE.byline)
    if byline:
        provenance["byline"] = SITE
    authors: list[str] = []
    top = site_text(root, SITE_PROFILE.top_author)
    parsed_top = parse_top_author(top) if top else None
    if parsed_top:
        authors = [parsed_top[0]]
        provenance["authors"] = SITE
    elif meta.authors:
        # Metadata "authors" are sometimes an agency ("TTXVN"): keep only what reads as a name.
        authors = [name for a in meta.authors for name in parse_byline(a).authors]
        if authors:
            provenance["authors"] = METADATA

    kicker = site_text(root, SITE_PROFILE.kicker)
    if kicker:
        provenance["kicker"] = SITE
    base = site_url or _origin(url)
    aliases = hosts or frozenset({host_of(url), host_of(base)})
    for image in images:
        if image.get("url"):
            image["url"] = canonical_site_url(image["url"], base, aliases)
    return ArticleItem(
        url=ref.canonical_url(base),
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
