"""How a block is printed: bold or in italics, as a reader sees it.

Vietnamese papers set the sapo and the closing byline apart by type, not by name: a bold or
italic paragraph, a heading, a ``<div>`` styled ``font-weight: bold`` or given a CSS utility
class ("bold", "fw-bold", "fst-italic"); and a photo's caption too, as an italic or centred
line under it ("Bộ trưởng phát biểu tại hội nghị. Ảnh: Minh Anh"). Pure functions over lxml
elements.
"""

from __future__ import annotations

import re

from lxml import etree

from crawler.extract.html import element_text, name_words, text_size
from crawler.normalise.legacy import syllable_share

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


# A caption printed as a line of its own is short; a longer block is text.
CAPTION_LINE_CHARS = 300
# A text is Vietnamese when this share of its words with marks or non-ASCII letters are
# Vietnamese syllables (crawler/normalise/legacy.py).
VIETNAMESE_SHARE = 0.8
_QUOTES = "\"“”‘’'«»„"
_CENTRED_STYLE = re.compile(r"text-align\s*:\s*center", re.IGNORECASE)
# A photo's credit ending the line, or a stock photo's note: "… Ảnh: Minh Anh", "(Ảnh: TTXVN)",
# "Ảnh minh họa", "Photo: Reuters".
_PHOTO_CREDIT = re.compile(r"(?:^|[\s.(])(?:ảnh|photo|nguồn ảnh)\s*:\s*[^.!?]{1,60}\)?\s*$"
                           r"|^\(?ảnh minh h[oọ]a\)?\.?$", re.IGNORECASE)


def prints_caption(el: etree._Element) -> bool:
    """True when a short block is printed as a photo's caption (for the block right under a
    photo, or holding it): ending in the photo's credit; or, in a Vietnamese text, in italics
    or centred, as Vietnamese papers print the caption. A quotation is no caption (a pull
    quote, a reader's testimonial under a photo), nor is a foreign page's italic line."""
    text = element_text(el, limit=CAPTION_LINE_CHARS + 1)
    if not 0 < len(text) <= CAPTION_LINE_CHARS or "\n" in text or text[0] in _QUOTES:
        return False
    if _PHOTO_CREDIT.search(text):
        return True
    if not (is_italic(el) or _CENTRED_STYLE.search(el.get("style") or "")
            or (el.get("align") or "").lower() == "center"):
        return False
    return syllable_share(text)[1] >= VIETNAMESE_SHARE
