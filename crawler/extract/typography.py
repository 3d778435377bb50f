"""How a block is printed: bold or in italics, as a reader sees it.

Vietnamese papers set the sapo and the closing byline apart by type, not by name: a bold or
italic paragraph, a heading, a ``<div>`` styled ``font-weight: bold`` or given a CSS utility
class ("bold", "fw-bold", "fst-italic"). Pure functions over lxml elements.
"""

from __future__ import annotations

import re

from lxml import etree

from crawler.extract.html import name_words, text_size

_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.IGNORECASE)
_BOLD_TAGS = ("b", "strong")
_ITALIC_STYLE = re.compile(r"font-style\s*:\s*(?:italic|oblique)", re.IGNORECASE)
_ITALIC_TAGS = ("em", "i")


def is_bold(el: etree._Element) -> bool:
    """True when an element's text is printed bold: a heading, bold by its style or by a class
    word ("bold", "fw-bold", "font-bold"), or nearly all of it inside <b>/<strong>."""
    if el.tag in ("h2", "h3", "h4", "b", "strong") or _BOLD_STYLE.search(el.get("style") or "") \
            or _class_says(el, "bold"):
        return True
    return _mostly_inside(el, _BOLD_TAGS)


def is_italic(el: etree._Element) -> bool:
    """True when an element's text is printed in italics: by its style or a class word
    ("italic", "fst-italic"), or nearly all of it inside <em>/<i>."""
    if el.tag in _ITALIC_TAGS or _ITALIC_STYLE.search(el.get("style") or "") \
            or _class_says(el, "italic"):
        return True
    return _mostly_inside(el, _ITALIC_TAGS)


def _class_says(el: etree._Element, word: str) -> bool:
    """True when a word of an element's class is ``word`` (a CSS utility class: "bold",
    "text-bold", "font-weight-bold")."""
    cls = el.get("class")
    return bool(cls) and word in cls.lower() and word in name_words(el)


def _mostly_inside(el: etree._Element, tags: tuple[str, ...]) -> bool:
    """True when nearly all of an element's text is inside ``tags`` (nested ones counted once)."""
    size = text_size(el)
    return size > 0 and sum(text_size(t) for t in el.iter(*tags)
                            if not _inside(t, el, tags)) >= 0.9 * size


def _inside(node: etree._Element, top: etree._Element, tags: tuple[str, ...]) -> bool:
    """True when ``node`` sits inside another of ``tags`` under ``top``."""
    for ancestor in node.iterancestors():
        if ancestor is top:
            return False
        if ancestor.tag in tags:
            return True
    return False
