"""From an archive's answer to the page the site sent: one path for the crawl and re-extraction.

A Wayback Machine ``id_`` replay is the page itself, at the replay URL: it becomes a response at
the original URL. A Common Crawl range answer is a WARC record: the HTTP response inside it
becomes the response. ``capture_of_answer`` recognises, from a WARC capture of our own, which
archive capture an answer was (re-extraction has no index to tell it).
"""

from __future__ import annotations

import dataclasses
import re

from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from crawler.sources import COMMONCRAWL, WAYBACK, Capture, article_of, commoncrawl, wayback

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+([0-9]+)-([0-9]+)/(?:[0-9]+|\*)\s*$", re.IGNORECASE)


def page_of(answer: Response, capture: Capture) -> tuple[Response | None, Capture, str]:
    """Return the page an archive's answer holds (as the site sent it), the capture it turned out
    to be, and why there is no page when there is none."""
    if capture.source == WAYBACK:
        replayed = wayback.parse_replay_url(answer.url)
        if replayed and replayed[0] != capture.timestamp:
            # The archive answered with its nearest capture instead.
            capture = dataclasses.replace(capture, timestamp=replayed[0])
        return answer.replace(url=capture.original_url), capture, ""
    if answer.status not in (200, 206):
        return None, capture, f"HTTP {answer.status} from Common Crawl"
    if answer.status == 200 and len(answer.body) != capture.length:
        # A server that ignored the Range header sent the whole file: its first record is not
        # this capture.
        return None, capture, "Common Crawl answered without the byte range asked for"
    try:
        record = commoncrawl.read_record(answer.body)
    except ValueError as exc:
        return None, capture, f"Common Crawl record unreadable: {exc}"
    if record.url != capture.original_url:
        return None, capture, (f"the Common Crawl record at offset {capture.offset} is of "
                               f"{record.url}, not {capture.original_url}")
    headers = Headers()
    for name, value in record.headers:
        headers.appendlist(name, value)
    cls = responsetypes.from_args(headers=headers, url=capture.original_url, body=record.body)
    page = cls(url=capture.original_url, status=record.status, headers=headers,
               body=record.body, request=answer.request)
    return page, capture, ""


def capture_of_answer(answer: Response, hosts: frozenset[str] | set[str], *, wayback_url: str,
                      data_url: str) -> Capture | None:
    """Return the archive capture an archive's answer was, or None when it is not one of an
    article of the site (another URL, another archive, a record that does not read)."""
    wayback_url, data_url = wayback_url.rstrip("/") + "/", data_url.rstrip("/") + "/"
    if answer.url.startswith(wayback_url):
        replayed = wayback.parse_replay_url(answer.url)
        ref = article_of(replayed[1], hosts) if replayed else None
        if replayed is None or ref is None:
            return None
        return Capture(source=WAYBACK, timestamp=replayed[0], original_url=replayed[1], ref=ref)
    if not answer.url.startswith(data_url) or answer.status != 206:
        return None
    span = _CONTENT_RANGE.match(answer.headers.get(b"Content-Range", b"").decode("latin-1"))
    try:
        record = commoncrawl.read_record(answer.body)
    except ValueError:
        return None
    ref = article_of(record.url, hosts)
    if span is None or ref is None:
        return None
    first, last = int(span[1]), int(span[2])
    return Capture(source=COMMONCRAWL, timestamp=record.timestamp, original_url=record.url,
                   ref=ref, filename=answer.url[len(data_url):], offset=first,
                   length=last - first + 1)
