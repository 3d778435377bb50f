"""HTML helpers shared by every extraction layer: parsing, visible text, page chrome, body blocks.

Pure functions over lxml trees. ``body_blocks`` splits content containers (whichever layer found
them) into paragraphs and photos; ``element_text`` is an element's text as a reader sees it, and
``visible_text`` the page's main text (without header, footer, navigation and chrome). Page
chrome is judged by an element's own class or id (``is_chrome``), never by its ancestors'.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import lxml.html
from lxml import etree

from crawler.extract.selectors import class_names
from crawler.site.urls import absolute_url

# Elements whose content is never text (extraction drops them once metadata is read).
NEVER_TEXT = ("script", "style", "noscript", "template")
# Elements never part of article text, whatever the layer. Not <form>: a page-wide form
# (ASP.NET) can hold the whole article; a form that is a widget is pruned by its size.
SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "button", "select",
                       "nav", "header", "footer", "aside", "svg", "input", "textarea", "video",
                       "dialog"})
# Class/id words of page chrome, matched at the start of a word of an element's OWN class or id
# ("sidebar-1", "sharebar", "comments"; not "canvas" or "unrelated"). An element is judged by
# itself and its close context, never by every ancestor's class: a layout wrapper named
# "one-sidebar" or "sidebar-1" may hold the article.
CHROME_TOKENS = ("related", "footer", "menu", "nav", "sidebar", "col-right", "comment",
                 "reader-form", "share", "social", "breadcrumb", "paging", "pagination",
                 "tags", "banner", "advert", "box-related", "most-read", "author-top",
                 "cookie", "consent", "gdpr", "newsletter", "subscri", "signup", "promo",
                 "popup", "modal", "widget", "sponsor", "outbrain", "taboola", "recirc",
                 "masthead", "skip-link", "disqus", "print-only", "sr-only", "visually-hidden",
                 "off-screen", "offscreen",
                 # Related-article and teaser boxes in the words Vietnamese papers use ("tin
                 # liên quan", "bạn có thể quan tâm", "xem thêm", "tin khác", "cùng chuyên mục")
                 # and in English; shop and ad slots; readers' comments ("bình luận", "ý kiến
                 # bạn đọc"); an author's biography.
                 "lien-quan", "lienquan", "tinlienquan", "quan-tam", "quantam", "xem-them",
                 "xemthem", "tin-khac", "tinkhac", "cung-chuyen-muc", "cungchuyenmuc",
                 "more-news", "recommend", "also-like", "you-may", "trending",
                 "quang-cao", "quangcao", "adsbygoogle", "ad-slot", "ad-container",
                 "affiliate", "shopping", "binhluan", "binh-luan", "ykienbandoc", "y-kien-ban-doc",
                 "author-bio", "about-author", "about-the-author",
                 # The previous and next articles' teasers under the text.
                 "next-prev", "prev-next", "nextprev", "prevnext")
_CHROME = re.compile(r"(?<![a-z])(?:" + "|".join(map(re.escape, CHROME_TOKENS)) + ")")
BLOCK_TAGS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
                        "blockquote", "table", "tbody", "tr", "td", "th", "section",
                        "article", "figure", "figcaption", "center", "pre", "dl", "dd", "dt",
                        "main", "form", "address", "hr"})
# A block holding an <img> and at most this much other text is a photo with its caption.
CAPTION_CHARS = 400
# What marks a photo's caption inside a block holding an <img> (WordPress: .wp-caption-text;
# VCCorp's papers: .PhotoCMS_Caption).
CAPTION_SELECTOR = ('figcaption, .caption, .image-caption, td.caption, [class*="caption"], '
                    '[class*="Caption"]')
# The same, as one walk of the block instead of a union of six (each member but figcaption is
# a class holding "caption" or "Caption"): what the selector finds, in the same order.
_CAPTIONS = etree.XPath("descendant-or-self::*[self::figcaption or contains(@class, 'caption')"
                        " or contains(@class, 'Caption')]")
# A photo block's caption, in order of preference (the first that finds one wins; "td.caption"
# adds nothing to ".caption", it is kept for the reader). _caption_element finds it in one pass.
CAPTION_SELECTORS = ("figcaption", ".caption", ".image-caption", "td.caption", ".desc",
                     '[class*="caption"]', '[class*="Caption"]')
# A chrome-named element inside a body container is kept when it holds at least this share of
# the container's text: then it is the article (a "share-enabled" wrapper), not chrome.
BULK_SHARE = 0.5
# A form inside a body container with less text than this is a widget (search, newsletter).
WIDGET_FORM_CHARS = 500
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def class_tokens(el: etree._Element) -> str:
    """Return an element's class and id, lower-cased, as one string."""
    return f"{el.get('class', '')} {el.get('id', '')}".lower()


@lru_cache(maxsize=4096)
def is_chrome_name(name: str) -> bool:
    """True when a (lower-case) class or id value names page chrome."""
    # Pages repeat the same few class names on many elements: remembered.
    return _CHROME.search(name) is not None


_NAMELESS_IS_CHROME = is_chrome_name(" ")


def is_chrome(el: etree._Element) -> bool:
    """True when an element's own class or id names page chrome (menus, related links, ...)."""
    if not el.get("class") and not el.get("id"):
        return _NAMELESS_IS_CHROME  # most elements: is_chrome_name(class_tokens(el)) of " "
    return is_chrome_name(class_tokens(el))


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NAME_SPLIT = re.compile(r"[\s_\-]+")


def name_words(el: etree._Element) -> set[str]:
    """Return the words of an element's class and id, lower case ("ArticleLead": article, lead)."""
    words: set[str] = set()
    for value in (el.get("class"), el.get("id")):
        if value:
            for part in _NAME_SPLIT.split(_CAMEL.sub(" ", value)):
                if part:
                    words.add(part.lower())
    return words


def text_size(el: etree._Element) -> int:
    """Return how many non-space characters an element's text holds (scripts already gone)."""
    return sum(len(t) - t.count(" ") - t.count("\n") - t.count("\t") for t in el.itertext())


def is_hidden(el: etree._Element) -> bool:
    """True when an element is not shown: ``hidden``, or ``display: none`` in its own style."""
    if el.get("hidden") is not None:
        return True
    style = el.get("style")
    return bool(style) and _HIDDEN_STYLE.search(style) is not None


_OTHER_SPACES = "\t\r\f\v\u00a0"


def squash(text: str) -> str:
    """Collapse spaces inside lines and drop empty lines."""
    # Runs of space, tab, CR, FF, VT and no-break space to one space, with str.replace: a regex
    # tried a match at every character, a tenth of extraction's time (tests/test_text_fast_paths.py
    # checks the two agree).
    if text.isprintable():
        # One line, and no white space but the space (str.isprintable is false for every other
        # separator and control character): most texts a page's elements give.
        while "  " in text:
            text = text.replace("  ", " ")
        return text.strip()
    for space in _OTHER_SPACES:
        if space in text:
            text = text.replace(space, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    lines = (line.strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def element_text(el: etree._Element, limit: int | None = None) -> str:
    """Return an element's visible text, ``<br>`` as a line break, scripts and styles skipped;
    with ``limit``, reading stops soon after that many characters (a cheap look at the start)."""
    # A stack of elements to read and strings to append (a tail, a block's closing break), not
    # a recursive closure: that made a reference cycle which kept each page's tree alive until
    # the garbage collector ran.
    # Each .text and .tail is read once: lxml decodes the UTF-8 again at every access.
    parts: list[str] = [text] if (text := el.text) else []
    stack: list[etree._Element | str] = list(reversed(el))
    size = 0
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            parts.append(node)
            continue
        if limit is not None and size > limit:
            continue
        text, tail = node.text, node.tail
        if limit is not None:
            size += len(text or "") + len(tail or "")
        if tail:
            stack.append(tail)
        if not isinstance(node.tag, str):  # comments, processing instructions
            continue
        tag = node.tag.lower()
        if tag in ("script", "style", "noscript", "template") or (node.keys() and is_hidden(node)):
            continue
        if tag == "br":
            parts.append("\n")
            continue
        if tag in BLOCK_TAGS:
            parts.append("\n")
            stack.append("\n")
        if text:
            parts.append(text)
        stack.extend(reversed(node))
    return squash("".join(parts))


def visible_text(root: etree._Element) -> str:
    """Return the text a reader sees in the page's main area: the body without what is never
    shown, page chrome (by each element's own class or id), header, footer and navigation."""
    body = root.find("body")
    parts: list[str] = []
    stack = [body if body is not None else root]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            parts.append(node)
            continue
        if isinstance(node.tag, str) and not (node.tag in SKIP_TAGS or is_hidden(node)
                                              or is_chrome(node)):
            if node.tag in BLOCK_TAGS or node.tag == "br":
                parts.append("\n")
            if text := node.text:
                parts.append(text)
            # Children in order, each followed by its tail (pushed in reverse).
            for child in reversed(node):
                if tail := child.tail:
                    stack.append(tail)
                stack.append(child)
    return squash("".join(parts))


# lxml.html's parsers give each element a Python class (a lookup run in Python for every
# element the code touches); extraction uses only what every lxml element has, so it parses
# with a plain HTML parser, through lxml.html.fromstring's same rules.
_UTF8_HTML_PARSER = etree.HTMLParser(encoding="utf-8")
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_html(html: str) -> etree._Element:
    """Parse a decoded page; an XHTML page's ``<?xml ... encoding=...?>`` line is no obstacle."""
    # A NUL carries nothing, and lxml would turn it into U+FFFD inside the text.
    html = html.replace("\x00", "")
    # The text is decoded already: handed over as UTF-8 bytes with the parser told so (a
    # declaration in the page does not count then, nor an XML declaration's encoding, which lxml
    # refuses in a str). libxml2 reads UTF-8 natively; a str it converts from Python's internal
    # form first, a third of the parse.
    try:
        data = html.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which no encoding holds: U+FFFD instead
        data = _SURROGATE.sub("\ufffd", html).encode("utf-8")
    return lxml.html.fromstring(data, parser=_UTF8_HTML_PARSER)


def _has_img(el: etree._Element) -> bool:
    """True when an element holds an <img> (lxml's own iteration: no XPath per element)."""
    return next(el.iter("img"), None) is not None


def _img_holders(container: etree._Element) -> set[etree._Element]:
    """Return the elements of a container (itself included) that hold an <img>: one pass."""
    holders: set[etree._Element] = set()
    for img in container.iter("img"):
        for ancestor in img.iterancestors():
            if ancestor in holders:
                break
            holders.add(ancestor)
            if ancestor is container:
                break
    return holders


def _is_image_block(el: etree._Element, holders: set[etree._Element] | None = None) -> bool:
    tag = el.tag.lower()
    if tag == "img":
        return True
    # A figure without an <img> (a video, an embed, a pull quote) is not a photo.
    if tag in ("figure", "table", "div", "p", "span", "li") and (
            el in holders if holders is not None else _has_img(el)):
        if tag == "figure":
            return True
        # A container of a photo and at most a caption-sized text (its caption elements may
        # hold more: a full and a cut-down copy, a credit). Not one that also holds a paragraph
        # of prose of its own beside the photo (a how-to's step: text, then its picture).
        size = text_size(el)
        captions = _captions_in(el)
        if tag != "p" and _holds_prose_beside(el, captions):
            return False
        if captions:
            return size - sum(text_size(c) for c in captions if c.getparent() is not None
                              and not any(a in captions for a in c.iterancestors())) < \
                CAPTION_CHARS
        return size < CAPTION_CHARS and (
            tag == "table"
            or any(t in class_tokens(el) for t in ("image", "photo", "pic", "figure", "caption"))
            or not size
        )
    return False


# A paragraph this long beside a photo is text of its own, not the photo's caption.
PROSE_BESIDE_PHOTO_CHARS = 80


def _holds_prose_beside(el: etree._Element, captions: list[etree._Element]) -> bool:
    """True when a block holds its photo in a <figure> of its own and, outside it and outside
    any caption, a <p> of prose: the photo illustrates that text, it is not the block."""
    figures = list(el.iter("figure"))
    if not figures or next(el.iter("img"), None) is None:
        return False
    for para in el.iter("p"):
        if any(f in para.iterancestors() for f in figures) or \
                any(c is para or c in para.iterancestors() for c in captions):
            continue
        if next(para.iter("img"), None) is None and \
                len(element_text(para)) >= PROSE_BESIDE_PHOTO_CHARS:
            return True
    return False


def _captions_in(el: etree._Element) -> list[etree._Element]:
    """Return ``_CAPTIONS(el)`` by a walk: a photo block is a few elements, an XPath's set-up
    costs more than reading them (tests/test_selectors.py checks the two agree)."""
    return [node for node in el.iter() if isinstance(node.tag, str) and (
        node.tag == "figcaption" or _names_caption(node.get("class") or ""))]


def _names_caption(value: str) -> bool:
    """True when a class value names a caption ("image-caption", VCCorp's "PhotoCMS_Caption")."""
    return "caption" in value or "Caption" in value


def _caption_element(el: etree._Element) -> etree._Element | None:
    """Return a photo block's caption element: what ``first(el, CAPTION_SELECTORS)`` returns,
    found in one pass over the block (seven selector queries cost more than the photo's rest)."""
    best, best_rank = None, len(CAPTION_SELECTORS)
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag == "figcaption":
            return node  # the first selector: its first match wins outright
        value = node.get("class")
        if not value or (not _names_caption(value) and "desc" not in value):
            continue
        names = class_names(value)
        rank = 1 if "caption" in names else 2 if "image-caption" in names else \
            4 if "desc" in names else 5 if "caption" in value else 6 if "Caption" in value else \
            best_rank
        if rank < best_rank:
            best, best_rank = node, rank
    return best


def _image(el: etree._Element, page_url: str) -> dict[str, str | None]:
    img = el if el.tag.lower() == "img" else next(el.iter("img"))
    src = img.get("src") or img.get("data-src") or img.get("data-original")
    caption_el = _caption_element(el)
    caption = element_text(caption_el) if caption_el is not None else None
    if caption is None and el.tag.lower() != "img":
        caption = element_text(el) or None
    return {
        "url": absolute_url(page_url, src.strip()) if src else None,
        "alt": (img.get("alt") or img.get("title") or "").strip() or None,
        "caption": caption,
    }


def caption_texts(root: etree._Element) -> list[str]:
    """Return the texts the page prints as photo captions (``<figcaption>``, an element whose
    class says caption) and in ``<figure>`` elements."""
    found = [*_CAPTIONS(root), *root.iter("figure")]
    return [text for el in found if (text := element_text(el))]


def link_texts(root: etree._Element) -> list[str]:
    """Return the text of each link on the page."""
    return [text for a in root.iter("a") if (text := element_text(a))]


def _under_photo(el: etree._Element) -> bool:
    """True when the element before ``el`` is a photo's block holding no text."""
    before = el.getprevious()
    return before is not None and isinstance(before.tag, str) and _has_img(before) and \
        not text_size(before)


def _is_widget_form(el: etree._Element) -> bool:
    return el.tag == "form" and len(element_text(el)) < WIDGET_FORM_CHARS


_FLUSH = object()  # body_blocks: a block ends here


def body_blocks(
    containers: etree._Element | list[etree._Element], page_url: str,
    junk: Callable[[etree._Element], bool] | None = None,
    caption: Callable[[etree._Element], bool] | None = None,
) -> tuple[list[str], list[dict]]:
    """Split content containers (whichever layer found them) into paragraphs and photos.

    Inside them, what is not shown, page chrome (by the element's own class or id, unless it
    holds the bulk of the text), widget forms and whatever ``junk`` says are left out. With
    ``caption``, a block it says is printed as a caption is the photo's caption, not text: the
    block right after a photo without one, or a block holding a photo and that line."""
    if not isinstance(containers, list):
        containers = [containers]
    paragraphs: list[str] = []
    images: list[dict] = []
    pending: list[str] = []
    # The container's text length, which only a chrome-named element inside it needs: measured
    # the first time one is met (most containers hold none, and measuring is a pass of its own).
    total: list[int | None] = [None]

    def container_chars() -> int:
        total[0] = len(element_text(container)) if total[0] is None else total[0]
        return total[0]

    def flush() -> None:
        text = squash("".join(pending))
        pending.clear()
        if text:
            paragraphs.extend(p for p in text.split("\n") if p)

    def pruned(el: etree._Element, tag: str) -> bool:
        # An element without attributes (most of a body's) is neither hidden nor named: one
        # look at its attribute names instead of four at its values.
        named = bool(el.keys())
        if tag in SKIP_TAGS or (named and is_hidden(el)) or \
                (tag == "form" and _is_widget_form(el)):
            return True
        # A figure holds media and its caption, never body text: without an <img> (a video,
        # an embed, a lazy-loaded photo, a pull quote) it is left out.
        if tag == "figure" and not _is_image_block(el, holders):
            return True
        if (is_chrome(el) if named else _NAMELESS_IS_CHROME) and \
                len(element_text(el)) < BULK_SHARE * container_chars():
            return True
        return junk is not None and junk(el)

    def read(container: etree._Element) -> None:
        # A stack of elements to read, strings to append (a tail) and _FLUSH (a block's end),
        # not a recursive closure: that made a reference cycle which kept each page's tree alive
        # until the garbage collector ran.
        # A line break in the HTML source is a space, as a browser shows it: <br> and blocks
        if text := container.text:  # break lines (and <pre>, whose breaks are its own)
            pending.append(text.replace("\n", " "))
        stack: list[etree._Element | str | object] = list(reversed(container))
        while stack:
            el = stack.pop()
            if el is _FLUSH:
                flush()
                continue
            if isinstance(el, str):
                pending.append(el.replace("\n", " "))
                continue
            if tail := el.tail:
                stack.append(tail)
            if not isinstance(el.tag, str):
                continue
            tag = el.tag.lower()
            if pruned(el, tag):
                continue
            if _is_image_block(el, holders) or (
                    caption is not None and tag in ("p", "div") and el in holders
                    and caption(el)):
                flush()
                images.append(_image(el, page_url))
                uncaptioned[0] = None if images[-1]["caption"] else el
            elif caption is not None and uncaptioned[0] is not None and tag in ("p", "div") \
                    and el.getprevious() is uncaptioned[0] and \
                    not (uncaptioned[0].tail or "").strip() and caption(el):
                images[-1]["caption"] = element_text(el)  # the line under the photo
                uncaptioned[0] = None
            elif tag == "br":
                pending.append("\n")
            elif tag == "pre":
                flush()
                pending.append("".join(el.itertext()))
                flush()
            else:
                if tag in BLOCK_TAGS:
                    flush()
                    stack.append(_FLUSH)
                if text := el.text:
                    pending.append(text.replace("\n", " "))
                stack.extend(reversed(el))

    holders: set[etree._Element] = set()
    # The last photo read, while it has no caption (the block after it may be that).
    uncaptioned: list[etree._Element | None] = [None]
    for container in containers:
        if caption is not None and _under_photo(container) and caption(container):
            continue  # a photo's caption line the rules took for a block of text
        total[0] = None
        holders = _img_holders(container)
        flush()
        read(container)
        flush()
    return paragraphs, images
