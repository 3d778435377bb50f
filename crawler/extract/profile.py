"""The site layer: the site's templates, each a set of CSS selectors per field, tried in order.

A template applies to a page as a whole: when its ``requires`` selectors all find something and
one of its body selectors finds a container with enough text. Its fields then come from its own
selectors; a field it has no selector for (or whose selector finds nothing) falls to the
metadata and heuristic layers. Selectors of a template that does not apply are never used: a
class name like ``.lead`` or ``.article-content`` on a page of some other make must not pass
for the site's.

Templates, in the order tried (see docs/site-notes.md):
- ``docbao-2019``: the live site's real markup in June 2019, from the public crawler
  configuration "docbao": body ``#content``, the sapo its first paragraph, the date in the
  ``<span>`` of the element whose class is exactly ``date`` (``hh:MM, dd/MM/yyyy``), photos as
  ``table.image.center`` with the caption in the second row (``tr[2]/td/em``);
- ``old-cms``: class names seen on the vendor's sister papers (Báo Đà Nẵng, Báo Quảng Bình);
- ``new-cms``: the post-merger Ninh Bình body ``#content_detail`` and names guessed with it.
The breadcrumb (``section``) is a guess on both: the 2019 configuration names none, so the
``docbao-2019`` template has no selector for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from crawler.extract.html import element_text
from crawler.extract.selectors import first, select

# A body container with less text than this is not the article (a gallery, a video page).
MIN_BODY_CHARS = 200


@dataclass(frozen=True)
class SiteTemplate:
    """One era of the site's markup: ordered CSS selectors per field."""

    name: str
    body: tuple[str, ...]
    title: tuple[str, ...] = ()
    kicker: tuple[str, ...] = ()
    date: tuple[str, ...] = ()
    lead: tuple[str, ...] = ()
    byline: tuple[str, ...] = ()
    top_author: tuple[str, ...] = ()
    # The breadcrumb (or one link of it) naming the article's section (crawler/extract/sections.py).
    section: tuple[str, ...] = ()
    # Selectors that must all find something on the page for the template to apply.
    requires: tuple[str, ...] = ()
    # The template has no sapo element: the sapo is the body's first paragraph.
    lead_is_first_paragraph: bool = False


SITE_TEMPLATES = (
    SiteTemplate(
        name="docbao-2019",
        requires=('[class="date"] > span',),
        body=("#content",),
        date=('[class="date"] > span',),
        lead_is_first_paragraph=True,
    ),
    SiteTemplate(
        name="old-cms",
        body=(".detail-content", ".col-content .content", ".page-detail-content",
              ".content-detail"),
        title=("h2#title", ".detail-title", "h1.title-detail"),
        kicker=(".sub-title",),
        date=(".page-detail-meta .date", ".page-detail-meta"),
        lead=(".sapo", ".detail-sapo"),
        byline=("p.author", ".detail-author"),
        top_author=(".author-top",),
        section=(".breadcrumb",),
    ),
    SiteTemplate(
        name="new-cms",
        body=("#content_detail", ".article-detail .article-content"),
        title=("h1.article-title", ".article-detail h1"),
        kicker=(".article-kicker",),
        date=(".article-meta .article-time", ".article-time", ".detail-time"),
        lead=(".article-sapo", ".detail-sapo"),
        byline=(".article-author", "p.author"),
        section=(".article-breadcrumb", ".breadcrumb"),
    ),
)


@dataclass(frozen=True)
class TemplateMatch:
    """A template that applies to a page, with the body container it found."""

    template: SiteTemplate
    body: etree._Element

    def text(self, root: etree._Element, field: str) -> str | None:
        """Return the visible text of the first element the template's selectors for ``field``
        find, or None."""
        return site_text(root, getattr(self.template, field))

    def element(self, root: etree._Element, field: str) -> etree._Element | None:
        """Return the first element the template's selectors for ``field`` find, or None."""
        return first(root, getattr(self.template, field))


def match_template(root: etree._Element) -> TemplateMatch | None:
    """Return the first template that applies to the page, or None."""
    for template in SITE_TEMPLATES:
        if not all(select(root, selector) for selector in template.requires):
            continue
        for selector in template.body:
            for container in select(root, selector):
                if _holds_text(container, MIN_BODY_CHARS):
                    return TemplateMatch(template, container)
    return None


def _holds_text(el: etree._Element, chars: int) -> bool:
    """True when ``len(element_text(el)) >= chars``; most often from a look at the start only.

    The look (``limit``) reads some of the parts element_text reads, and squashing only ever
    drops white space: the look's non-space characters are all in the whole text. When they
    are not enough, the whole text is read."""
    look = element_text(el, limit=_LOOK * chars)
    return _non_space(look) >= chars or len(element_text(el)) >= chars


def _non_space(text: str) -> int:
    """Return ``sum(map(len, text.split()))``: the characters of a text that are not white
    space. Counted without splitting where the only white space is " " and "\n" (what
    element_text leaves of most pages' text)."""
    if text.replace("\n", " ").isprintable():  # str.isprintable is false for other spaces
        return len(text) - text.count(" ") - text.count("\n")
    return sum(map(len, text.split()))


# How much raw text (times the characters wanted) the first look at a container reads.
_LOOK = 2


def site_text(root: etree._Element, selectors: tuple[str, ...]) -> str | None:
    """Return the visible text of the first element the selectors find, or None."""
    el = first(root, selectors)
    text = element_text(el) if el is not None else ""
    return text or None
