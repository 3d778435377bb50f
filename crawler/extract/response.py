"""From a fetched response to an item: the one path of the spider, the CLI and re-extraction.

Two halves: ``read_page`` (status, content type, decoding, truncation: cheap, and what the
spider needs to decide on a retry) gives a ``PageItem``; ``item_from_page`` extracts it (costly,
needs nothing but the page, so a crawl runs it in worker processes). ``item_from_response`` is
both.
"""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import unicodedata

from scrapy.http import HtmlResponse, Response, TextResponse

from crawler.extract.article import ExtractionError, extract_article, looks_truncated
from crawler.extract.crash import crash_reason, log_crash
from crawler.items import ArticleItem, PageItem, RejectItem
from crawler.normalise.dates import VN_TZ
from crawler.normalise.legacy import judge, repair, utf8_looks_font_encoded
from crawler.site.urls import parse_article_url

logger = logging.getLogger(__name__)

# Statuses after which the same URL may well work on a later run.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})
# Content types that are pages; anything else at an article URL (a PDF, an image) is not one.
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Declared encodings that a Vietnamese page cannot truly be in when its bytes are not UTF-8:
# such a page is Windows-1258 (the Vietnamese code page) mislabelled.
VIETNAMESE_FALLBACK_FOR = frozenset({"utf-8", "cp1252", "iso8859-1", "ascii"})
# Undecodable characters tolerated in an article's text before it is rejected as "encoding".
MAX_REPLACEMENT_CHARS = 2


def _utf8_else_cp1258(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: decode the bytes that are not UTF-8 as Windows-1258."""
    assert isinstance(exc, UnicodeDecodeError)
    chunk = exc.object[exc.start : exc.end]
    return chunk.decode("cp1258", errors="replace"), exc.end


codecs.register_error("baonamdinh-utf8-else-cp1258", _utf8_else_cp1258)


def decode_page(response: TextResponse) -> tuple[str, str | None]:
    """Return a page's text and, when its declared encoding was wrong, a note of what was used."""
    text, note, _legacy = read_text(response)
    return text, note


def read_text(response: TextResponse) -> tuple[str, str | None, str | None]:
    """Return a page's text, a note of what was used when its declared encoding was wrong, and
    the legacy font encoding its text was converted from (or "unknown", left as it was).

    Valid UTF-8 with non-ASCII bytes is UTF-8 whatever the page declares (chance byte sequences
    of a legacy code page are almost never valid UTF-8). Bytes that are not UTF-8 under a UTF-8
    or Western declaration are Windows-1258, run by run, so a page mixing both is read whole,
    unless they read as Vietnamese in a legacy font encoding, TCVN3 or VNI, and not as
    Windows-1258 (crawler/normalise/legacy.py); so is UTF-8 text made of the Windows-1252
    characters such a font shows. The result is NFC: Windows-1258 writes tone marks as combining
    characters. This runs before anything drops a character (TCVN3's "ư" is a soft hyphen)."""
    body = response.body
    declared = codecs.lookup(response.encoding).name
    if body.isascii():
        return response.text, None, None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        if declared not in VIETNAMESE_FALLBACK_FOR:
            return response.text, None, None
        text = body.decode("utf-8", errors="baonamdinh-utf8-else-cp1258")
        text = unicodedata.normalize("NFC", text)
        verdict = judge(text, body)
        if verdict.encoding and verdict.text is not None:
            return verdict.text, f"declared {declared}, read as {verdict.encoding.upper()}", \
                verdict.encoding
        return text, f"declared {declared}, read as Windows-1258", \
            "unknown" if verdict.suspect else None
    legacy = None
    if utf8_looks_font_encoded(body):  # looks_font_encoded(text), from the bytes
        text, verdict = repair(text)
        legacy = verdict.encoding or ("unknown" if verdict.suspect else None)
    if declared == "utf-8":
        # What response.text is for valid UTF-8 declared as such (w3lib drops a BOM), without
        # decoding the page a second time.
        return (text.removeprefix("\ufeff") if body.startswith(codecs.BOM_UTF8) else text,
                None, legacy)
    return text.removeprefix("\ufeff"), f"declared {declared}, read as UTF-8", legacy


def _replacement_chars(item: ArticleItem) -> tuple[int, bool]:
    """(count of U+FFFD in an article's text, whether the title holds one)."""
    captions = " ".join(str(image.get("caption") or "") for image in item.images)
    texts = (item.title, item.kicker, item.lead, item.body, captions)
    return sum((t or "").count("\ufffd") for t in texts), "\ufffd" in (item.title or "")


def now_iso() -> str:
    """Return the current time in Vietnam, to the second, as ISO 8601 with +07:00."""
    return dt.datetime.now(VN_TZ).replace(microsecond=0).isoformat()


def item_from_response(
    response: Response,
    *,
    fetched_at: str,
    site_url: str | None = None,
    listing_raw: str | None = None,
    capture: dict | None = None,
    hosts: frozenset[str] | None = None,
    origin: dict | None = None,
) -> ArticleItem | RejectItem:
    """Return the article of an article page's response, or a reject saying why there is none.

    ``hosts`` are the site's host aliases: image URLs on any of them are made canonical.
    ``origin`` says where a page from a web archive came from (None: the live site).

    ``read_page`` then ``item_from_page``. Never raises: an exception while reading the page (a
    bug the page revealed) becomes a reject ``crash in extract: <type>: <message>``, logged with
    its traceback."""
    page = read_page(response, fetched_at=fetched_at, site_url=site_url, listing_raw=listing_raw,
                     capture=capture, hosts=hosts, origin=origin)
    return page if isinstance(page, RejectItem) else item_from_page(page)


def read_page(
    response: Response,
    *,
    fetched_at: str,
    site_url: str | None = None,
    listing_raw: str | None = None,
    capture: dict | None = None,
    hosts: frozenset[str] | None = None,
    origin: dict | None = None,
) -> PageItem | RejectItem:
    """Return an article page's response decoded, to be extracted by ``item_from_page``, or a
    reject saying why it is no page to extract (status, type, empty, truncated). The cheap
    half of extraction: what the spider needs to decide on a retry. Never raises."""
    try:
        return _read_page(response, fetched_at=fetched_at, site_url=site_url,
                          listing_raw=listing_raw, capture=capture, hosts=hosts, origin=origin)
    except Exception as exc:  # noqa: BLE001 - the point: no page can crash extraction
        log_crash(response, "extract", exc, None)
        ref = parse_article_url(response.url)
        return RejectItem(url=response.url, reason=crash_reason("extract", exc), stage="extract",
                          fetched_at=fetched_at, id=ref.id if ref else None, retryable=False,
                          http_status=response.status, capture=capture, listing_raw=listing_raw,
                          origin=origin)


def _read_page(
    response: Response,
    *,
    fetched_at: str,
    site_url: str | None,
    listing_raw: str | None,
    capture: dict | None,
    hosts: frozenset[str] | None,
    origin: dict | None,
) -> PageItem | RejectItem:
    # The id lets a later run know the article's fate whatever URL variant it meets next.
    ref = parse_article_url(response.url)

    def reject(reason: str, stage: str = "extract", retryable: bool = False) -> RejectItem:
        return RejectItem(url=response.url, reason=reason, stage=stage, fetched_at=fetched_at,
                          id=ref.id if ref else None, retryable=retryable,
                          http_status=response.status, capture=capture, listing_raw=listing_raw,
                          origin=origin)

    if response.status != 200:
        return reject(f"HTTP {response.status}", stage="fetch",
                      retryable=response.status in RETRYABLE_STATUSES)
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").strip()
    media_type = content_type.split(";")[0].strip().lower()
    if not isinstance(response, TextResponse) or (media_type and media_type not in HTML_TYPES):
        return reject(f"not an HTML page (Content-Type {content_type or 'missing'})")
    if not response.body.strip():
        # An empty 200 is usually a server that failed mid-request: worth another go.
        return reject("empty page: HTTP 200 with an empty body", retryable=True)
    html, decoding, legacy = read_text(response)
    if looks_truncated(html):
        return reject("truncated HTML: the page stops mid-document", retryable=True)
    return PageItem(url=response.url, html=html, fetched_at=fetched_at, site_url=site_url,
                    listing_raw=listing_raw, http_status=response.status, capture=capture,
                    encoding=response.encoding, decoding=decoding, hosts=hosts, origin=origin,
                    legacy_encoding=legacy)


def item_from_page(page: PageItem) -> ArticleItem | RejectItem:
    """Return the article of a page ``read_page`` gave, or a reject saying why there is none.

    The costly half of extraction, which needs nothing but the page: a crawl runs it in a worker
    process (crawler/process/workers.py). Never raises, as ``item_from_response``."""
    try:
        return _item_from_page(page)
    except Exception as exc:  # noqa: BLE001 - the point: no page can crash extraction
        log_crash(page, "extract", exc, None)
        ref = parse_article_url(page.url)
        return RejectItem(url=page.url, reason=crash_reason("extract", exc), stage="extract",
                          fetched_at=page.fetched_at, id=ref.id if ref else None,
                          retryable=False, http_status=page.http_status, capture=page.capture,
                          listing_raw=page.listing_raw, origin=page.origin)


def _item_from_page(page: PageItem) -> ArticleItem | RejectItem:
    try:
        item = extract_article(page.html, page.url, fetched_at=page.fetched_at,
                               site_url=page.site_url, hosts=page.hosts)
    except ExtractionError as exc:
        ref = parse_article_url(page.url)
        return RejectItem(url=page.url, reason=str(exc), stage="extract",
                          fetched_at=page.fetched_at, id=ref.id if ref else None,
                          retryable=False, http_status=page.http_status, capture=page.capture,
                          listing_raw=page.listing_raw, origin=page.origin)
    item.listing_raw = page.listing_raw
    item.http_status = page.http_status
    item.capture = page.capture
    item.origin = page.origin
    item.legacy_encoding = page.legacy_encoding
    if page.decoding:
        logger.warning("%s: wrong encoding declared: %s", page.url, page.decoding)
    if page.legacy_encoding == "unknown":
        logger.warning("%s: the text reads like a legacy Vietnamese font encoding that could "
                       "not be told; kept as it was, flagged legacy_encoding=unknown", page.url)
    elif page.legacy_encoding:
        logger.info("%s: text converted from %s to Unicode", page.url,
                    page.legacy_encoding.upper())
    bad, in_title = _replacement_chars(item)
    if in_title or bad > MAX_REPLACEMENT_CHARS:
        return RejectItem.from_article(
            item, stage="extract",
            reason=f"encoding: {bad} undecodable character(s) (U+FFFD) in the text"
                   f"{' and the title' if in_title else ''}; the page declares {page.encoding}")
    return item


# The HTML signatures of the WHATWG MIME Sniffing standard ("rules for identifying an unknown
# MIME type"), each followed by a space or ">", plus an XML declaration (XHTML).
_HTML_SIGNATURES = (b"<!doctype html", b"<html", b"<head", b"<script", b"<iframe", b"<h1",
                    b"<div", b"<font", b"<table", b"<a", b"<style", b"<title", b"<b", b"<body",
                    b"<br", b"<p", b"<!--")


def looks_like_html(body: bytes) -> bool:
    """True when a saved file starts, after white space and a BOM, with HTML markup.

    A page saved from a browser or by wget does; a Markdown or text file does not. (A crawl
    goes by the response's Content-Type instead.)"""
    head = body[:1024].removeprefix(b"\xef\xbb\xbf").lstrip(b"\t\n\x0c\r ").lower()
    if head.startswith(b"<?xml") or head.startswith(b"<!--"):
        return True
    return any(head.startswith(sig) and head[len(sig):len(sig) + 1] in (b" ", b">", b"\t", b"\n")
               for sig in _HTML_SIGNATURES)


def response_from_file(body: bytes, url: str) -> HtmlResponse:
    """Return a response for a saved page, decoded the way a crawl decodes it."""
    return HtmlResponse(url=url, body=body, status=200)
