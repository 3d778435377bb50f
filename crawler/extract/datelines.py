"""The article's own date line, found near its headline; never a teaser's or a related box's.

Vietnamese papers print the date line just under the headline ("15:20 PM | 21/12/2012",
"ngày 24/12/12 11:05 tối") or just above it, beside the breadcrumb ("Thứ năm, 20/12/2012, 10:18
GMT+7"). Their pages also print dates everywhere else: in the body's prose ("khởi công ngày
15/3/2012"), under every teaser of a "Bạn có thể quan tâm" or "Tin liên quan" box, and today's
date in the masthead. So a date is taken only from a short line of its own (not prose), outside
list items, links and teaser boxes (a block headed by such a label, or a small block whose text
holds a link to another story), looking first after the headline, then a little before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache, partial

from lxml import etree

from crawler.extract.html import (
    BLOCK_TAGS,
    SKIP_TAGS,
    class_tokens,
    element_text,
    is_chrome,
    is_chrome_name,
    is_hidden,
    name_words,
)
from crawler.extract.related import VIETNAMESE_BOX_HEADINGS
from crawler.normalise.dates import find_date_line

# A date line is short; a longer line is prose that mentions a date.
DATE_LINE_CHARS = 160
# What else a line holding a date may print beside it (an author, a section, a label).
DATE_LINE_EXTRA_CHARS = 60
# How much text after the headline is searched, and how much before it (the breadcrumb's and
# the date's, not the masthead's).
AFTER_CHARS = 2000
BEFORE_CHARS = 400
# A teaser: a small block (up to this much text) holding a link this long to another story.
TEASER_BLOCK_CHARS = 400
TEASER_LINK_CHARS = 25
# The headings of boxes of other stories, as Vietnamese (crawler/extract/related.py) and
# English pages print them.
RELATED_LABEL = re.compile(
    rf"(?:{VIETNAMESE_BOX_HEADINGS}|related(?: articles| stories| news)?|more stories|read more"
    r"|you may also like|recommended(?: for you)?|most read|most popular)\s*:?",
    re.IGNORECASE,
)
# The header is not skipped here: <article><header><h1/><time/></header> holds the date line.
_SKIP = SKIP_TAGS - {"header"}
_DIGIT = re.compile(r"\d")
_LABEL_TAGS = ("h2", "h3", "h4", "h5", "h6", "strong", "b", "span", "div", "p", "a")
# Words of a class or id that name a date line ("block_timer", "post-date", "ngaythang").
DATE_NAME_WORDS = frozenset({"date", "time", "timer", "datetime", "timestamp", "pubdate",
                             "published", "posted", "ngay", "ngaythang", "thoigian"})
# The chrome words of a share bar: a date line is often printed in one ("block_timer_share":
# the date on the left, the share buttons on the right), a teaser's date never only there.
_TOOLBAR = re.compile(r"(?<![a-z])(?:share|social)")


def _walk(el: etree._Element) -> Iterator[etree._Element]:
    """Yield ``el`` and the elements under it in document order, skipping what is never text."""
    stack = [el]
    while stack:
        node = stack.pop()
        if not isinstance(node.tag, str) or node.tag in _SKIP or is_hidden(node):
            continue
        yield node
        stack.extend(reversed(node))


def _own_line(el: etree._Element) -> str:
    """Return the text an element prints itself: its text and its inline children's, with
    their tails; the blocks inside it are lines of their own."""
    if not len(el):  # most elements: their text alone
        return " ".join(text.split()) if (text := el.text) else ""
    parts = [el.text or ""]

    def inline(node: etree._Element) -> None:
        for child in node:
            if isinstance(child.tag, str) and child.tag not in BLOCK_TAGS \
                    and child.tag not in _SKIP and not is_hidden(child):
                parts.append(child.text or "")
                inline(child)
            elif isinstance(child.tag, str) and child.tag == "br":
                parts.append("\n")
            parts.append(child.tail or "")

    inline(el)
    return " ".join("".join(parts).split())


def following(heading: etree._Element) -> Iterator[etree._Element]:
    """Yield the elements after ``heading`` in document order (not those inside it)."""
    node = heading
    while node is not None and node.tag != "html":
        for sibling in node.itersiblings():
            yield from _walk(sibling)
        node = node.getparent()


def _preceding(heading: etree._Element) -> Iterator[etree._Element]:
    """Yield the elements before ``heading``, nearest first (not its ancestors)."""
    node = heading
    while node is not None and node.tag not in ("body", "html"):
        for sibling in node.itersiblings(preceding=True):
            yield from reversed(list(_walk(sibling)))
        node = node.getparent()


def teaser_boxes(root: etree._Element) -> set[etree._Element]:
    """Return the boxes of other stories: the nearest block around a related-box label
    ("Bạn có thể quan tâm", "Tin liên quan", ...) that holds more than the label."""
    boxes: set[etree._Element] = set()
    body = root.find("body")
    for el in (body if body is not None else root).iter(*_LABEL_TAGS):
        text = el.text
        if not text or len(text) > 60 or not RELATED_LABEL.fullmatch(text.strip()):
            continue
        label = len(element_text(el))
        if label > 60:
            continue
        for ancestor in el.iterancestors():
            if ancestor.tag in ("body", "html"):
                break
            if len(element_text(ancestor, limit=label + 40)) > label + 20:
                boxes.add(ancestor)
                break
    return boxes


def _chrome_around(el: etree._Element, ancestor: etree._Element) -> bool:
    """True when ``ancestor`` (``el`` or its parent) is page chrome by its name; a share bar's
    name does not make chrome of an element named as the date line, or of one printing its date
    in a ``<time>`` or an element so named ("<div class="share"><time>…</time> …</div>")."""
    if not is_chrome(ancestor):
        return False
    return not _names_date(el) or is_chrome_name(_TOOLBAR.sub(" ", class_tokens(ancestor)))


def _names_date(el: etree._Element) -> bool:
    """True when an element, or an inline element of its line, is a ``<time>`` or named as a
    date line."""
    stack = [el]
    while stack:
        node = stack.pop()
        if node.tag == "time" or not DATE_NAME_WORDS.isdisjoint(name_words(node)):
            return True
        stack.extend(child for child in node
                     if isinstance(child.tag, str) and child.tag not in BLOCK_TAGS)
    return False


def lazy_teaser_boxes(root: etree._Element) -> Callable[[], set[etree._Element]]:
    """Return a function that gives ``teaser_boxes(root)``, looked for the first time it is
    asked only: on most pages the date line or the sapo is met before any box is wanted."""
    return cache(partial(teaser_boxes, root))


def _holds_label(el: etree._Element) -> bool:
    """True when a related-box label is printed inside an element."""
    return any(label.text and len(label.text) <= 60 and RELATED_LABEL.fullmatch(label.text.strip())
               for label in el.iter(*_LABEL_TAGS))


def in_teaser(el: etree._Element, boxes: Callable[[], set[etree._Element]],
              heading: etree._Element | None) -> bool:
    """True when an element is part of another story's teaser or of page chrome.

    The blocks around the headline are the article's, whatever they are named or hold."""
    around = set(heading.iterancestors()) if heading is not None else set()
    own: list[etree._Element] = []  # el and its ancestors below the headline's and the body
    for ancestor in (el, *el.iterancestors()):
        if ancestor.tag in ("body", "html") or ancestor in around:
            break
        own.append(ancestor)
    for depth, ancestor in enumerate(own):
        # Chrome by the element's own name or its parent's: a layout wrapper further up says
        # nothing. List items and links are no sign by themselves: a date line is often
        # <li class="date"> or a permalink.
        if depth <= 1 and _chrome_around(el, ancestor):
            return True
        if depth <= 2 and ancestor.tag in BLOCK_TAGS:
            # A small block with a long link in it, not the headline's, is a teaser.
            text = element_text(ancestor, limit=TEASER_BLOCK_CHARS)
            if len(text) <= TEASER_BLOCK_CHARS and any(
                    len(element_text(a)) >= TEASER_LINK_CHARS for a in ancestor.iter("a")
                    if heading is None or (a is not heading and heading not in a.iterancestors()
                                           and a not in heading.iterdescendants())):
                return True
    # A box headed "Bạn có thể quan tâm", "Tin liên quan": the page's boxes are looked for
    # only when a label is printed in the blocks around the element at all.
    return bool(own) and _holds_label(own[-1]) and any(a in boxes() for a in own)


def article_date_line(root: etree._Element, heading: etree._Element | None) -> str | None:
    """Return the article's date line as printed: the first short line holding a date after
    the headline, else just before it (or from the page's start when no headline is known),
    outside teasers and related boxes; None when there is none."""
    boxes = lazy_teaser_boxes(root)  # once a date is met (site pages: right after the headline)
    if heading is not None:
        found = _first_date(following(heading), boxes, heading, AFTER_CHARS)
        if found:
            return found
        return _first_date(_preceding(heading), boxes, heading, BEFORE_CHARS)
    body = root.find("body")
    return _first_date(_walk(body if body is not None else root), boxes, None, AFTER_CHARS)


def _in_a_line(el: etree._Element, around: set[etree._Element]) -> bool:
    """True when an inline element's text is part of the line of a block the walk reads (not
    one around the headline, which the walk never reads)."""
    parent = el.getparent()
    while parent is not None and parent.tag not in BLOCK_TAGS:
        if parent.tag in ("body", "html"):
            return False
        parent = parent.getparent()
    return parent is not None and parent not in around


def _printed_apart(el: etree._Element, found: str) -> str | None:
    """Return the whole text of an inline element of ``el`` that prints the date found in its
    line and nothing else ("<a>Thời sự</a> <span>Thứ năm, 20/12/2012, 10:18 GMT+7</span>")."""
    for child in el.iterdescendants():
        if isinstance(child.tag, str) and child.tag not in BLOCK_TAGS:
            text = " ".join(element_text(child).split())
            if found in text and find_date_line(text) == text:
                return text
    return None


def _first_date(elements: Iterator[etree._Element], boxes: Callable[[], set[etree._Element]],
                heading: etree._Element | None, budget: int) -> str | None:
    seen = 0
    around = set(heading.iterancestors()) if heading is not None else set()
    for el in elements:
        if el.tag not in BLOCK_TAGS and _in_a_line(el, around):
            continue  # an inline element's text is read with its block's line
        line = _own_line(el)
        if not line:
            continue
        seen += len(line)
        if len(line) <= DATE_LINE_CHARS and _DIGIT.search(line):
            found = find_date_line(line)
            # A date inside a line: the line is a date line only when little else is in it
            # ("Minh Anh | 20/12/2012 10:18"), not a sentence that mentions a date.
            if found and (found == line or len(line) - len(found) <= DATE_LINE_EXTRA_CHARS) \
                    and not in_teaser(el, boxes, heading):
                return found if found == line else _printed_apart(el, found) or found
        if len(line) <= DATE_LINE_CHARS and (stamp := _time_stamp(el)) is not None \
                and not in_teaser(el, boxes, heading):
            return stamp  # "<time datetime="...">3 giờ trước</time>": the attribute says when
        if seen > budget:
            return None
    return None


def _time_stamp(el: etree._Element) -> str | None:
    """Return the ``datetime`` of a ``<time>``, or the ``title`` of an element, in an element's
    own line (not in a block inside it) when it is an exact date, as a line whose text is no
    date ("3 giờ trước", "Hôm qua lúc 10:18") prints it; else None. (Papers of one large
    Vietnamese publisher print ``<span class="kbwcm-time" title="2012-12-20T10:18:00">``.)"""
    for time in el.iter(etree.Element):
        stamp = (time.get("datetime" if time.tag == "time" else "title") or "").strip()
        if not stamp[:1].isdigit() or find_date_line(stamp) != stamp:
            continue
        node = time.getparent()
        while node is not None and node is not el and node.tag not in BLOCK_TAGS:
            node = node.getparent()
        if time is el or node is el:
            return stamp
    return None


# A date line printed at the article's end says what it is: "Cập nhật: 20/12/2012 10:18",
# "Ngày đăng: 20/12/2012" (unlabelled, "Hà Nội, ngày 14/01/2024" is a letter's sign-off).
# The label is followed by a colon or by the date itself ("Đăng ký trước ngày 30/12" is no label).
_END_LABEL = re.compile(
    r"(?:ngày đăng|đăng ngày|đăng lúc|đăng|ngày cập nhật|cập nhật(?: lúc)?|thời gian đăng"
    r"|xuất bản|posted(?: on)?|published(?: on)?)\s*(?::\s*\S|(?=\d))", re.IGNORECASE)


def date_at_end(paragraphs: list[str], containers: list[etree._Element]
                ) -> tuple[list[str], str | None]:
    """Return (the body without it, the date line) of a labelled date line printed at the
    article's end: the body's last line ("Ngày đăng: 20/12/2012") or a short line right after
    the body's containers ("<div class="date">Cập nhật: 20/12/2012 10:18</div>"), outside teasers;
    (paragraphs, None) when there is none. Asked when nothing near the headline is a date line."""
    if paragraphs and _END_LABEL.match(paragraphs[-1]) and len(paragraphs[-1]) <= DATE_LINE_CHARS:
        found = find_date_line(paragraphs[-1])
        if found and len(paragraphs[-1]) - len(found) <= DATE_LINE_EXTRA_CHARS:
            return paragraphs[:-1], paragraphs[-1]
    if not containers:
        return paragraphs, None
    boxes = lazy_teaser_boxes(containers[-1].getroottree().getroot())
    seen = 0
    for el in following(containers[-1]):
        line = _own_line(el)
        seen += len(line)
        if seen > BEFORE_CHARS:
            break
        if line and len(line) <= DATE_LINE_CHARS and _END_LABEL.match(line):
            found = find_date_line(line)
            if found and len(line) - len(found) <= DATE_LINE_EXTRA_CHARS and \
                    not in_teaser(el, boxes, None):
                return paragraphs, line
    return paragraphs, None
