"""The sapo: the bold summary Vietnamese papers print between the headline and the body.

Papers give it an element of its own, named in a few families (the crawl configurations of
hundreds of Vietnamese sites in the public "docbao" project name ``sapo``, ``sapo_detail``,
``detail-sapo``, ``article__sapo``, ``sabo``, ``summary``, ``ArticleSummary``, ``description``,
``desc``, ``lead``, ``ArticleLead``, ``intro``, ``teaser``, ``excerpt``, ``chapeau``,
``short-text``, ``tomtat``, ``mota``), often an ``<h2>``; or no name at all: a block printed
bold (``<div><b>…</b></div>``, an ``<h2>``) between the date line and the content block. The
body container the other rules find starts after it, so without this the sapo is lost, or
replaced by a cut-off meta description.

The search reads the blocks after the headline until the body's containers begin, and takes
the first named as a sapo holding a sentence or more, else the first printed bold that holds
prose of its own (a sentence, few links, no photo, not a date line). Teasers, captions,
figures, list items and page chrome are passed over. No paper is named: the class names are
matched as words of the class or id ("sapo-detail", "ArticleLead", "article__summary").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from lxml import etree

from crawler.extract.datelines import following, in_teaser, lazy_teaser_boxes
from crawler.extract.html import (
    BLOCK_TAGS,
    SKIP_TAGS,
    element_text,
    is_chrome,
    is_hidden,
    name_words,
    text_size,
)
from crawler.extract.typography import VIETNAMESE_SHARE, is_bold, is_italic
from crawler.normalise.dates import looks_like_date_line
from crawler.normalise.keys import similar
from crawler.normalise.legacy import syllable_share

# Words of a class or id that name a sapo (compared with each word of the name: split on
# spaces, "-", "_" and lower-to-upper case changes).
SAPO_WORDS = frozenset({"sapo", "sabo", "lead", "lede", "summary", "summery", "description",
                        "desc", "chapeau", "chappeau", "intro", "teaser", "excerpt", "abstract",
                        "standfirst", "brief", "tomtat", "mota", "shorttext", "short"})
# A sapo holds a sentence at least, and is no article.
MIN_SAPO_CHARS = 40
MAX_SAPO_CHARS = 1500
# A block without a sapo name is taken only when it holds this much prose of its own.
MIN_PLAIN_SAPO_CHARS = 80
# How much text the search reads before giving up (date lines, share bars, a
# photo's caption sit between too).
LOOK_CHARS = 3000
MAX_LINK_SHARE = 0.3
# An unnamed sapo in italics is taken only in a Vietnamese text (VIETNAMESE_SHARE).
_SENTENCE_END = re.compile(r"[.!?…:;)\"”»]\s*$")
# Blocks that hold something else than a sapo however they are named.
_NOT_SAPO_TAGS = frozenset({"figure", "figcaption", "table", "ul", "ol", "li", "form", "a",
                            "h1", "img", "dl", "dt", "dd", "blockquote"})
_CAPTION_WORDS = frozenset({"caption", "image", "photo", "img", "pic", "author", "byline",
                            "date", "time", "meta", "tag", "tags"})


def _is_named_sapo(el: etree._Element) -> bool:
    words = name_words(el)
    return bool(words & SAPO_WORDS) and not words & _CAPTION_WORDS


def _preceding(node: etree._Element) -> Iterator[etree._Element]:
    """Yield the elements before ``node`` in the page, nearest first (not its ancestors)."""
    while node is not None and node.tag not in ("body", "html"):
        for sibling in node.itersiblings(preceding=True):
            yield from reversed(list(_blocks(sibling)))
        node = node.getparent()


def _blocks(el: etree._Element) -> Iterator[etree._Element]:
    """Yield ``el`` and the elements under it in document order, skipping what is never text."""
    stack = [el]
    while stack:
        node = stack.pop()
        if not isinstance(node.tag, str) or node.tag in SKIP_TAGS or is_hidden(node):
            continue
        yield node
        stack.extend(reversed(node))


def _link_share(el: etree._Element) -> float:
    size = text_size(el)
    return sum(text_size(a) for a in el.iter("a")) / size if size else 1.0


def _holds_blocks(el: etree._Element) -> bool:
    return any(isinstance(c.tag, str) and c.tag in BLOCK_TAGS and c.tag != "br" for c in el)


def _sapo_text(el: etree._Element, named: bool, title: str | None,
               boxes: Callable[[], set[etree._Element]],
               heading: etree._Element | None) -> str | None:
    """Return the sapo an element holds, or None when it is something else."""
    if el.tag in _NOT_SAPO_TAGS or next(el.iter("img"), None) is not None:
        return None
    bold = named or is_bold(el)
    if not named and (_holds_blocks(el) or not (bold or is_italic(el))):
        # A block without a sapo's name is one only when printed bold, as papers print the
        # sapo (not a disclosure, a caption or a newsletter promo in plain type); a block of
        # blocks is judged by its own paragraphs, met one by one.
        return None
    text = element_text(el, limit=MAX_SAPO_CHARS)
    if not (MIN_SAPO_CHARS if named else MIN_PLAIN_SAPO_CHARS) <= len(text) <= MAX_SAPO_CHARS:
        return None
    if not bold and syllable_share(text)[1] < VIETNAMESE_SHARE:
        # Vietnamese papers also set the sapo in italics; elsewhere a block in italics above
        # the text is a disclosure or a note ("This post may contain affiliate links").
        return None
    if not _SENTENCE_END.search(text) or looks_like_date_line(text):
        return None
    if title and similar(text, title):
        return None
    if _link_share(el) > MAX_LINK_SHARE:
        return None
    # Not in a list, a link, a figure or a table, unless a layout table that holds the
    # headline too (pages of table layouts print headline, sapo and body in its rows).
    layout = set(heading.iterancestors("table")) if heading is not None else set()
    if any(ancestor.tag in ("li", "a", "figure") or (ancestor.tag == "table"
                                                     and ancestor not in layout)
           for ancestor in el.iterancestors()):
        return None
    if in_teaser(el, boxes, heading):  # another story's summary under its linked title
        return None
    return " ".join(text.split()) if "\n" not in text else text


def find_sapo(containers: list[etree._Element], heading: etree._Element | None,
              title: str | None) -> str | None:
    """Return the sapo printed between the headline and the body, as printed, or None.

    With the headline known, the blocks after it are read until the body's containers begin:
    the first named as a sapo (class or id in the sapo families) holding a sentence or more is
    it, else the first block of prose of its own. Without it, the blocks right before the
    body's first container are read back for a named one only. A headline inside the body
    leaves the body's first paragraph as the sapo."""
    if not containers:
        return None
    if heading is not None and any(c is heading or c in heading.iterancestors()
                                   for c in containers):
        return None
    if heading is not None and any(a.tag == "header" for a in heading.iterancestors()):
        # A headline in its article's own <header>: the header holds the standfirst or dek,
        # which papers in other languages keep apart from the text (a sapo printed outside
        # the header is read with the body's containers).
        return None
    boxes = lazy_teaser_boxes(containers[0].getroottree().getroot())
    if heading is None:
        elements, body = _preceding(containers[0]), None
    else:
        elements, body = following(heading), set(containers)
    seen = 0
    plain: str | None = None
    for el in elements:
        if body is not None and el in body:
            break  # the body begins
        seen += len((el.text or "").strip())
        if seen > LOOK_CHARS:
            break
        if is_chrome(el):
            continue
        if _is_named_sapo(el):
            text = _sapo_text(el, True, title, boxes, heading)
            if text:
                return text
        elif plain is None and heading is not None:
            plain = _sapo_text(el, False, title, boxes, heading)
    return plain
