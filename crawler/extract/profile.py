"""The site layer: CSS selectors for the vendor CMS's markup, per field, in the order tried.

The live site's markup has never been seen here; these come from class names seen on the
vendor's sister papers and on the post-merger Ninh Bình pages (see docs/site-notes.md). A selector
that matches nothing costs nothing, and the metadata and heuristic layers stand behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from crawler.extract.html import element_text, first


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
# post-merger Ninh Bình pages; see docs/site-notes.md. Generic names last.
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


def site_text(root: etree._Element, selectors: tuple[str, ...]) -> str | None:
    """Return the visible text of the first element the selectors find, or None."""
    el = first(root, selectors)
    text = element_text(el) if el is not None else ""
    return text or None
