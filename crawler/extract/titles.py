"""Titles without the publisher's or the section's name, by rules that hold for any paper.

A page's ``<title>`` and often its og:title carry more than the headline: "… - Chính trị - Xã hội
- Tuổi Trẻ Online", "… | VnExpress", "Báo Nam Định - …". The headline's own text may hold the
same separators ("Hà Nội - Hải Phòng: …"), so a segment is dropped only on evidence, never for
its position alone:
1. the headline printed in the page: the run of segments whose text an element of the page's
   body repeats (``find_headline``), or the heading the other rules found, is the title;
2. else segments at either end that name the publisher (og:site_name, application-name, the
   JSON-LD publisher, the host's name: "tuoitre" for "Tuổi Trẻ Online", "VnExpress"), that read
   as a masthead by their shape alone ("Báo" or "Tạp chí" before a capitalised name, a
   capitalised name before "Online" or "điện tử", a host name such as "VOV.VN"), or a section
   (article:section, the text of a navigation or breadcrumb link) are dropped.
No list of papers: every name compared with comes from the page itself or from those shapes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from lxml import etree

from crawler.extract.html import SKIP_TAGS, element_text, is_chrome
from crawler.normalise.keys import fold

# Separators between a headline and the names around it: a dash, pipe, guillemet, slash or
# double colon between spaces, or a pipe alone. A match starts where white space starts, never
# inside a run of it: tried at every space of a <title> padded with 200,000 spaces, "\s+" read
# the rest of the run each time (quadratic, issue 21); the matches are the same.
SEPARATOR = re.compile(r"(?<!\s)\s+(?:[-–—|»·/]|::)\s+|(?<!\s)\s+\|\s*|\|\s*")
# A headline repeated in the body is this long at least (a site name or a label is shorter).
MIN_HEADLINE_CHARS = 15
# A run of segments with neither end of the title is a headline only with this many words: a
# short one between two is a section's or a series' name.
MIDDLE_RUN_WORDS = 4
# Words a publisher's name carries or drops ("Tuổi Trẻ Online", "Báo Dân trí", "VnExpress.net").
_PUBLISHER_AFFIXES = ("online", "dientu", "bao", "net", "vn", "com", "comvn", "tv", "news")
# Tags whose text is a headline's when it repeats the page title; links only inside one.
_HEADLINE_TAGS = frozenset({"h1", "h2", "h3", "h4", "div", "p", "span", "strong", "b", "td",
                            "a", "header", "section", "article"})
_INLINE_OPENERS = frozenset({"a", "span", "strong", "b", "em", "font"})
# How far a page's link text is trusted as a section name (a menu item, a breadcrumb).
SECTION_LINK_CHARS = 40
_CHROME_TAGS = frozenset({"nav", "header", "footer", "ul", "ol"})


def segments(title: str) -> list[tuple[str, str]]:
    """Return a title's segments, each with the separator printed after it ("" for the last)."""
    parts: list[tuple[str, str]] = []
    last = 0
    for match in SEPARATOR.finditer(title):
        if match.start() > last:
            parts.append((title[last:match.start()], match.group(0)))
        last = match.end()
    parts.append((title[last:], ""))
    return [(text.strip(), sep) for text, sep in parts if text.strip()]


def _joined(parts: list[tuple[str, str]]) -> str:
    return "".join(text + sep for text, sep in parts[:-1]) + parts[-1][0] if parts else ""


def runs(title: str) -> dict[str, str]:
    """Return every contiguous run of a title's segments by its comparison key: what the
    headline may be once the names around it are gone, at either end or both ("Tin tức - … -
    Báo Hà Nam": a section before it, the masthead after)."""
    parts = segments(title)
    found: dict[str, str] = {}
    for start in range(len(parts)):
        for end in range(start + 1, len(parts) + 1):
            text = _joined(parts[start:end])
            if start and end < len(parts) and len(text.split()) < MIDDLE_RUN_WORDS:
                continue  # a name between names ("BBC - North Yorkshire - Food reviews")
            found.setdefault(fold(text), text)
    return found


def in_title_case(headline: str, titles: Iterable[str | None]) -> str:
    """Return a headline printed in capitals ("NGÀNH GIÁO DỤC TỔNG KẾT") as the page's title
    writes it, when a run of a title's segments is the same text in other case; else as it is."""
    if not headline.isupper():
        return headline
    key = fold(headline)
    for title in titles:
        text = runs(title).get(key) if title else None
        if text and not text.isupper():
            return text
    return headline


# A label the headline's element prints before it is a word or three ("Video", "Giáo dục:").
LABEL_WORDS = 3


def headline_text(heading: etree._Element, titles: Iterable[str | None]) -> str:
    """Return the text of the headline's element, without a short label printed in an element
    of its own before it ("<h1><span class="icon-video">Video</span> …</h1>", a kicker "<span
    class="kicker">Giáo dục:</span>") when the page's title holds the rest, not the two."""
    text = element_text(heading)
    first = next((child for child in heading if isinstance(child.tag, str)), None)
    if first is None or (heading.text or "").strip() or first.tag in ("a", "br"):
        return text
    label = element_text(first)
    rest = text[len(label):].strip() if label and text.startswith(label) else ""
    if not rest or len(label.split()) > LABEL_WORDS or len(rest) < MIN_HEADLINE_CHARS:
        return text
    for title in titles:
        if title and fold(rest) in runs(title) and fold(text) not in fold(title):
            return rest
    return text


def ascii_key(text: str) -> str:
    """Return letters and digits only, lower case, without tone marks ("Tuổi Trẻ" -> "tuoitre")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum() and ch.isascii())


def host_name(url: str | None) -> str | None:
    """Return the name part of a URL's host ("vnexpress" for https://vnexpress.net/...)."""
    host = urlsplit(url or "").hostname or ""
    labels = [label for label in host.split(".") if label not in ("www", "m", "beta")]
    while len(labels) > 1 and (len(labels[-1]) <= 3 or labels[-1] in ("info", "online")):
        labels.pop()
    return labels[0] if labels and len(labels[0]) >= 3 else None


def publisher_keys(publishers: Iterable[str]) -> set[str]:
    """Return the comparison keys (ascii_key) of a publisher's names."""
    return {key for key in map(ascii_key, publishers) if len(key) >= 3}


# A host name printed as a segment ("VOV.VN", "Znews.vn", "baochinhphu.vn").
_HOST_LIKE = re.compile(r"[^\W_][\w-]*(?:\.[\w-]+)*\.(?:vn|com|net|org|info)", re.IGNORECASE)
# A masthead's words: "Báo Người Lao Động", "Báo điện tử Đảng Cộng sản Việt Nam" (at most so many).
MASTHEAD_WORDS = 9
# A government portal's or a broadcaster's name, before the province's or the station's: "Cổng
# thông tin điện tử tỉnh Lào Cai", "Cổng TTĐT tỉnh Hà Nam", "CTTĐT Bắc Ninh", "Trang thông tin
# điện tử …", "Đài Phát thanh và Truyền hình Nam Định", "Đài PT-TH …", "Đài Tiếng nói Việt
# Nam" (casefolded).
_PORTAL = re.compile(r"(?:(?:cổng|trang)\s+(?:thông\s+tin(?:\s+điện\s+tử)?|ttđt)|cttđt|tttđt"
                     r"|đài\s+(?:phát\s+thanh|truyền\s+hình|tiếng\s+nói|pt\W?th))\s+\w")


def reads_as_masthead(segment: str) -> bool:
    """True when a title segment reads as a Vietnamese masthead whoever the paper: "Báo" (the
    newspaper) or "Tạp chí" (the magazine) before a capitalised name, possibly after "điện tử";
    a name of capitalised words before "Online" or "điện tử"; a government portal's or a
    broadcaster's name ("Cổng TTĐT tỉnh …", "Đài Phát thanh và Truyền hình …"); a host name.
    "Báo động" (an alarm) is not one: the word after "Báo" is not capitalised."""
    words = segment.split()
    if not words or len(words) > MASTHEAD_WORDS:
        return False
    if len(words) == 1:
        return _HOST_LIKE.fullmatch(words[0]) is not None
    if _PORTAL.match(segment.casefold()):
        return True
    lower = [w.casefold() for w in words]
    name: list[str] = []
    if lower[0] == "báo":
        name = words[1:]
    elif lower[:2] == ["tạp", "chí"]:
        name = words[2:]
    if name:
        if [w.casefold() for w in name[:2]] == ["điện", "tử"]:
            name = name[2:]
        return bool(name) and name[0][:1].isupper()
    if words[-1] in ("Online", "ONLINE"):
        name = words[:-1]
    elif lower[-2:] == ["điện", "tử"]:
        name = words[:-2]
    return bool(name) and all(w[:1].isupper() for w in name)


def names_publisher(text: str, publishers: Iterable[str]) -> bool:
    """True when a text names the publisher (one of ``publishers``' names, with or without
    "Báo", "Online", ...) or reads as a masthead by its shape."""
    return _names_publisher(text, publisher_keys(publishers))


def _names_publisher(segment: str, keys: set[str]) -> bool:
    key = ascii_key(segment)
    if not key:
        return False
    if key in keys or reads_as_masthead(segment):
        return True
    for affix in _PUBLISHER_AFFIXES:
        if (key.endswith(affix) and key[: -len(affix)] in keys) or (
                key.startswith(affix) and key[len(affix):] in keys):
            return True
        if any(name.endswith(affix) and name[: -len(affix)] == key or
               name.startswith(affix) and name[len(affix):] == key for name in keys):
            return True
    return False


def clean_title(title: str, *, heading: str | None = None, publishers: Iterable[str] = (),
                sections: Iterable[str] | Callable[[set[str]], Iterable[str]] = ()) -> str:
    """Return ``title`` without the publisher's and section's names printed around the headline.

    ``heading``: the headline as the page prints it, when known; ``publishers``: names and host
    names the publisher goes by; ``sections``: the names of the page's sections, or a function
    that returns which of the texts it is given (a title's edge segments) name one."""
    parts = segments(title)
    if len(parts) < 2:
        return title.strip()
    keys = publisher_keys(publishers)
    if heading:
        run = runs(title).get(fold(heading))
        if run and not _names_publisher(run, keys):  # a logo's <h1> is no headline
            return run
    if callable(sections):
        edges = {_joined(parts[:size]) for size in range(1, len(parts))} | \
            {_joined(parts[-size:]) for size in range(1, len(parts))}
        sections = sections(edges)
    section_keys = {fold(s) for s in sections if s and s.strip()}

    def names_something(edge: list[tuple[str, str]]) -> bool:
        text = _joined(edge)
        return _names_publisher(text, keys) or fold(text) in section_keys

    def _headline_left(rest: list[tuple[str, str]]) -> bool:
        # What is left must read as a headline: long enough, and no name itself.
        return len(_joined(rest)) >= MIN_HEADLINE_CHARS and not names_something(rest)

    while len(parts) > 1:
        # The longest run of segments at either end that names the publisher or a section
        # ("Chính trị - Xã hội" is one section printed with a separator inside).
        cut = next(((size, at_end) for size in range(len(parts) - 1, 0, -1)
                    for at_end in (True, False)
                    if names_something(parts[-size:] if at_end else parts[:size])
                    and _headline_left(parts[:-size] if at_end else parts[size:])), None)
        if cut is None:
            break
        size, at_end = cut
        parts = parts[:-size] if at_end else parts[size:]
    return _joined(parts)


def find_headline(root: etree._Element, titles: Iterable[str | None],
                  publishers: Iterable[str] = ()) -> etree._Element | None:
    """Return the body element that prints the headline the page's titles hold: the first
    whose whole text is a run of a title's segments (the longest run such an element prints),
    or None. A run naming the publisher is no headline; elements in the page's header,
    navigation, footer or an aside, in a list item, and links outside a heading do not count."""
    keys = publisher_keys(publishers)
    wanted: dict[str, str] = {}
    for title in titles:
        for key, text in (runs(title) if title else {}).items():
            if len(text) >= MIN_HEADLINE_CHARS and not _names_publisher(text, keys):
                wanted.setdefault(key, text)
    if not wanted:
        return None
    # An element prints a run only if its own first word opens one: checked before its text.
    openings = {_first_word(text) for text in wanted.values()}
    initials = {word[:1] for word in openings}
    body = root.find("body")
    best: tuple[int, etree._Element] | None = None
    for el in (body if body is not None else root).iter(*_HEADLINE_TAGS):
        text = el.text
        if not text or text.isspace():
            text = el[0].text if len(el) and el[0].tag in _INLINE_OPENERS else None
            if not text:
                continue
        start = text.lstrip(_SPACE_AND_PUNCTUATION)[:1].casefold()
        if start not in initials or _first_word(text) not in openings:
            continue
        full = element_text(el, limit=400)
        if not MIN_HEADLINE_CHARS <= len(full) <= 400:
            continue
        key = fold(full)
        if key in wanted and (best is None or len(key) > best[0]) and not _out_of_article(el):
            best = (len(key), el)
    return best[1] if best else None


def _first_word(text: str) -> str:
    """Return a text's first word, case-folded, without the punctuation around it: a cheap key
    that a headline's element and its title share."""
    words = text.split(None, 1)
    return words[0].strip(_PUNCTUATION).casefold() if words else ""


_PUNCTUATION = "\"'“”‘’«»()[]{}.,:;!?-–—|/…*"
_SPACE_AND_PUNCTUATION = _PUNCTUATION + " \t\n\r\u00a0"


def _out_of_article(el: etree._Element) -> bool:
    """True when an element sits in the page's header, navigation, footer or an aside, in a
    list item (a teaser, a menu), or is a link outside a heading."""
    parent = el.getparent()
    if el.tag == "a" and (parent is None or parent.tag not in ("h1", "h2", "h3", "h4")):
        return True
    return in_page_chrome(el) or any(ancestor.tag == "li" for ancestor in el.iterancestors())


# HTML5's sectioning elements whose <header> is their own: an article's holds its headline, date
# line and author ("<article><header><h1>…</h1><time>…</time></header>").
_ARTICLE_TAGS = frozenset({"article", "main"})


def in_page_chrome(el: etree._Element) -> bool:
    """True when an element sits in the page's header, navigation, footer, an aside or another
    element whose text is never read; a <header> inside an <article> or <main> is the
    article's own, not the page's."""
    in_header = False  # inside a <header>, whose article may stand further up
    for ancestor in el.iterancestors():
        if ancestor.tag == "header":
            in_header = True
        elif ancestor.tag in _ARTICLE_TAGS:
            in_header = False
        elif ancestor.tag in SKIP_TAGS:
            return True
    return in_header


def section_names(root: etree._Element, texts: Iterable[str] | None = None) -> set[str]:
    """Return the texts of the page's navigation and breadcrumb links: its sections' names;
    with ``texts``, only those of them that such a link prints."""
    wanted = {fold(t): t for t in texts} if texts is not None else None
    openings = {_first_word(t) for t in wanted.values()} if wanted is not None else None
    names: set[str] = set()
    for link in root.iter("a"):
        if openings is not None:
            first = link.text if link.text and link.text.strip() else (
                link[0].text if len(link) else None)
            if not first or _first_word(first) not in openings:
                continue
        text = element_text(link)
        if not text or len(text) > SECTION_LINK_CHARS or (
                wanted is not None and fold(text) not in wanted):
            continue
        for depth, ancestor in enumerate(link.iterancestors()):
            if depth >= 4:
                break
            if ancestor.tag in _CHROME_TAGS or is_chrome(ancestor):
                names.add(text)
                break
    return names
