"""Boxes of related articles and pointers to other articles inside an article's body.

Vietnamese papers end a body with "Tin liên quan", "Bạn có thể quan tâm", "Xem thêm" boxes and put
one-line pointers inside it ("Xem thêm: <title>", ">> <title>", "Mời bạn đọc xem video:"); English
pages do the same with "Related", "Read more". ``without_related`` drops them from a body's
paragraphs, whichever layer read it.
"""

from __future__ import annotations

import re

from lxml import etree

from crawler.extract.html import link_texts
from crawler.extract.voters import SENTENCE_END
from crawler.normalise.bylines import signs
from crawler.normalise.keys import fold

# The headings Vietnamese papers print over a box of other articles ("Tin liên quan", "Cùng
# chuyên mục", "Các tin đã đưa", "Bạn có thể quan tâm"; the date line's search skips such boxes
# too: crawler/extract/datelines.py).
VIETNAMESE_BOX_HEADINGS = (
    r"(?:các |những )?(?:tin|tin bài|tin tức|bài|bài viết) (?:liên quan|cùng chuyên mục"
    r"|cùng chủ đề|khác|mới(?: nhất| hơn| cập nhật)?|cũ hơn|đã đưa|đã đăng|đọc nhiều(?: nhất)?"
    r"|nổi bật|xem nhiều|tiêu điểm|nên đọc|hot)|cùng chuyên mục|chủ đề liên quan|tiêu điểm"
    r"|(?:đọc|xem) nhiều(?: nhất)?|bạn đọc quan tâm|xem thêm|đọc thêm|(?:bạn )?có thể bạn quan"
    r" tâm|bạn có thể quan tâm|có thể bạn muốn đọc")
# The heading of a box of other articles, teasers or "read more" links (Vietnamese papers' and
# English words): from such a heading in the second half of the body, the rest is that box.
RELATED_HEADING = re.compile(
    rf"^(?:{VIETNAMESE_BOX_HEADINGS}|"
    r"related(?: articles| stories| posts| news| content| coverage)?|read (?:more|next|also)|"
    r"more (?:stories|news|from [^.!?]{1,40}|on this(?: topic| story)?)|"
    r"you (?:may|might) (?:also )?like|recommended(?: for you| stories| articles)?|"
    r"most (?:popular|read|viewed|shared)(?: (?:in|on|from) [^.!?]{1,40})?|trending(?: now)?|"
    r"don'?t miss|also on [^.!?]{1,30})"
    r"\s*[:.…»>-]*$", re.IGNORECASE)
# The heading of the readers' comments under a Vietnamese article ("Ý kiến bạn đọc (3)", "Bình
# luận", "Gửi bình luận của bạn"): from it, the rest is comments, however long they run.
COMMENTS_HEADING = re.compile(
    r"^(?:ý kiến bạn đọc|ý kiến của bạn|bình luận|gửi (?:bình luận|ý kiến)(?: của bạn)?)"
    r"(?:\s*\(\d+\))?\s*[:.…»>-]*$", re.IGNORECASE)
# A one-line pointer to another article inside the body ("Xem thêm: <title>", "Read more: ...",
# ">> Xem thêm: ..."), and a line inviting the reader to a video or another piece below.
RELATED_POINTER = re.compile(
    r"^(?:(?:>{1,3}|»{1,2}|→|=>)\s*)?(?:tin liên quan|xem thêm|đọc thêm|bài liên quan|read more|"
    r"related|see also|also read|read also)\s*[:>»]\s*\S"
    r"|^mời (?:bạn đọc|bạn|quý vị|quý độc giả|độc giả)(?: cùng)? (?:xem|theo dõi|đón đọc|đọc)"
    r"[^.!?]{0,60}[:.…]?$", re.IGNORECASE)
# A short paragraph asking the reader to subscribe to a newsletter: a sentence that opens with
# "Subscribe" / "Sign up" / "Đăng ký nhận" and names a newsletter or the reader's inbox ("Get the
# latest updates right in your inbox. Subscribe to X's newsletters."), or a newsletter's name
# followed by "Sign up now!". One that only mentions subscribing ("If you just want Disney+, you
# can sign up for a free trial") is text.
SUBSCRIBE_PROMPT = re.compile(
    r"(?:^|[.!?]\s+)(?:click here to |please )?(?:subscribe|sign up)\b(?:[^.!?]|\.\w){0,120}?"
    r"\b(?:newsletters?|inbox)\b"
    r"|\bnewsletters?\s*[.:!-]\s*(?:subscribe|sign up)(?: now| today)?\s*[.!]*$"
    r"|(?:^|[.!?]\s+)(?:mời bạn đọc |hãy )?đăng k[ýí] nhận (?:bản tin|tin)\b", re.IGNORECASE)
# ">> <headline>": Vietnamese papers' link to another article inside the body, when the rest
# of the line is the text of one of the page's links (a forum's ">> quoted" line is not).
ARROW_POINTER = re.compile(r"^(?:>{2,3}|»{1,2})\s*(?P<text>[^\s>»].*)$")
RELATED_LINE_CHARS = 60
# A paragraph this long, ending a sentence, is prose, not a box's headline.
PROSE_AFTER_HEADING_CHARS = 120
# The comments' heading ends the body only after this much of it.
MIN_PROSE_BEFORE_COMMENTS = 200
POINTER_CHARS = 220


def _is_prose(paragraph: str) -> bool:
    return len(paragraph) > PROSE_AFTER_HEADING_CHARS and \
        SENTENCE_END.search(paragraph) is not None


def without_related(paragraphs: list[str], root: etree._Element | None = None) -> list[str]:
    """Drop a box of related articles or teasers from the body: from a "Tin liên quan", "Bạn có
    thể quan tâm", "Related", "Read more" heading in the second half of the body to the end,
    when what follows is less than the body before it (but for the author's signature under
    it; and only the heading when prose follows it: the box's links are gone already); the
    readers' comments, from their heading ("Ý kiến bạn đọc") to the end; one-line "Xem thêm:
    ..." pointers, newsletter sign-up prompts, and ">> <headline>" lines whose headline is a
    link of the page ``root``."""
    links: set[str] | None = None

    def is_link(text: str) -> bool:
        nonlocal links
        if links is None:  # read only on a page that has such a line
            links = {fold(link) for link in link_texts(root)} if root is not None else set()
        return fold(text) in links

    def is_pointer(paragraph: str) -> bool:
        if len(paragraph) > POINTER_CHARS:
            return False
        if RELATED_POINTER.match(paragraph) or SUBSCRIBE_PROMPT.search(paragraph):
            return True
        arrow = ARROW_POINTER.match(paragraph) if root is not None else None
        return arrow is not None and is_link(arrow["text"])

    kept = [p for p in paragraphs if not is_pointer(p)]
    total = sum(map(len, kept))
    before = 0
    for index, paragraph in enumerate(kept):
        if index and len(paragraph) <= RELATED_LINE_CHARS:
            heading = paragraph.strip()
            under = kept[index + 1:index + 3]
            if RELATED_HEADING.match(heading) and len(under) == 2 and all(
                    _is_prose(after) and not is_link(after) for after in under):
                # Paragraphs of prose under the heading, no headline: the box's links were left
                # out already (a box in the middle of the text), the heading alone is left of it
                # (one paragraph there is the author's biography, a teaser's summary: the box's).
                kept = [*kept[:index], *kept[index + 1:]]
                return without_related(kept, root)
            if RELATED_HEADING.match(heading) and before >= total - before - len(paragraph):
                # The author's signature printed under the box ends the body still: the
                # byline's rules read it there.
                last = kept[-1]
                signed = len(kept) - index > 2 and len(last) <= RELATED_LINE_CHARS and signs(last)
                return [*kept[:index], last] if signed else kept[:index]
            if before >= MIN_PROSE_BEFORE_COMMENTS and COMMENTS_HEADING.match(heading):
                return kept[:index]
        before += len(paragraph)
    return kept
