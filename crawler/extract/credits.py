"""Credit lines the page's markup sets apart at the start or the end of the body.

Vietnamese papers print the byline as the body's last paragraph, right-aligned and often bold
(``<p style="text-align:right"><strong>Minh Anh</strong></p>``, ``<p align="right"><b>…</b></p>``,
``<div class="author">``), and some print the author or "Bài và ảnh: …" as the first line. The
text alone does not always tell a name from a sentence; the markup does. ``marked_lines``
returns the lines of the first and last few blocks of the body that are printed that way;
``leading_credits`` and ``trailing_credits`` take the ones that read as credits off the body's
two ends, and ``named_byline`` finds an element near the headline named as the author's.
"""

from __future__ import annotations

import re

from lxml import etree

from crawler.extract.datelines import following
from crawler.extract.html import (
    BLOCK_TAGS,
    SKIP_TAGS,
    element_text,
    is_chrome,
    name_words,
)
from crawler.extract.typography import is_bold
from crawler.extract.voters import PROSE_CHARS, SENTENCE_END, words_of
from crawler.normalise.bylines import (
    has_credit_label,
    is_byline,
    looks_like_credit,
    parse_byline,
    signs,
)
from crawler.normalise.dates import find_date_text, looks_like_date_line
from crawler.normalise.names import is_affiliation

# How many text blocks at each end of the body are looked at.
END_BLOCKS = 3
_RIGHT_STYLE = re.compile(r"text-align\s*:\s*right", re.IGNORECASE)
# Class or id words of a credit ("author", "byline", "tac-gia": tác giả, "signature").
CREDIT_WORDS = frozenset({"author", "byline", "tacgia", "signature", "writer"})
_INLINE_TAGS = ("span", "strong", "b", "em", "i", "font", "p")


def _right_aligned(el: etree._Element) -> bool:
    return bool(_RIGHT_STYLE.search(el.get("style") or "")) or \
        (el.get("align") or "").lower() == "right" or "right" in name_words(el)


def _named_as_credit(el: etree._Element) -> bool:
    """True when an element's class or id names it as the author's ("author", "tac-gia"), or
    its ``rel`` or microdata ``itemprop`` does ("<a rel="author">")."""
    words = name_words(el)
    return bool(words & CREDIT_WORDS) or {"tac", "gia"} <= words or \
        el.get("rel") == "author" or el.get("itemprop") == "author"


def is_marked(el: etree._Element, container: etree._Element) -> bool:
    """True when a block is printed as a credit: right-aligned (itself, a wrapper inside the
    body container, or the inline element holding its text), bold, or named as an author."""
    if _named_as_credit(el) or is_bold(el):
        return True
    if any(_right_aligned(node) for node in el.iter(*_INLINE_TAGS)) or _right_aligned(el):
        return True
    for ancestor in el.iterancestors():
        if ancestor is container:
            break
        if _right_aligned(ancestor) or name_words(ancestor) & CREDIT_WORDS:
            return True
    return False


def _is_text_block(el: etree._Element) -> bool:
    """True for a block that holds text and no block of its own, nor a photo."""
    if not isinstance(el.tag, str) or el.tag not in BLOCK_TAGS or el.tag in SKIP_TAGS:
        return False
    if any(isinstance(c.tag, str) and c.tag in BLOCK_TAGS for c in el):
        return False
    return next(el.iter("img"), None) is None and bool(element_text(el))


def _end_blocks(container: etree._Element, last: bool) -> list[etree._Element]:
    """Return the first (or last) few text blocks of a container, in page order."""
    elements = container.iter()
    if last:
        elements = reversed(list(elements))
    found: list[etree._Element] = []
    for el in elements:
        if _is_text_block(el):
            found.append(el)
            if len(found) == END_BLOCKS:
                break
    return found[::-1] if last else found


def marked_lines(containers: list[etree._Element]) -> set[str]:
    """Return the lines of the first and last few text blocks of the body that are printed
    as credits (see ``is_marked``), as the body's paragraphs print them."""
    lines: set[str] = set()
    if not containers:
        return lines
    ends = [(containers[0], _end_blocks(containers[0], last=False)),
            (containers[-1], _end_blocks(containers[-1], last=True))]
    for container, blocks in ends:
        for el in blocks:
            if is_marked(el, container):
                lines.update(line for line in element_text(el).split("\n") if line)
    return lines


# How many elements after the headline (outside the body) are looked at for one named as the
# author's, and how long its text may be.
NAMED_BYLINE_ELEMENTS = 80
NAMED_BYLINE_CHARS = 80
# Words of a class or id that name the place a story is filed from, printed in the credit block
# ("<div class="c-signature"><strong class="c-signature__location">São Paulo</strong></div>").
_PLACE_WORDS = frozenset({"location", "place", "dateline", "city"})


def named_byline(root: etree._Element, heading: etree._Element | None,
                 containers: list[etree._Element]) -> str | None:
    """Return the text of an element after the headline, outside page chrome (a related box's),
    that the page names as the author's ("author", "author-name", "byline", "tac-gia") and that
    reads as a byline: "<div class="author">Minh Anh - Thu Hà</div>" between the headline and
    the body or after it, "<span class="author">" in the date line, "<p class="author"><a>…</a>"
    that the body left out as a link. None when there is none. (Asked where the body's own
    ends gave no credit line.)"""
    if heading is None:
        return None
    # The elements themselves, not their id(): lxml makes a new proxy at each access, and
    # an id is reused once its proxy is gone.
    inside = {el for container in containers for el in container.iter()}
    around = {a for container in containers for a in container.iterancestors()}
    looked = 0
    for node in following(heading):
        if node not in inside:  # the body's elements do not count: it may be long
            looked += 1
            if looked > NAMED_BYLINE_ELEMENTS:
                return None
        if not _named_as_credit(node) or any(
                not _PLACE_WORDS.isdisjoint(name_words(el)) for el in node.iter()):
            continue
        text = " ".join(element_text(node).split())
        if not 0 < len(text) <= NAMED_BYLINE_CHARS or not parse_byline(text).authors:
            continue
        # Not in a box of its own that is chrome (other stories' authors); the article's own
        # wrappers may be named anything.
        if any(is_chrome(a) for a in node.iterancestors() if a not in around):
            continue
        return text
    return None


def leading_credits(paragraphs: list[str], authors: tuple[str, ...],
                     marked: set[str]) -> tuple[list[str], list[str]]:
    """Drop the credit lines a container holds above its first paragraph of prose: the author
    (as the metadata names them), a date or time, a one- or two-word label ("Updated"), a
    byline ("Bài và ảnh: …", a name the markup sets apart); return (paragraphs, the bylines
    among the lines dropped)."""
    names = [name for name in (words_of(a) for a in authors) if name]

    def is_byline_line(line: str) -> bool:
        return is_byline(line) and (line in marked or has_credit_label(line))

    def short(line: str) -> bool:
        # (A dated meta line may run longer: "05/10/2018 - Publicado por: … - Categoria: …".)
        return not SENTENCE_END.search(line) and (len(line) < PROSE_CHARS or (
            len(line) < 2 * PROSE_CHARS and find_date_text(line) is not None))

    def says_credit(line: str) -> bool:  # a label, a name, a byline
        words = words_of(line)
        return len(words.split()) <= 2 or any(name in words for name in names) or \
            is_byline_line(line)

    def is_credit(line: str) -> bool:
        return short(line) and (any(ch.isdigit() for ch in line) or says_credit(line))

    def by_itself(line: str) -> bool:  # a credit for what it says, not for holding figures
        return short(line) and (find_date_text(line) is not None or says_credit(line))

    start = 0
    while start < len(paragraphs) and is_credit(paragraphs[start]):
        start += 1
    if start > MAX_LEADING_CREDITS:
        # So many short lines with figures are a list (a calendar, a table's rows), not the
        # credits above the text: only the lines that are credits by themselves (a date, a
        # name, a label) go.
        start = 0
        while start < len(paragraphs) and by_itself(paragraphs[start]):
            start += 1
    # A container of nothing but short lines is left as it is: the body check judges it.
    if start >= len(paragraphs):
        return paragraphs, []
    credits = [line for line in paragraphs[:start] if is_byline_line(line)]
    paragraphs = paragraphs[start:]
    if len(paragraphs) > 2 and not short(paragraphs[0]) and looks_like_date_line(paragraphs[1]):
        # The page's date line under the first paragraph, the sapo, both in the body's
        # container ("<p>sapo</p><div class="meta">20/12/2012</div><div>text</div>").
        paragraphs = [paragraphs[0], *paragraphs[2:]]
    return paragraphs, credits


def trailing_credits(paragraphs: list[str], marked: set[str]) -> tuple[list[str], list[str]]:
    """Take the last paragraphs off the body while the markup sets them apart and they read as
    credits (at most three: "Bài: …" and "Ảnh: …" may stand apart); return (paragraphs, them)."""
    taken: list[str] = []
    if len(paragraphs) > 2 and paragraphs[-1] in marked and (
            _AFFILIATION.fullmatch(paragraphs[-1]) or is_affiliation(paragraphs[-1])) \
            and paragraphs[-2] in marked and looks_like_credit(paragraphs[-2]):
        # The author's affiliation on a line of its own under the name ("Lê Văn Thịnh" then
        # "(Viện Kinh tế nông nghiệp)", "Phòng Văn hóa - Thông tin huyện"): one credit.
        taken, paragraphs = [paragraphs[-1]], paragraphs[:-1]
    while len(paragraphs) > 1 and len(taken) < 3 and paragraphs[-1] in marked \
            and looks_like_credit(paragraphs[-1]):
        taken.insert(0, paragraphs[-1])
        paragraphs = paragraphs[:-1]
    if not taken and len(paragraphs) > 3 and len(paragraphs[-1]) <= NOTE_CHARS \
            and paragraphs[-2] in marked and signs(paragraphs[-2]):
        # The credit, then a short note under it ("(*) Tiêu đề do Tòa soạn đặt", the
        # newsroom's address): the credit is taken, the note stays.
        taken, paragraphs = [paragraphs[-2]], [*paragraphs[:-2], paragraphs[-1]]
    return paragraphs, taken


# More short lines with figures than this above the text are a list, not its credits.
MAX_LEADING_CREDITS = 4
# A note printed under the credit is at most this long.
NOTE_CHARS = 120
# A line that is nothing but a parenthesised name of a place of work.
_AFFILIATION = re.compile(r"\([^()]{2,80}\)")
