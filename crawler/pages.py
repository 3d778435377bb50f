"""From a fetched response to an item: the one path shared by the spider, the CLI and re-extraction."""

from __future__ import annotations

import datetime as dt

from scrapy.http import HtmlResponse, Response, TextResponse

from crawler.dates import VN_TZ
from crawler.extraction import ExtractionError, extract_article, looks_truncated
from crawler.items import ArticleItem, RejectItem

# Statuses after which the same URL may well work on a later run.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})


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
) -> ArticleItem | RejectItem:
    """Return the article of an article page's response, or a reject saying why there is none."""

    def reject(reason: str, stage: str = "extract", retryable: bool = False) -> RejectItem:
        return RejectItem(url=response.url, reason=reason, stage=stage, fetched_at=fetched_at,
                          retryable=retryable, http_status=response.status, capture=capture)

    if response.status != 200:
        return reject(f"HTTP {response.status}", stage="fetch",
                      retryable=response.status in RETRYABLE_STATUSES)
    if not isinstance(response, TextResponse):
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        return reject(f"not an HTML page (Content-Type {content_type or 'missing'})")
    html = response.text
    if looks_truncated(html):
        return reject("truncated HTML: the page ends before </html>", retryable=True)
    try:
        item = extract_article(html, response.url, fetched_at=fetched_at, site_url=site_url)
    except ExtractionError as exc:
        return reject(str(exc))
    item.listing_raw = listing_raw
    item.http_status = response.status
    item.capture = capture
    return item


def response_from_file(body: bytes, url: str) -> HtmlResponse:
    """Return a response for a saved page, decoded the way a crawl decodes it."""
    return HtmlResponse(url=url, body=body, status=200)
