"""The heuristic layer: markup-agnostic rules for a page no selector and no metadata explain.

The densest block of paragraph text outside page chrome (readability-style), the first heading,
and the first date-looking text after the title.
"""

from __future__ import annotations

import re

from lxml import etree

from crawler.extract.html import BLOCK_TAGS, SKIP_TAGS, css, element_text, is_chrome
from crawler.normalise.dates import find_date_text

SITE_TITLE_SUFFIX = re.compile(r"\s*[-|–]\s*(Báo|Bao)\s+Nam\s+(Định|Dinh).*$", re.IGNORECASE)
MIN_PARAGRAPH_CHARS = 25



def densest_block(root: etree._Element) -> etree._Element | None:
    """Return the element holding the most paragraph text outside page chrome (as readability)."""
    scores: dict[etree._Element, float] = {}
    for p in css("p, div")(root):
        if p.tag == "div" and any(child.tag in BLOCK_TAGS for child in p):
            continue
        if any(a.tag in SKIP_TAGS or is_chrome(a) for a in p.iterancestors()) or is_chrome(p):
            continue
        text = element_text(p)
        if len(text) < MIN_PARAGRAPH_CHARS:
            continue
        link_chars = sum(len(element_text(a)) for a in css("a")(p))
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


def heuristic_title(root: etree._Element) -> str | None:
    """Return the first heading outside page chrome, else the page title without the site's name."""
    for selector in ("h1", "h2"):
        for el in css(selector)(root):
            if not any(is_chrome(a) for a in el.iterancestors()):
                text = element_text(el)
                if len(text) > 10:
                    return text
    title = css("title")(root)
    if title and title[0].text:
        return SITE_TITLE_SUFFIX.sub("", title[0].text).strip() or None
    return None


def heuristic_date(root: etree._Element, after: etree._Element | None) -> str | None:
    """Return the first date-looking text after the title element, else anywhere outside chrome."""
    # The date line follows the title: look there first, then anywhere outside chrome.
    candidates = list(after.itersiblings()) if after is not None else []
    if after is not None and after.getparent() is not None:
        candidates += list(after.getparent().itersiblings())
    candidates += [root]
    for el in candidates:
        if not isinstance(el.tag, str) or el.tag in SKIP_TAGS or is_chrome(el):
            continue
        found = find_date_text(element_text(el)[:2000])
        if found:
            return found
    return None
