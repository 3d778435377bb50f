"""The heuristic layer: markup-agnostic rules for a page no selector and no metadata explain.

The body is found as readability does: every paragraph of prose (enough text, not mostly links,
not shown inside page chrome) scores its close ancestors; the best-scoring container, weighed by
its own class and its link density, wins, with the siblings that score nearly as well. Page
chrome is judged by an element's own class or id and those of its parent and grandparent, never
by every ancestor's: a layout wrapper named "sidebar-1", a ``<body class="one-sidebar">`` or a
page-wide ``<form>`` must not hide the article. Also: the first heading (the headline a page
title repeats is found by crawler/extract/titles.py, the date line by crawler/extract/datelines.py).
"""

from __future__ import annotations

import re

from lxml import etree

from crawler.extract.datelines import TEASER_BLOCK_CHARS, TEASER_LINK_CHARS
from crawler.extract.html import (
    BLOCK_TAGS,
    BULK_SHARE,
    SKIP_TAGS,
    element_text,
    is_chrome,
    is_chrome_name,
    is_hidden,
    text_size,
)
from crawler.extract.profile import MIN_BODY_CHARS
from crawler.extract.selectors import css
from crawler.extract.titles import in_page_chrome
from crawler.extract.voters import PROSE_CHARS, SENTENCE_END

# A match starts where white space starts, never inside it: tried at every space of a long run
# of them (a <title> or og:title padded with spaces), "\s*" read the run again each time.
SITE_TITLE_SUFFIX = re.compile(r"(?<!\s)\s*[-|–]\s*(Báo|Bao)\s+Nam\s+(Định|Dinh).*$",
                               re.IGNORECASE)
MIN_PARAGRAPH_CHARS = 25
# How many ancestors a paragraph's score reaches, and how much of it each gets (readability).
SCORE_LEVELS = 5
# Containers whose class or id says "content" get a head start; chrome names a handicap.
POSITIVE = re.compile(r"article|body|content|entry|main|page|post|text|blog|story|detail|news")
CLASS_WEIGHT = 25
TAG_WEIGHT = {"div": 5, "section": 5, "article": 8, "main": 5, "pre": 3, "td": 3,
              "blockquote": 3, "form": -3, "ol": -3, "ul": -3, "dl": -3, "li": -3, "dd": -3,
              "dt": -3, "address": -3, "th": -5, "h1": -5, "h2": -5, "h3": -5, "h4": -5,
              "h5": -5, "h6": -5}
# Elements that read as one paragraph when they hold no block of their own.
PARAGRAPH_TAGS = frozenset({"p", "pre", "td", "blockquote", "div", "section", "article", "main",
                            "center"})
# Candidates weighed by link density, and a sibling's share of the best score to be taken along.
TOP_CANDIDATES = 5
SIBLING_SHARE = 0.2
# A sibling of the best container that holds the headline, less text than this besides and no
# line of prose is the article's header (its date line, its author), not a part of the body.
HEADER_CHARS = 300
# Candidates scoring this share of the best are "near best"; this many of them under one
# ancestor make that ancestor the article (readability's alternative ancestors).
NEAR_BEST = 0.75
MIN_NEAR_BEST = 3
# Blocks inside the chosen container that is_junk() judges.
JUDGED_BLOCKS = frozenset({"div", "section", "table", "ul", "ol", "dl", "form"})
LINK_PARAGRAPH_DENSITY = 0.9
# An ancestor of the best container with at most this many times its text and this share of
# link text, this many levels up at most, is the article (text split over table cells).
CLIMB_RATIO, CLIMB_LINKS, CLIMB_LEVELS = 2.5, 0.05, 3
# ...and at least this many times its text: half as much prose again.
CLIMB_MIN_RATIO = 1.5
# Candidates outside the page's one <main> weigh this much; a <main> must score this much
# (prose inside it) to count.
OUTSIDE_MAIN = 0.5
MAIN_MIN_SCORE = 10.0


def _walk(root: etree._Element):
    """Yield the elements under ``root`` in document order, skipping what is never text."""
    stack = [root]
    while stack:
        el = stack.pop()
        tag = el.tag
        if not isinstance(tag, str) or tag in SKIP_TAGS or is_hidden(el):
            continue
        yield el
        stack.extend(reversed(el))


def _own_text(el: etree._Element) -> tuple[int, int, int]:
    """Return (characters, link characters, commas) of the text an element holds outside its
    block children: the paragraph it forms itself."""
    chars = links = commas = 0
    # Its text, and its inline children's texts and tails, each with whether a link holds it:
    # counted from a stack (a recursive closure made a reference cycle on every call).
    texts: list[tuple[str | None, bool]] = [(el.text, el.tag == "a")]
    stack = [(el, el.tag == "a")]
    while stack:
        node, in_link = stack.pop()
        for child in node:
            tag = child.tag
            if isinstance(tag, str) and tag not in BLOCK_TAGS and tag not in SKIP_TAGS \
                    and not is_hidden(child):
                child_link = in_link or tag == "a"
                texts.append((child.text, child_link))
                stack.append((child, child_link))
            texts.append((child.tail, in_link))
    for text, in_link in texts:
        if text:
            n = len(text.strip())
            chars += n
            commas += text.count(",")
            if in_link:
                links += n
    return chars, links, commas


def _close_chrome(el: etree._Element) -> list[etree._Element]:
    """Return the element, its parent and grandparent where named as page chrome."""
    found = []
    for _ in range(3):
        if el is None or el.tag in ("body", "html"):
            break
        if is_chrome(el):
            found.append(el)
        el = el.getparent()
    return found


def _initial_score(el: etree._Element) -> float:
    score = TAG_WEIGHT.get(el.tag, 0)
    for name in (el.get("class"), el.get("id")):
        if name:
            name = name.lower()
            if is_chrome_name(name):
                score -= CLASS_WEIGHT
            if POSITIVE.search(name):
                score += CLASS_WEIGHT
    return score


def _link_density(el: etree._Element) -> float:
    text = text_size(el)
    if not text:
        return 1.0
    links = sum(text_size(a) for a in el.iter("a"))
    return min(links / text, 1.0)


def _paragraph_score(chars: int, commas: int) -> float:
    return 1 + commas + min(chars / 100, 3)


def _anchor_of(el: etree._Element) -> etree._Element | None:
    """Return the nearest block ancestor of an element (a paragraph in a <span> scores a block)."""
    parent = el.getparent()
    while parent is not None and isinstance(parent.tag, str) and parent.tag not in BLOCK_TAGS \
            and parent.tag not in ("body", "html"):
        parent = parent.getparent()
    return parent


# A list of teasers: at least this many sibling items of the same tag and class, each a small
# block (TEASER_BLOCK_CHARS of text at most) with another story's headline, a link of
# TEASER_LINK_CHARS at least in a heading (the sizes of a teaser the date line search passes over).
TEASER_ITEMS = 3
_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
# Teasers' summaries count as prose where the rest of the page holds less than a body's least.
TEASERS_ALONE_CHARS = MIN_BODY_CHARS


def _teaser_summary(el: etree._Element, block: etree._Element | None) -> bool:
    """True when a paragraph is the summary of a teaser in a list of them: "<div class="item">
    <h3><a>headline</a></h3><p>summary</p></div>" repeated. Twenty teasers outscore a short
    article on prose alone."""
    if block is None or block.tag in ("body", "html") or el.tag in _HEADINGS:
        return False
    # The size first: reading at most that much of the block is cheap, its headings are not
    # (an article's container holds hundreds of elements, and is asked once a paragraph).
    if len(element_text(block, limit=TEASER_BLOCK_CHARS)) > TEASER_BLOCK_CHARS:
        return False
    if not any(len(element_text(a)) >= TEASER_LINK_CHARS
               for heading in block.iter(*_HEADINGS) for a in heading.iter("a")):
        return False
    parent = block.getparent()
    if parent is None:
        return False
    tag, name = block.tag, block.get("class")
    return sum(1 for item in parent if item.tag == tag and item.get("class") == name) \
        >= TEASER_ITEMS


def score_containers(root: etree._Element) -> dict[etree._Element, float]:
    """Return each container's score from the paragraphs of prose it holds (readability).

    A paragraph inside page chrome (its own class or id, its parent's or grandparent's) does not
    count, unless that chrome-named element holds at least half of the page's prose: then the
    name is a layout word ("url-breadcrumb" on the article itself), and it is the article."""
    body = root.find("body")
    found: list[tuple[etree._Element | None, list[etree._Element], int, float]] = []
    teasers: list[tuple[etree._Element | None, list[etree._Element], int, float]] = []
    for el in _walk(body if body is not None else root):
        if el.tag not in PARAGRAPH_TAGS:
            continue
        chars, links, commas = _own_text(el)
        if chars < MIN_PARAGRAPH_CHARS or links > chars / 2:
            continue
        has_blocks = any(isinstance(c.tag, str) and c.tag in BLOCK_TAGS for c in el)
        # A paragraph scores its container first; text loose in a container among blocks of
        # its own (an old CMS's "text<br>text<table>photo</table>") scores the container itself.
        anchor = el if has_blocks and el.tag != "p" else _anchor_of(el)
        paragraph = (anchor, _close_chrome(el), chars, _paragraph_score(chars, commas))
        if anchor is not el and _teaser_summary(el, anchor):
            teasers.append(paragraph)
        else:
            found.append(paragraph)
    if sum(chars for _, _, chars, _ in found) < TEASERS_ALONE_CHARS:
        # Nothing but the list has prose: the list is the page's text (a listicle's items).
        found += teasers
    prose_in: dict[etree._Element, int] = {}
    total = 0
    paragraphs = []
    for anchor, chrome, chars, score in found:
        for named in chrome:
            prose_in[named] = prose_in.get(named, 0) + chars
        total += chars
        paragraphs.append((anchor, chrome, score))
    scores: dict[etree._Element, float] = {}
    for anchor, chrome, score in paragraphs:
        if any(prose_in[named] < BULK_SHARE * total for named in chrome):
            continue
        for level in range(SCORE_LEVELS):
            if anchor is None or not isinstance(anchor.tag, str) or anchor.tag == "html":
                break
            if anchor not in scores:
                scores[anchor] = _initial_score(anchor)
            scores[anchor] += score / (1 if level == 0 else 2 if level == 1 else level * 3)
            anchor = anchor.getparent()
    return scores


def _settle(top: list[etree._Element], final: dict[etree._Element, float],
            scores: dict[etree._Element, float]) -> etree._Element:
    """Return the container to take, starting from the best candidate (readability's rules):
    the nearest ancestor holding several near-best candidates (an article split into cards),
    else an ancestor scoring higher on the way up, then up through single-child wrappers."""
    best = top[0]
    near = [el for el in top[1:] if final[el] >= NEAR_BEST * final[best]]
    if len(near) >= MIN_NEAR_BEST:
        for ancestor in best.iterancestors():
            if ancestor.tag in ("body", "html"):
                break
            if sum(1 for el in near if ancestor in el.iterancestors()) >= MIN_NEAR_BEST:
                best = ancestor
                break
    last, threshold = scores.get(best, 0.0), scores.get(best, 0.0) / 3
    for ancestor in best.iterancestors():
        if ancestor.tag in ("body", "html"):
            break
        if ancestor not in scores:
            continue
        if scores[ancestor] < threshold:
            break
        if scores[ancestor] > last:
            best = ancestor
            break
        last = scores[ancestor]
    parent = best.getparent()
    while parent is not None and parent.tag not in ("body", "html") and len(parent) == 1:
        best, parent = parent, parent.getparent()
    return best


def _main_element(root: etree._Element, scores: dict[etree._Element, float]
                  ) -> etree._Element | None:
    """Return the page's one ``<main>`` (or ``role="main"``) element when prose scored inside
    it, else None (none, or several)."""
    found = [el for el in root.iter("main")]
    found += [el for el in root.iter() if isinstance(el.tag, str) and el.tag != "main"
              and el.get("role") == "main"]
    if len(found) != 1 or found[0].tag in ("body", "html"):
        return None
    main = found[0]
    return main if scores.get(main, 0.0) > MAIN_MIN_SCORE else None


def _widen_over_prose(best: etree._Element) -> etree._Element:
    """Return the nearest ancestor that is all prose around the best container (an old
    table layout's text split over several cells and rows): CLIMB_MIN_RATIO to CLIMB_RATIO
    times its text, almost no links, not chrome; else the best container itself."""
    size = text_size(best)
    parent = best
    for _ in range(CLIMB_LEVELS):
        parent = parent.getparent()
        if parent is None or parent.tag in ("body", "html") or is_chrome(parent):
            break
        parent_size = text_size(parent)
        if parent_size > CLIMB_RATIO * size or _link_density(parent) > CLIMB_LINKS:
            break
        if parent_size >= CLIMB_MIN_RATIO * size:
            # Only as much prose again as the best holds makes the parent the article; a
            # byline, a credit line or an author's bio beside the article does not.
            return parent
    return best


def main_content(root: etree._Element) -> list[etree._Element]:
    """Return the article's containers, in page order: the best-scoring one and the siblings
    that score nearly as well (an article split by an advertisement); empty when none."""
    scores = score_containers(root)
    if not scores:
        return []
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)[:2 * TOP_CANDIDATES]
    final = {el: scores[el] * (1 - _link_density(el)) for el in ranked}
    main = _main_element(root, scores)
    if main is not None:
        # A page that marks its main content (<main>, role="main") keeps its chrome outside
        # it: a newsletter form or a teaser beside it is not the article.
        for el in final:
            if el is not main and main not in el.iterancestors() and \
                    el not in main.iterancestors():
                final[el] *= OUTSIDE_MAIN
    top = sorted(final, key=final.__getitem__, reverse=True)[:TOP_CANDIDATES]
    best = _settle(top, final, scores)
    best = _widen_over_prose(best)
    if best not in final:
        final[best] = scores.get(best, 0.0) * (1 - _link_density(best))
    parent = best.getparent()
    if parent is None:
        return [best]
    threshold = max(10.0, final[best] * SIBLING_SHARE)
    best_class = best.get("class")
    chosen = []
    for sibling in parent:
        if sibling is best:
            chosen.append(sibling)
            continue
        if not isinstance(sibling.tag, str) or sibling.tag in SKIP_TAGS or is_hidden(sibling) \
                or is_chrome(sibling):
            continue
        if _is_headline_block(sibling):
            continue
        bonus = final[best] * SIBLING_SHARE if best_class and sibling.get("class") == \
            best_class else 0
        if sibling in scores and scores[sibling] * (1 - _link_density(sibling)) + bonus >= \
                threshold:
            chosen.append(sibling)
        elif sibling.tag == "p":
            text = element_text(sibling)
            density = _link_density(sibling)
            if (len(text) > 80 and density < 0.25) or (
                    0 < len(text) <= 80 and density == 0 and re.search(r"\.( |$)", text)):
                chosen.append(sibling)
    return chosen


def _is_headline_block(el: etree._Element) -> bool:
    """True for a block holding the headline (an h1) and no prose: the article's header (the
    date line, the author, a subtitle beside the headline), not a part of the body."""
    h1 = next(el.iter("h1"), None)
    if h1 is None or text_size(el) - text_size(h1) >= HEADER_CHARS:
        return False
    return not any(len(line) >= PROSE_CHARS and SENTENCE_END.search(line)
                   for line in element_text(el).split("\n"))


def is_junk(el: etree._Element) -> bool:
    """True for a block inside the article's container that is not article text: a list of
    links, a block mostly of links, a form's worth of inputs, a short label (a subset of
    readability's conditional cleaning: the rules that helped on the real pages, bench/).

    Only blocks that hold blocks of their own are judged: a <div> of plain text is a paragraph,
    and a short one may be a byline. Chrome names are judged elsewhere (with the bulk rule)."""
    tag = el.tag
    if tag == "p":
        # A paragraph that is nothing but a link is a pointer elsewhere ("Read more ..."); one
        # of nothing but a photo outside a link is the photo (<p><img></p>: no link either).
        if _link_density(el) < LINK_PARAGRAPH_DENSITY:
            return False
        return bool(text_size(el)) or all(
            next(img.iterancestors("a"), None) is not None for img in el.iter("img"))
    if tag not in JUDGED_BLOCKS:
        return False
    if tag in ("div", "section") and not any(
            isinstance(c.tag, str) and c.tag in BLOCK_TAGS for c in el):
        # A <div> of plain text is a paragraph: judged as one (an advertisement's link).
        return next(el.iter("img"), None) is None and \
            _link_density(el) >= LINK_PARAGRAPH_DENSITY
    text = element_text(el)
    if text.count(",") >= 10:
        return False
    is_list = tag in ("ul", "ol")
    # A short label; but not the container's last block, where the byline stands.
    if not is_list and len(text) < MIN_PARAGRAPH_CHARS and el.getnext() is not None \
            and not any(True for _ in el.iter("img")):
        return True
    paragraphs = sum(1 for _ in el.iter("p"))
    if sum(1 for _ in el.iter("input", "select", "textarea", "button")) > paragraphs // 3:
        return True
    density = _link_density(el)
    return density > 0.5 and (is_list or _initial_score(el) - TAG_WEIGHT.get(tag, 0) >= 0)


def heuristic_title_element(root: etree._Element) -> etree._Element | None:
    """Return the first h1 (else h2) outside page chrome with a title's length, or None."""
    for selector in ("h1", "h2"):
        for el in css(selector)(root):
            if not _close_chrome(el) and not in_page_chrome(el):
                if len(element_text(el)) > 10:
                    return el
    return None


# Class or id words of an element that holds a headline (``<div class="post-title">``).
_HEADLINE_NAME = re.compile(r"(?<![a-z])(?:title|headline|heading)")
# A headline is one line of at most this many characters.
MAX_TITLE_CHARS = 200


def fallback_title(root: etree._Element) -> str | None:
    """Return a headline for a page with neither ``<title>`` nor h1/h2: the first h3-h4, else
    the first element named as a title (class or id), outside page chrome; or None."""
    for el in css("h3, h4")(root):
        text = element_text(el)
        if 10 < len(text) <= MAX_TITLE_CHARS and "\n" not in text and not _close_chrome(el):
            return text
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag in SKIP_TAGS or el.tag in ("html", "body",
                                                                             "title"):
            continue
        names = f"{el.get('class', '')} {el.get('id', '')}".lower()
        if not _HEADLINE_NAME.search(names) or _close_chrome(el):
            continue
        text = element_text(el)
        if 10 < len(text) <= MAX_TITLE_CHARS and "\n" not in text:
            return text
    return None
