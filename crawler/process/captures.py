"""The index of WARC captures that re-extraction builds as it reads (crawler/process/reextract.py).

Every record is indexed as it is read: where each response is (for revisits), which request each
response answered (its Referer), and what every captured home or listing page lists (article id
-> the time text the listing printed), so that a time of day the crawl recovered from a listing
is recovered again. A captured page becomes a Scrapy response exactly as the crawl's spider
received it: transfer coding undone, then Scrapy's own HttpCompressionMiddleware.
"""

from __future__ import annotations

import bisect
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.misc import build_from_crawler
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from crawler.extract.listings import listing_key, parse_listing
from crawler.site.urls import host_of, parse_article_url
from crawler.sources.warc_reader import Capture, Location, http_of, undo_transfer_coding
from crawler.sources.warc_reader import record_id as warc_record_id
from crawler.store.warc import fetched_at_of

logger = logging.getLogger(__name__)


def capture_file_name(path: Path, archive_dir: Path) -> str:
    """Return how a record names a WARC file: relative to its archive (``raw/NAME``) if it can."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(archive_dir.resolve()))
    except ValueError:
        pass
    if resolved.parent.name == "raw":
        return f"raw/{resolved.name}"
    return str(resolved)


class CaptureIndex:
    """What the WARC files hold, indexed as they are read: where each response is (for
    revisits), which request each response answered (its Referer), how many captures each article
    has, and what every captured home or listing page lists (article id -> the time text the
    listing printed). Also reads a capture back as the response the crawl's spider received."""

    def __init__(self, crawler: Any, *, hosts: frozenset[str] | set[str],
                 archive_dir: str | os.PathLike[str]):
        self.hosts = hosts
        self.archive_dir = Path(archive_dir)
        try:
            self.decoder: HttpCompressionMiddleware | None = build_from_crawler(
                HttpCompressionMiddleware, crawler)
        except NotConfigured:
            self.decoder = None
        self.responses_by_id: dict[str, Location] = {}
        self.responses_by_uri_date: dict[tuple[str, str], Location] = {}
        self.responses_by_digest: dict[str, Location] = {}
        self.referers: dict[str, str] = {}  # request or response record id -> Referer
        self.request_of: dict[str, str] = {}  # response record id -> its request's record id
        self.listings: dict[str, list[tuple[str, dict[str, str | None]]]] = {}
        self.first_listed: dict[str, str | None] = {}
        self.article_captures: Counter = Counter()

    def capture(self, record: ArcWarcRecord, where: Location, length: int, payload: bytes,
                 status: int, headers: list[tuple[str, str]]) -> Capture:
        """Return a response record as a capture: its body with transfer coding undone."""
        body, headers = undo_transfer_coding(payload, headers)
        return Capture(url=(record.rec_headers.get_header("WARC-Target-URI") or "").strip("<>"),
                       date=record.rec_headers.get_header("WARC-Date") or "", status=status,
                       headers=headers, body=body, record_id=warc_record_id(record), location=where,
                       length=length)

    def response(self, capture: Capture) -> Response | None:
        """Return the response the spider got: typed by its headers, Content-Encoding undone."""
        headers = Headers()
        for name, value in capture.headers:
            headers.appendlist(name, value)
        cls = responsetypes.from_args(headers=headers, url=capture.url, body=capture.body)
        request = Request(capture.url)
        response = cls(url=capture.url, status=capture.status, headers=headers,
                       body=capture.body, request=request)
        if self.decoder is not None:
            try:
                response = self.decoder.process_response(request, response)
            except IgnoreRequest:
                return None
            except Exception as exc:  # a body that does not decompress: the crawl would fail it too
                logger.warning("cannot decode %s captured at %s: %s", capture.url,
                               capture.date, exc)
                return None
        return response

    def capture_info(self, capture: Capture) -> dict[str, Any]:
        """Return the record's ``capture``: where its raw response is, and when it was fetched."""
        return {
            "warc_file": capture_file_name(capture.location.path, self.archive_dir),
            "record_id": capture.record_id,
            "offset": capture.location.offset,
            "length": capture.length,
            "status": capture.status,
            "fetched_at": fetched_at_of(capture.date),
        }

    def add(self, record: ArcWarcRecord, where: Location, payload: bytes) -> None:
        headers = record.rec_headers
        kind = record.rec_type
        record_id = warc_record_id(record)
        uri = (headers.get_header("WARC-Target-URI") or "").strip("<>")
        # Either record may name the other in WARC-Concurrent-To: ours name the response from the
        # request, wget names the request from the response.
        concurrent = (headers.get_header("WARC-Concurrent-To") or "").strip().strip("<>")
        if kind == "request":
            referer = record.http_headers.get_header("Referer") if record.http_headers else None
            if referer:
                self.referers[record_id] = referer
                if concurrent:
                    self.referers[concurrent] = referer
            return
        if kind not in ("response", "revisit"):
            return
        if concurrent:
            self.request_of[record_id] = concurrent
        if kind == "response":
            self.responses_by_id[record_id] = where
            self.responses_by_uri_date[(uri, headers.get_header("WARC-Date") or "")] = where
            digest = headers.get_header("WARC-Payload-Digest")
            if digest:
                self.responses_by_digest.setdefault(digest, where)
        ref = parse_article_url(uri)
        if ref is not None:
            if host_of(uri) in self.hosts:
                self.article_captures[ref.id] += 1
            return
        if kind != "response" or not self.is_listing(uri):
            return
        status, http_headers = http_of(record)
        if status != 200:
            return
        capture = self.capture(record, where, 0, payload, status, http_headers)
        response = self.response(capture)
        if response is None or not hasattr(response, "text"):
            return
        page = parse_listing(response.text, response.url, self.hosts)
        entries = {entry.ref.id: entry.time_raw for entry in page.entries}
        self.listings.setdefault(uri, []).append((capture.date, entries))
        for article_id, time_raw in entries.items():
            self.first_listed.setdefault(article_id, time_raw)

    def is_listing(self, url: str) -> bool:
        return host_of(url) in self.hosts and (
            (urlsplit(url).path or "/") == "/" or listing_key(url) is not None)

    def listing_raw(self, record: ArcWarcRecord, article_id: str, date: str) -> str | None:
        """Return the time text the listing that led to this capture printed for the article."""
        return self.listing_raw_of(warc_record_id(record), article_id, date)

    def listing_raw_of(self, record_id: str, article_id: str, date: str) -> str | None:
        referer = self.referers.get(record_id) or self.referers.get(
            self.request_of.get(record_id, ""))
        captures = self.listings.get(referer or "")
        if captures:
            dates = [d for d, _ in captures]
            at = max(bisect.bisect_right(dates, date) - 1, 0)
            if article_id in captures[at][1]:
                return captures[at][1][article_id]
        return self.first_listed.get(article_id)

    def resolve_revisit(self, record: ArcWarcRecord, where: Location, length: int,
                         status: int, headers: list[tuple[str, str]]) -> Capture | None:
        """Return the revisit as a capture: the original's body, at the revisit's time and place."""
        rec = record.rec_headers
        refers_id = (rec.get_header("WARC-Refers-To") or "").strip().strip("<>")
        key = ((rec.get_header("WARC-Refers-To-Target-URI") or "").strip("<>"),
               rec.get_header("WARC-Refers-To-Date") or "")
        original_at = (self.responses_by_id.get(refers_id)
                       or self.responses_by_uri_date.get(key)
                       or self.responses_by_digest.get(rec.get_header("WARC-Payload-Digest") or ""))
        if original_at is None:
            return None
        original = self.read_capture(original_at)
        if original is None:
            return None
        # Status and headers are the revisit's own; only the payload (and how it is coded) is not.
        coding = [(k, v) for k, v in original.headers if k.lower() == "content-encoding"]
        merged = [(k, v) for k, v in headers
                  if k.lower() not in ("content-encoding", "transfer-encoding")] + coding
        if status == 304:  # "server-not-modified": the original answer stands
            status, merged = original.status, original.headers
        return Capture(url=original.url if not rec.get_header("WARC-Target-URI") else
                       rec.get_header("WARC-Target-URI").strip("<>"),
                       date=rec.get_header("WARC-Date") or original.date, status=status,
                       headers=merged, body=original.body, record_id=warc_record_id(record),
                       location=where, length=length)

    def read_capture(self, where: Location) -> Capture | None:
        """Return the response record at a location."""
        with where.path.open("rb") as fh:
            fh.seek(where.offset)
            iterator = ArchiveIterator(fh)
            for record in iterator:
                payload = record.raw_stream.read()
                status, headers = http_of(record)
                if status is None:
                    return None
                return self.capture(record, where, iterator.get_record_length(), payload,
                                     status, headers)
        return None

    def read_record(self, where: Location) -> tuple[ArcWarcRecord, int, bytes]:
        """Return the record at a location again (a revisit, or a page to extract anew)."""
        with where.path.open("rb") as fh:
            fh.seek(where.offset)
            iterator = ArchiveIterator(fh)
            record = next(iter(iterator))
            payload = record.raw_stream.read()
            return record, iterator.get_record_length(), payload
