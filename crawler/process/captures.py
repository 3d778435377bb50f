"""The index of WARC captures that re-extraction builds as it reads (crawler/process/reextract.py).

Every record is indexed as it is read: where each response is (for revisits), which request each
response answered (its Referer), and what every captured home or listing page lists (article key
-> the time text the listing printed), so that a time of day the crawl recovered from a listing
is recovered again. A captured page becomes a Scrapy response exactly as the crawl's spider
received it: transfer coding undone, then Scrapy's own HttpCompressionMiddleware.

The index grows with the captures (a few of them per article), so it is kept in a scratch
database on disk (crawler/store/scratch.py), not in dicts: re-extracting a quarter of a million
articles needs no more memory than 25,000.
"""

from __future__ import annotations

import logging
import os
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
from crawler.store.scratch import scratch_db
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


INDEX_SCHEMA = """
CREATE TABLE paths (id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL);
CREATE TABLE responses (record_id TEXT PRIMARY KEY, path INTEGER, offset INTEGER);
CREATE TABLE responses_by_uri_date (uri TEXT, date TEXT, path INTEGER, offset INTEGER,
                                    PRIMARY KEY (uri, date));
CREATE TABLE responses_by_digest (digest TEXT PRIMARY KEY, path INTEGER, offset INTEGER);
CREATE TABLE referers (record_id TEXT PRIMARY KEY, referer TEXT);
CREATE TABLE request_of (record_id TEXT PRIMARY KEY, request_id TEXT);
CREATE TABLE listing_captures (uri TEXT, seq INTEGER, date TEXT, PRIMARY KEY (uri, seq));
CREATE TABLE listing_entries (uri TEXT, seq INTEGER, key TEXT, time_raw TEXT,
                              PRIMARY KEY (uri, seq, key));
CREATE TABLE first_listed (key TEXT PRIMARY KEY, time_raw TEXT);
CREATE TABLE article_captures (key TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE seen (key TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE archive_rejects (key TEXT PRIMARY KEY, item BLOB);
"""


class CaptureIndex:
    """What the WARC files hold, indexed as they are read: where each response is (for
    revisits), which request each response answered (its Referer), how many captures each article
    has, and what every captured home or listing page lists (article key -> the time text the
    listing printed). Also reads a capture back as the response the crawl's spider received.
    Kept in a scratch database (``close`` removes it)."""

    def __init__(self, crawler: Any, *, hosts: frozenset[str] | set[str],
                 archive_dir: str | os.PathLike[str]):
        self.hosts = hosts
        self.archive_dir = Path(archive_dir)
        try:
            self.decoder: HttpCompressionMiddleware | None = build_from_crawler(
                HttpCompressionMiddleware, crawler)
        except NotConfigured:
            self.decoder = None
        self.db = scratch_db(INDEX_SCHEMA)
        self._paths: dict[str, int] = {}  # the files given: a handful
        self._seq = 0

    def close(self) -> None:
        """Drop the index (its scratch file goes with it)."""
        self.db.close()

    def _path_id(self, path: Path) -> int:
        name = str(path)
        if name not in self._paths:
            self._paths[name] = self.db.execute("INSERT INTO paths(path) VALUES(?)",
                                                (name,)).lastrowid or 0
        return self._paths[name]

    def _location(self, sql: str, args: tuple[Any, ...]) -> Location | None:
        row = self.db.execute("SELECT p.path, r.offset FROM (" + sql + ") r JOIN paths p"
                              " ON p.id = r.path", args).fetchone()
        return Location(Path(row[0]), row[1]) if row else None

    def article_captures(self, key: str) -> int:
        """Return how many captures of the article (by key) the files hold."""
        row = self.db.execute("SELECT n FROM article_captures WHERE key = ?", (key,)).fetchone()
        return row[0] if row else 0

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
        db = self.db
        if kind == "request":
            referer = record.http_headers.get_header("Referer") if record.http_headers else None
            if referer:
                db.executemany("INSERT OR REPLACE INTO referers(record_id, referer) VALUES(?, ?)",
                               [(rid, referer) for rid in (record_id, concurrent) if rid])
            return
        if kind not in ("response", "revisit"):
            return
        if concurrent:
            db.execute("INSERT OR REPLACE INTO request_of(record_id, request_id) VALUES(?, ?)",
                       (record_id, concurrent))
        if kind == "response":
            path = self._path_id(where.path)
            db.execute("INSERT OR REPLACE INTO responses VALUES(?, ?, ?)",
                       (record_id, path, where.offset))
            db.execute("INSERT OR REPLACE INTO responses_by_uri_date VALUES(?, ?, ?, ?)",
                       (uri, headers.get_header("WARC-Date") or "", path, where.offset))
            digest = headers.get_header("WARC-Payload-Digest")
            if digest:
                db.execute("INSERT OR IGNORE INTO responses_by_digest VALUES(?, ?, ?)",
                           (digest, path, where.offset))
        ref = parse_article_url(uri)
        if ref is not None:
            if host_of(uri) in self.hosts:
                db.execute("INSERT INTO article_captures(key, n) VALUES(?, 1)"
                           " ON CONFLICT(key) DO UPDATE SET n = n + 1", (ref.key,))
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
        self._seq += 1
        db.execute("INSERT INTO listing_captures(uri, seq, date) VALUES(?, ?, ?)",
                   (uri, self._seq, capture.date))
        entries = [(entry.ref.key, entry.time_raw) for entry in page.entries]
        db.executemany("INSERT OR REPLACE INTO listing_entries(uri, seq, key, time_raw)"
                       " VALUES(?, ?, ?, ?)", [(uri, self._seq, *entry) for entry in entries])
        db.executemany("INSERT OR IGNORE INTO first_listed(key, time_raw) VALUES(?, ?)", entries)

    def is_listing(self, url: str) -> bool:
        return host_of(url) in self.hosts and (
            (urlsplit(url).path or "/") == "/" or listing_key(url) is not None)

    def listing_raw(self, record: ArcWarcRecord, key: str, date: str) -> str | None:
        """Return the time text the listing that led to this capture printed for the article."""
        return self.listing_raw_of(warc_record_id(record), key, date)

    def listing_raw_of(self, record_id: str, key: str, date: str) -> str | None:
        """Return the time text for the article (by key) of the listing the request of
        ``record_id`` came from, as captured last by ``date`` (else first); else the first
        captured listing's that lists it."""
        db = self.db
        row = db.execute("SELECT referer FROM referers WHERE record_id = ? OR record_id ="
                         " (SELECT request_id FROM request_of WHERE record_id = ?)"
                         " ORDER BY record_id = ? DESC LIMIT 1",
                         (record_id, record_id, record_id)).fetchone()
        if row:
            at = db.execute("SELECT seq FROM listing_captures WHERE uri = ? AND date <= ?"
                            " ORDER BY seq DESC LIMIT 1", (row[0], date)).fetchone() or \
                db.execute("SELECT MIN(seq) FROM listing_captures WHERE uri = ?",
                           (row[0],)).fetchone()
            if at and at[0] is not None:
                entry = db.execute("SELECT time_raw FROM listing_entries WHERE uri = ? AND"
                                   " seq = ? AND key = ?", (row[0], at[0], key)).fetchone()
                if entry:
                    return entry[0]
        first = db.execute("SELECT time_raw FROM first_listed WHERE key = ?", (key,)).fetchone()
        return first[0] if first else None

    def resolve_revisit(self, record: ArcWarcRecord, where: Location, length: int,
                         status: int, headers: list[tuple[str, str]]) -> Capture | None:
        """Return the revisit as a capture: the original's body, at the revisit's time and place."""
        rec = record.rec_headers
        refers_id = (rec.get_header("WARC-Refers-To") or "").strip().strip("<>")
        key = ((rec.get_header("WARC-Refers-To-Target-URI") or "").strip("<>"),
               rec.get_header("WARC-Refers-To-Date") or "")
        original_at = (
            self._location("SELECT path, offset FROM responses WHERE record_id = ?", (refers_id,))
            or self._location("SELECT path, offset FROM responses_by_uri_date WHERE uri = ? AND"
                              " date = ?", key)
            or self._location("SELECT path, offset FROM responses_by_digest WHERE digest = ?",
                              (rec.get_header("WARC-Payload-Digest") or "",)))
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
