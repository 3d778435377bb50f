"""Common Crawl: list a site's captures in each crawl's index, fetch each WARC record by range.

``{COMMONCRAWL_INDEX_URL}/collinfo.json`` lists the crawls (``id``, ``name``, ``cdx-api``,
``from``, ``to``); each crawl's index is a pywb CDX server (pywb's docs, "CDXJ Server API"):
``{cdx-api}?url=HOST/&matchType=prefix&output=json`` answers one JSON object a line with
``url``, ``timestamp``, ``status``, ``mime``, ``digest``, ``filename``, ``offset`` and
``length``; filters are ``filter==status:200`` (``=`` exact, ``~`` regular expression, none:
contains); the index is paged (``showNumPages=true`` answers ``{"pages": N, ...}``, then
``page=0..N-1``), and a query that matches nothing answers 404. A record is fetched from
``{COMMONCRAWL_DATA_URL}/{filename}`` with ``Range: bytes={offset}-{offset + length - 1}``: one
gzip member holding one WARC response record.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import zlib
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin

from warcio.archiveiterator import ArchiveIterator

from crawler.site.urls import ascii_digits
from crawler.sources import COMMONCRAWL, HTML_MEDIA_TYPES, Capture, article_of
from crawler.sources.warc_reader import http_of, undo_transfer_coding

COLLINFO_PATH = "/collinfo.json"
INDEX_FIELDS = ("url", "timestamp", "status", "mime", "digest", "filename", "offset", "length")


@dataclass(frozen=True)
class Crawl:
    """One Common Crawl crawl: its id, its index endpoint, and when it ran (UTC)."""

    id: str
    cdx_api: str
    start: dt.datetime | None = None
    end: dt.datetime | None = None


@dataclass
class ArchivedResponse:
    """The HTTP response inside a WARC record: the page as the crawler received it."""

    url: str
    timestamp: str  # 14 digits, UTC (WARC-Date)
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def collinfo_url(index_url: str) -> str:
    """Return the URL of the list of crawls."""
    return index_url.rstrip("/") + COLLINFO_PATH


def _utc(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def parse_collinfo(body: bytes | str, index_url: str) -> list[Crawl]:
    """Return the crawls listed in collinfo.json; raise ValueError when it is not that list."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"collinfo.json is not JSON: {exc}") from None
    if not isinstance(data, list):
        raise ValueError("collinfo.json is not a list of crawls")
    crawls = []
    for entry in data:
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("cdx-api"):
            continue
        crawls.append(Crawl(id=str(entry["id"]),
                            cdx_api=urljoin(index_url.rstrip("/") + "/", str(entry["cdx-api"])),
                            start=_utc(entry.get("from")), end=_utc(entry.get("to"))))
    return crawls


def choose_crawls(crawls: list[Crawl], *, since: dt.date | None,
                  wanted: list[str] | None = None,
                  captured_until: dt.date | None = None) -> list[Crawl]:
    """Return the crawls to query, oldest first: the ``wanted`` ids, else all that cover the range.

    A crawl covers the range when it ended on or after ``since`` (it may hold any article
    published by then) and, with ``captured_until``, began on or before it; its dates are
    unknown for a few old crawls, which are kept. Raise ValueError naming the ids that no crawl
    has."""
    if wanted:
        by_id = {c.id: c for c in crawls}
        missing = [w for w in wanted if w not in by_id]
        if missing:
            raise ValueError(f"COMMONCRAWL_CRAWLS names crawls that collinfo.json does not list: "
                             f"{', '.join(missing)}")
        chosen = [by_id[w] for w in dict.fromkeys(wanted)]
    else:
        chosen = [c for c in crawls
                  if (since is None or c.end is None or c.end.date() >= since)
                  and (captured_until is None or c.start is None
                       or c.start.date() <= captured_until)]
    earliest = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return sorted(chosen, key=lambda c: (c.start or earliest, c.id))


def index_url(crawl: Crawl, prefix: str, *, since: dt.date | None, page: int | None = None,
              num_pages: bool = False, captured_until: dt.date | None = None) -> str:
    """Return the index query of a crawl for the 200 HTML captures under ``prefix``.

    With ``num_pages`` it asks how many pages the answer has; else it asks for ``page``."""
    params: list[tuple[str, str]] = [
        ("url", prefix), ("matchType", "prefix"), ("output", "json"),
        ("fl", ",".join(INDEX_FIELDS)), ("filter", "=status:200"), ("filter", "mime:html"),
    ]
    if since is not None:
        params.append(("from", since.strftime("%Y%m%d")))
    if captured_until is not None:
        params.append(("to", captured_until.strftime("%Y%m%d")))
    if num_pages:
        params.append(("showNumPages", "true"))
    elif page is not None:
        params.append(("page", str(page)))
    return f"{crawl.cdx_api}?{urlencode(params)}"


def parse_num_pages(body: bytes | str) -> int:
    """Return the page count of a ``showNumPages`` answer; raise ValueError when it is not one."""
    try:
        data = json.loads(body)
        pages = int(data["pages"]) if isinstance(data, dict) else int(data)
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError):
        raise ValueError(f"not a page count: {body[:120]!r}") from None
    return max(0, pages)


def parse_index_lines(body: bytes | str) -> tuple[list[dict[str, str]], int]:
    """Return the rows of an index answer (one JSON object a line) and how many lines were bad."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    rows, bad = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            bad += 1
            continue
        if isinstance(row, dict):
            rows.append({k: str(v) for k, v in row.items()})
        else:
            bad += 1
    return rows, bad


def captures_of(rows: list[dict[str, str]], hosts: frozenset[str] | set[str]
                ) -> tuple[list[Capture], Counter[str]]:
    """Return the article captures among index rows, and the count of rows skipped by reason."""
    captures: list[Capture] = []
    skipped: Counter[str] = Counter()
    for row in rows:
        mime = row.get("mime", "").lower().split(";")[0].strip()
        if row.get("status") != "200":
            skipped["not-200"] += 1
            continue
        if mime not in HTML_MEDIA_TYPES and "html" not in row.get("mime-detected", ""):
            skipped["not-html"] += 1
            continue
        try:
            offset, length = int(row["offset"]), int(row["length"])
            timestamp, filename = row["timestamp"], row["filename"]
        except (KeyError, ValueError):
            skipped["bad-row"] += 1
            continue
        if not (ascii_digits(timestamp) and len(timestamp) == 14) or length <= 0 or offset < 0 \
                or ".." in filename.split("/") or filename.startswith("/"):
            skipped["bad-row"] += 1
            continue
        ref = article_of(row.get("url", ""), hosts)
        if ref is None:
            skipped["not-article"] += 1
            continue
        captures.append(Capture(source=COMMONCRAWL, timestamp=timestamp,
                                original_url=row["url"], ref=ref,
                                digest=row.get("digest") or None, filename=filename,
                                offset=offset, length=length))
    return captures, skipped


def record_url(data_url: str, capture: Capture) -> str:
    """Return the URL of the WARC file holding a capture."""
    return f"{data_url.rstrip('/')}/{capture.filename}"


def range_header(capture: Capture) -> str:
    """Return the Range header that fetches exactly a capture's record."""
    assert capture.offset is not None and capture.length is not None
    return f"bytes={capture.offset}-{capture.offset + capture.length - 1}"


def _decoded(body: bytes, headers: list[tuple[str, str]]) -> tuple[bytes, list[tuple[str, str]]]:
    """Undo a gzip or deflate Content-Encoding kept in the record (Common Crawl mostly stores
    payloads decoded, naming the original coding X-Crawler-Content-Encoding)."""
    coding = next((v.strip().lower() for k, v in headers if k.lower() == "content-encoding"), "")
    try:
        if coding in ("gzip", "x-gzip"):
            body = gzip.decompress(body)
        elif coding == "deflate":
            try:
                body = zlib.decompress(body)
            except zlib.error:
                body = zlib.decompress(body, -zlib.MAX_WBITS)
        elif coding and coding != "identity":
            raise ValueError(f"unsupported Content-Encoding {coding!r}")
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"the payload does not decode as {coding}: {exc}") from None
    kept = [(k, v) for k, v in headers if k.lower() not in ("content-encoding", "content-length")]
    return body, kept


def read_record(data: bytes) -> ArchivedResponse:
    """Return the HTTP response in a fetched WARC record; raise ValueError when there is none."""
    try:
        for record in ArchiveIterator(io.BytesIO(data)):
            if record.rec_type != "response":
                continue
            payload = record.raw_stream.read()
            status, headers = http_of(record)
            if status is None:
                raise ValueError("the WARC record holds no HTTP response")
            body, headers = undo_transfer_coding(payload, headers)
            body, headers = _decoded(body, headers)
            date = record.rec_headers.get_header("WARC-Date") or ""
            stamp = "".join(ch for ch in date if ascii_digits(ch))[:14]
            url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip("<>")
            return ArchivedResponse(url=url, timestamp=stamp, status=status, headers=headers,
                                    body=body)
    except ValueError:
        raise
    except Exception as exc:  # warcio raises several kinds on bytes that are not a record
        raise ValueError(f"not a WARC record: {type(exc).__name__}: {exc}") from None
    raise ValueError("no WARC response record in the fetched range")
