"""Layered extraction: an article page's HTML in, an ArticleItem out, with each field's layer.

Three layers are tried field by field, in order:
1. ``site``: the site's templates (crawler/extract/profile.py); the first that applies to the
   page gives the fields it has selectors for;
2. ``metadata``: JSON-LD, OpenGraph and ``article:*`` meta tags (crawler/extract/metadata.py);
3. ``heuristic``: markup-agnostic rules (the best-scoring container of prose:
   crawler/extract/heuristic.py; the headline the page title repeats, the title without the
   publisher's and section's names: titles.py; the article's own date line: datelines.py).
This module assembles the record from them, field by field.
The live site's markup has never been seen here, so the lower layers must carry a page on their
own; ``provenance`` in the record says which layer gave each field. Extraction keeps text as
printed (dates included); cleaning and normalising are the pipelines' job.
"""

from __future__ import annotations

import re

from lxml import etree

from crawler.extract import ensemble
from crawler.extract.confidence import assess
from crawler.extract.credits import (
    leading_credits,
    marked_lines,
    named_byline,
    trailing_credits,
    words_of,
)
from crawler.extract.datelines import DATE_LINE_CHARS, article_date_line, date_at_end
from crawler.extract.heuristic import (
    SITE_TITLE_SUFFIX,
    fallback_title,
    heuristic_title_element,
    is_junk,
    main_content,
)
from crawler.extract.html import (
    NEVER_TEXT,
    body_blocks,
    caption_texts,
    element_text,
    link_texts,
    parse_html,
    visible_text,
)
from crawler.extract.metadata import Metadata, read_metadata
from crawler.extract.profile import MIN_BODY_CHARS, match_template
from crawler.extract.related import without_related
from crawler.extract.sapo import find_sapo
from crawler.extract.sections import section_links, section_name
from crawler.extract.selectors import forget_index, index_page
from crawler.extract.titles import (
    clean_title,
    find_headline,
    headline_text,
    host_name,
    in_title_case,
    names_publisher,
    section_names,
    segments,
)
from crawler.extract.truncation import looks_truncated
from crawler.extract.typography import prints_caption
from crawler.extract.voters import PROSE_CHARS, SENTENCE_END, VOTERS, ask, elect, lone_body
from crawler.items import ArticleItem
from crawler.normalise.bylines import (
    parse_byline,
    parse_top_author,
    split_byline,
)
from crawler.normalise.dates import find_date_text
from crawler.normalise.keys import longest_similar, similar
from crawler.normalise.sections import section_key
from crawler.site.urls import canonical_site_url, host_of, parse_article_url

__all__ = ["ExtractionError", "extract_article", "looks_truncated"]

SITE, METADATA, HEURISTIC, URL = "site", "metadata", "heuristic", "url"
# A description cut off by the CMS ("... the fourth film in the series, starring…").
_TRUNCATION = re.compile(r"(\.\.\.|…)\s*$")


VOTER_NAMES = frozenset(VOTERS)


class ExtractionError(ValueError):
    """The page is not an article, or not enough of one to make a record."""


def _pick(provenance: dict[str, str], field: str, *layers: tuple[str, object]) -> object:
    # A layer's value may be a function, called only when no earlier layer gave one.
    for layer, value in layers:
        if callable(value):
            value = value()
        if value:
            provenance[field] = layer
            return value
    return None


def extract_article(
    html: str, url: str, *, fetched_at: str, site_url: str | None = None,
    hosts: frozenset[str] | None = None,
) -> ArticleItem:
    """Return the article on a page as printed; raise ExtractionError saying why there is none.

    URLs in the record are canonical: the article's on ``site_url``, and image URLs on any of
    the site's ``hosts`` (default: the page's and ``site_url``'s) moved to ``site_url``'s host,
    so a record does not depend on which host alias served the page."""
    if not html or not html.strip():
        raise ExtractionError("empty page")
    try:
        root = parse_html(html)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"unparseable HTML: {exc}") from exc
    meta = read_metadata(root, html)
    # Scripts and styles are never text; without them the layers can count text with lxml's
    # own iteration.
    etree.strip_elements(root, *NEVER_TEXT, with_tail=False)
    # The tree changes no more: the site layer's selectors are answered from one index of it.
    index_page(root)
    ref = parse_article_url(url) or (meta.canonical and parse_article_url(meta.canonical))
    if not ref:
        raise ExtractionError(f"not an article URL: {url}")
    provenance: dict[str, str] = {"id": URL, "url": URL, "section": URL}
    match = match_template(root)

    def site(field: str) -> str | None:
        return match.text(root, field) if match else None

    title_el = match.element(root, "title") if match else None
    page_title = page_title_text(root)
    if title_el is not None:
        heading = title_el
    else:
        # The headline as the page prints it: the element repeating the metadata's or the
        # page's title (without what surrounds the headline there), else the first heading.
        # (lxml elements without children are false: compared with None, never with "or")
        heading = find_headline(root, (meta.title, page_title), _publishers(meta, url))
        if heading is None:
            heading = heuristic_title_element(root)
    title = _pick(
        provenance, "title",
        (SITE, element_text(title_el) if title_el is not None else None),
        (METADATA, lambda: meta.title and _clean_title(root, meta.title, heading, meta, url)),
        (HEURISTIC, lambda: heading is not None and in_title_case(
            headline_text(heading, (meta.title, page_title)), (meta.title, page_title)) or (
            page_title and _clean_title(root, page_title, None, meta, url))),
    )
    # Every date the page offers, in the order tried: the date pipeline passes over one it
    # cannot read (a placeholder in metadata, a form it does not know) to the next. The page is
    # not searched for its date line where the template's date element holds a date.
    site_date = site("date")
    heuristic_date = None if site_date and len(site_date) <= DATE_LINE_CHARS and \
        find_date_text(site_date) else article_date_line(root, heading)
    date_candidates = [(layer, text) for layer, text in (
        (SITE, site_date), *((METADATA, text) for text in meta.dates),
        (HEURISTIC, heuristic_date)) if text]
    date_raw = _pick(provenance, "published_raw", *date_candidates)

    if match:
        containers, body_layer, junk = [match.body], SITE, None
    else:
        containers, body_layer, junk = main_content(root), HEURISTIC, is_junk
    caption = prints_caption if junk is not None else None  # the generic layers' reading
    paragraphs, images = body_blocks(containers, url, junk, caption) if containers else ([], [])
    widened = False
    voters_agreed: list[str] = []
    confirming: list[str] | None = None  # None: every voter in voters_agreed confirms the body
    bodies: dict[str, str] = {}
    alone = False
    if sum(map(len, paragraphs)) < MIN_BODY_CHARS and meta.body:
        paragraphs, images, body_layer = [p for p in meta.body.split("\n") if p.strip()], [], \
            METADATA
    elif body_layer == HEURISTIC and _ask_voters(paragraphs, meta):
        rules = ensemble.RULES
        bodies = ask(html, url)
        winner = HEURISTIC
        if rules.method == "elect" or (rules.elect_below is not None
                                       and sum(map(len, paragraphs)) < rules.elect_below):
            winner, lines, voters_agreed = elect(paragraphs, bodies)
            if winner != HEURISTIC:
                paragraphs, images, body_layer = lines, [], winner
        if rules.method != "elect" and winner == HEURISTIC:
            # Ours and the voters vote paragraph by paragraph (crawler/extract/ensemble.py).
            captions = [*caption_texts(root), *(i["caption"] for i in images if i.get("caption"))]
            voted = ensemble.vote(
                paragraphs, bodies, captions=captions,
                links=link_texts(root) if rules.veto_links is not None else (),
                chrome=ensemble.chrome_texts(root) if rules.veto_chrome else (),
                confidence=_confidence(paragraphs, meta) if rules.confident_above is not None
                else 1.0)
            voters_agreed, confirming = voted.agreed(), voted.confirming()
            if voted.lines and not voted.held[HEURISTIC]:
                # None of ours' lines is left: the body is the voters'.
                body_layer = max(sorted(voted.held), key=voted.held.__getitem__)
                images = []
                voters_agreed = [v for v in voters_agreed if v != body_layer]
            paragraphs = voted.lines
    if sum(map(len, paragraphs)) < MIN_BODY_CHARS and body_layer == HEURISTIC and containers:
        # The best container holds too little (a forum post's one message, a product's blurb):
        # the article is the nearest ancestor that holds enough, read with the same rules.
        for ancestor in containers[0].iterancestors():
            if ancestor.tag == "html":
                break
            wider, wider_images = body_blocks([ancestor], url, junk, caption)
            if sum(map(len, wider)) >= MIN_BODY_CHARS:
                paragraphs, images, widened = wider, wider_images, True
                break
    if sum(map(len, paragraphs)) < MIN_BODY_CHARS and body_layer == HEURISTIC and bodies and \
            (found := lone_body(bodies)):
        # Last resort before "no article body": a voter alone that reads prose (uncertain).
        (body_layer, paragraphs), images, voters_agreed, confirming, alone = found, [], [], [], True
    paragraphs = without_related(paragraphs, root)
    if not heuristic_date and body_layer == HEURISTIC:  # a date line at the article's end
        paragraphs, end_date = date_at_end(paragraphs, containers)
        if end_date:
            date_candidates.append((HEURISTIC, end_date))
            date_raw = date_raw or _pick(provenance, "published_raw", (HEURISTIC, end_date))
    if title:
        paragraphs = _without_title(paragraphs, title)
    credit_lines: list[str] = []
    if body_layer not in (SITE, METADATA):
        # Credits the markup sets apart at either end of the body (bold, right-aligned, named
        # "author") are the byline: Vietnamese papers sign the last paragraph so.
        marked = marked_lines(containers)
        paragraphs, credit_lines = leading_credits(paragraphs, meta.authors, marked)
        paragraphs, trailing = trailing_credits(paragraphs, marked)
        credit_lines += trailing
    if sum(map(len, paragraphs)) < MIN_BODY_CHARS:
        raise ExtractionError("no article body found (not an article page?)")
    headline = bool(title)
    if not title:
        # A page without <title>, h1 or h2 (an old page, a saved fragment) still has a
        # headline: an h3/h4 or an element named as a title, else the body's first line when it
        # reads as one (short, no sentence end); else the start of the first sentence.
        title = fallback_title(root)
        headline = bool(title)
        if title:
            paragraphs = _without_title(paragraphs, title) or paragraphs
        elif len(paragraphs[0]) <= PROSE_CHARS and not SENTENCE_END.search(paragraphs[0]) \
                and len(paragraphs) > 1:
            title = paragraphs.pop(0)
        else:
            title = _headline_of(paragraphs[0])
        provenance["title"] = HEURISTIC

    provenance["body"] = body_layer
    if match and match.template.lead_is_first_paragraph:
        lead, provenance["lead"] = paragraphs[0], SITE
    else:
        # The sapo in an element of its own between the headline and the body: on any layer
        # whose body is the page's (not the template's own sapo, which site("lead") gives).
        site_lead = site("lead")
        sapo = find_sapo(containers, heading, title) if containers and body_layer != METADATA \
            and not site_lead else None
        lead = _lead(root, site_lead, meta, title, paragraphs, provenance, sapo=sapo,
                     body_layer=body_layer)
    if not similar(paragraphs[0], lead):
        paragraphs.insert(0, lead)
    if images:
        provenance["images"] = body_layer

    byline = site("byline")
    if byline:
        provenance["byline"] = SITE
    elif credit_lines:
        byline, provenance["byline"] = "\n".join(credit_lines), HEURISTIC
    elif not parse_byline(end := split_byline("\n\n".join(paragraphs))[1] or "").authors and \
            (named := named_byline(root, heading, containers)):
        # No author in the body's end (the byline pipeline's split_byline finds none there
        # either; a source's "Theo ..." may end it): an element near the headline the page
        # names as the author's, with that source line (also on a template's page whose byline
        # selectors find none: the field falls to this layer).
        byline, provenance["byline"] = "\n".join(filter(None, (named, end))), HEURISTIC
    authors: list[str] = []
    top = site("top_author")
    parsed_top = parse_top_author(top) if top else None
    if parsed_top:
        authors = [parsed_top[0]]
        provenance["authors"] = SITE
    elif meta.authors:
        # Metadata "authors" are sometimes an agency ("TTXVN") or the paper itself ("Tuổi Trẻ
        # Online", <meta name="author"> of many sites): keep only what reads as a person's name.
        publishers = _publishers(meta, url)
        authors = [name for a in meta.authors for name in parse_byline(a).authors
                   if not names_publisher(name, publishers)]
        if authors:
            provenance["authors"] = METADATA

    kicker = site("kicker")
    if kicker:
        provenance["kicker"] = SITE
    extraction = assess(body_layer, paragraphs, meta_body=meta.body, description=meta.lead,
                        headline=headline, widened=widened, voters=voters_agreed,
                        confirming=confirming, alone=alone)
    base = site_url or _origin(url)
    aliases = hosts or frozenset({host_of(url), host_of(base)})
    for image in images:
        if image.get("url"):
            image["url"] = canonical_site_url(image["url"], base, aliases)
    # The section as the page names it, and its key in both CMS generations.
    links = section_links(root, url, aliases)
    name, name_layer = section_name(root, url, ref, match=match, meta_section=meta.section,
                                    ld_breadcrumb=meta.breadcrumb, links=links)
    key, key_layer = section_key(ref.section, ref.cms, name)
    provenance.update((f, layer) for f, layer in (("section_name", name_layer),
                                                  ("section_key", key_layer)) if layer)
    forget_index()  # the tree is freed as this returns
    return ArticleItem(
        url=ref.canonical_url(base),
        fetched_at=fetched_at,
        id=ref.id,
        cms=ref.cms,
        kicker=kicker,
        title=title,
        lead=lead,
        body="\n\n".join(paragraphs),
        authors=authors,
        byline=byline,
        images=images,
        section=ref.section,
        section_name=name,
        section_key=key,
        published_raw=date_raw,
        provenance=provenance,
        extraction=extraction,
        date_candidates=date_candidates,
        site_template=match.template.name if match else None,
        section_links=links,
    )


def _ask_voters(paragraphs: list[str], meta: Metadata) -> bool:
    """True when the voters are asked about a page no template matched (ensemble.RULES.when)."""
    rules = ensemble.RULES
    if rules.when == "always":
        return True
    if rules.when == "short":
        return sum(map(len, paragraphs)) < rules.short_chars
    return _confidence(paragraphs, meta) < rules.uncertain_below


def _confidence(paragraphs: list[str], meta: Metadata) -> float:
    """Return the heuristic body's confidence before any voter is asked."""
    return assess(HEURISTIC, paragraphs, meta_body=meta.body, description=meta.lead
                  )["confidence"]


def page_title_text(root: etree._Element) -> str | None:
    """Return the text of the page's ``<title>``, or None."""
    # lxml's own iteration, stopping at the first: what css("title") finds first, for less.
    found = next(root.iter("title"), None)
    text = found.text if found is not None else None
    return text.strip() or None if text else None


def _clean_title(root: etree._Element, title: str, heading: etree._Element | None,
                 meta: Metadata, url: str) -> str | None:
    """Return a page or metadata title without the names printed around its headline (the
    site's own name first, then crawler/extract/titles.py's rules), or None when nothing is
    left."""
    title = SITE_TITLE_SUFFIX.sub("", title).strip()
    if len(segments(title)) < 2:
        return title or None
    def sections(texts: set[str]) -> set[str]:
        # The page's section names among a title's edge segments: its metadata's, its links'.
        found = section_names(root, texts)
        if meta.section:
            found.add(meta.section)
        return found

    return clean_title(title, heading=element_text(heading) if heading is not None else None,
                       publishers=_publishers(meta, url), sections=sections) or None


def _publishers(meta: Metadata, url: str) -> list[str]:
    """Return the names the page's publisher goes by: its metadata's, and its hosts' names."""
    return [*meta.publishers, *filter(None, (host_name(meta.canonical), host_name(url)))]


def _headline_of(paragraph: str) -> str:
    """Return the first sentence of a paragraph, cut at a word within a headline's length."""
    first = re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0]
    if len(first) <= PROSE_CHARS * 2:
        return first
    return first[:PROSE_CHARS * 2].rsplit(" ", 1)[0] + "…"


def _without_title(paragraphs: list[str], title: str) -> list[str]:
    """Drop the title where the body repeats it (a heading inside the content container, often
    after a kicker or a credit line). Paragraphs too long to be it are not compared."""
    longest = longest_similar(title)
    return [p for p in paragraphs if len(p) > longest or not similar(p, title)]


def _lead(root: etree._Element, site_lead: str | None, meta: Metadata, title: str,
          paragraphs: list[str], provenance: dict[str, str], *, sapo: str | None = None,
          body_layer: str = HEURISTIC) -> str:
    """Return the lead (sapo): the site's; else the metadata description when the body starts
    with it; else the sapo printed in its own element before the body (``sapo``: the metadata
    description when it is the same text, uncut); else the description when the page shows it
    above the body, or when a script-rendered page's JSON-LD article gives it beside an
    articleBody that lacks it; else the body's first paragraph.

    A description the reader never sees (a site-wide blurb, the site's name), or one the body
    holds further down, is no sapo; a cut-off one is never put in front of the body."""
    if site_lead:
        provenance["lead"] = SITE
        return _settle_lead(site_lead, paragraphs, provenance)
    description = meta.lead
    if description and (similar(description, title) or (
            meta.site_name and similar(description, meta.site_name))):
        description = None
    cut = bool(description and _TRUNCATION.search(description))
    if description and similar(paragraphs[0], description):
        # The body opens with it: as printed there when the description is a cut-down copy.
        provenance["lead"] = provenance["body"] if cut else METADATA
        return paragraphs[0] if cut else description
    if sapo:
        if description and not cut and similar(description, sapo):
            provenance["lead"] = METADATA
            return description
        provenance["lead"] = HEURISTIC
        return _settle_lead(sapo, paragraphs, provenance)
    if description and not cut and SENTENCE_END.search(description):
        stem = words_of(description)
        shown = body_layer == METADATA and meta.lead_from_article or \
            stem in words_of(visible_text(root))
        if stem and not _copies_body(stem, words_of(" ".join(paragraphs))) and shown:
            provenance["lead"] = METADATA
            return description
    # The body's first paragraph: a voter's when a voter gave the body (provenance names it).
    body = provenance.get("body")
    provenance["lead"] = body if body in VOTER_NAMES else HEURISTIC
    return paragraphs[0]


# A description the body holds this share of (its word 4-grams) is the body's own opening, with
# a dateline or a cut-off end of its own: no sapo to print in front of the body again.
_COPY_SHARE = 0.5


def _copies_body(stem: str, body: str) -> bool:
    """True when the body (``words_of``) holds a description's words: in order, or most of
    their 4-grams."""
    if stem in body:
        return True
    words, body_words = stem.split(), body.split()
    grams = {tuple(words[i:i + 4]) for i in range(len(words) - 3)}
    if not grams:
        return False
    held = grams & {tuple(body_words[i:i + 4]) for i in range(len(body_words) - 3)}
    return len(held) >= _COPY_SHARE * len(grams)


def _settle_lead(lead: str, paragraphs: list[str], provenance: dict[str, str]) -> str:
    """Prefer the body's first paragraph when the lead found elsewhere is a cut-down copy of it."""
    first = paragraphs[0]
    stem = _TRUNCATION.sub("", lead).strip()
    if lead != first and stem and first.startswith(stem) and len(first) > len(stem):
        provenance["lead"] = provenance["body"]
        return first
    return lead


def _origin(url: str) -> str:
    match = re.match(r"^[a-z]+://[^/]+", url, re.IGNORECASE)
    return match.group(0) if match else ""
