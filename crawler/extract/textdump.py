"""Old plain-text dumps of article pages (one input of the backfill) turned into ArticleItems.

A dump is what an earlier tool saved of a page's text: optional kicker, title, the date line,
the lead, the body with each photo caption twice (alt text, then the visible caption, as two
lines of one block), the end mark and byline, then the masthead. Blocks are separated by blank
lines. Like HTML extraction, this keeps text as printed and leaves cleaning to the pipelines.
"""

from __future__ import annotations

import hashlib

from crawler.extract.article import ExtractionError
from crawler.extract.confidence import assess
from crawler.items import ArticleItem
from crawler.normalise.bylines import parse_top_author
from crawler.normalise.dates import looks_like_date_line
from crawler.normalise.keys import similar
from crawler.normalise.sections import section_key
from crawler.site.urls import parse_article_url

TEXT_DUMP = "text-dump"
MAX_CAPTION_CHARS = 400
# The date line is at most this many blocks from the top (kicker, title, date).
DATE_SEARCH_BLOCKS = 4


def _blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _caption_block(lines: list[str], known: list[str]) -> bool:
    """True for a block of a photo's alt text and caption: copies of each other, or a reused alt."""
    if len(lines) < 2 or any(len(line) > MAX_CAPTION_CHARS for line in lines):
        return False
    first = lines[0]
    return all(similar(first, other) for other in lines[1:]) or any(
        similar(first, seen) for seen in known
    )


def parse_text_dump(text: str, *, url: str | None, fetched_at: str) -> ArticleItem:
    """Return the article in a plain-text dump; raise ExtractionError saying why there is none."""
    blocks = _blocks(text)
    date_at = next(
        (i for i, block in enumerate(blocks[:DATE_SEARCH_BLOCKS])
         if len(block) == 1 and looks_like_date_line(block[0])),
        None,
    )
    if date_at is None or date_at == 0:
        raise ExtractionError("not an article dump: no title followed by a date line at the top")
    head = [line for block in blocks[:date_at] for line in block]
    title, kicker = head[-1], (" ".join(head[:-1]) or None)
    provenance = {"title": TEXT_DUMP, "published_raw": TEXT_DUMP, "body": TEXT_DUMP,
                  "lead": TEXT_DUMP}
    rest = blocks[date_at + 1:]

    authors: list[str] = []
    if rest:
        top = parse_top_author("\n".join(rest[0])) if len(" ".join(rest[0])) < 200 else None
        if top and not rest[0][-1].endswith("."):
            authors = [top[0]]
            provenance["authors"] = TEXT_DUMP
            rest = rest[1:]
    if not rest:
        raise ExtractionError("not an article dump: nothing after the date line")

    paragraphs: list[str] = []
    images: list[dict[str, str | None]] = []
    known_captions: list[str] = []
    for block in rest:
        if paragraphs and _caption_block(block, known_captions):
            images.append({"url": None, "alt": block[0], "caption": block[-1]})
            known_captions.extend(block)
        else:
            paragraphs.extend(block)
    if images:
        provenance["images"] = TEXT_DUMP
    if kicker:
        provenance["kicker"] = TEXT_DUMP

    ref = parse_article_url(url) if url else None
    if url and not ref:
        raise ExtractionError(f"not an article URL: {url}")
    if ref:
        article_id, canonical, cms, section = ref.id, ref.canonical_url(_origin(url)), ref.cms, \
            ref.section
        provenance.update(id="url", url="url", section="url")
    else:
        # No URL: an id derived from the content keeps re-imports of the same dump idempotent.
        digest = hashlib.sha256(f"{title}\n{blocks[date_at][0]}".encode()).hexdigest()[:16]
        article_id, canonical, cms, section = f"text:{digest}", None, None, None
        provenance["id"] = "derived"
    # A dump prints no section name: the key is the URL's (a channel id until the crawl learns
    # its slug, pipelines/sections.py).
    key, key_layer = section_key(section, cms, None)
    if key_layer:
        provenance["section_key"] = key_layer
    return ArticleItem(
        url=canonical,
        fetched_at=fetched_at,
        id=article_id,
        cms=cms,
        kicker=kicker,
        title=title,
        lead=paragraphs[0],
        body="\n\n".join(paragraphs),
        authors=authors,
        images=images,
        section=section,
        section_key=key,
        published_raw=blocks[date_at][0],
        provenance=provenance,
        extraction=assess(TEXT_DUMP, paragraphs),
    )


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
