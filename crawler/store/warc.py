"""WARC/1.1 writing: each raw response and its request as records in rolling WARC files, with a
CDXJ index beside them.

Layout under ARCHIVE_DIR/raw/:
    baonamdinh-YYYYmmddTHHMMSS-NNNNN.warc.gz   WARC/1.1, one gzip member per record, rolled over
                                                at WARC_MAX_SIZE bytes
    index.cdxj                                  one line per response: SURT, timestamp, JSON;
                                                appended while crawling, sorted when the crawl ends
                                                (on disk: crawler/store/cdxj.py)

Each record is built in memory and written with one write, then flushed, so a killed crawl
leaves every record but possibly the last one whole. A write that fails (a full disk, an I/O
error) is cut back so that no half record stays, and the OSError is raised to the caller: the
crawl's capture middleware (crawler/run/capture.py) turns it into a storage failure that stops
the run. ``CaptureWriter`` is what one process writes with: the middleware's own, or the
capture process's (crawler/run/capture.py).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.normalise.dates import VN_TZ
from crawler.store.cdxj import sort_index

logger = logging.getLogger(__name__)

WARC_PREFIX = "baonamdinh"
INDEX_NAME = "index.cdxj"
# Hop-by-hop framing the download handler already undid: kept, a reader would undo it again.
UNDONE_HEADERS = frozenset({b"transfer-encoding"})
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".svg", ".ico", ".avif")


def warc_date(moment: dt.datetime) -> str:
    """Return a WARC-Date (UTC, to the second, with Z) for an aware datetime."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetched_at_of(warc_date_value: str) -> str:
    """Return the fetch time (Vietnam time, to the second, ISO 8601) of a WARC-Date."""
    moment = dt.datetime.fromisoformat(warc_date_value.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(VN_TZ).replace(microsecond=0).isoformat()


def cdx_timestamp(warc_date_value: str) -> str:
    """Return the 14-digit CDX timestamp of a WARC-Date."""
    digits = "".join(ch for ch in warc_date_value if ch.isdigit())
    return digits[:14].ljust(14, "0")


def surt(url: str) -> str:
    """Return the SURT key of a URL as pywb's indexer (the surt package) writes it."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    key = ",".join(reversed(host.split(".")))  # IPv4 addresses too, as surt does
    default_port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    if parts.port and parts.port != default_port:
        key += f":{parts.port}"
    path = (parts.path or "/").lower()
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = "&".join(sorted(parts.query.split("&"))).lower() if parts.query else ""
    return f"{key}){path}" + (f"?{query}" if query else "")


def is_image(response: Response) -> bool:
    """True when a response is an image, by its Content-Type or else its URL."""
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
    if content_type:
        return content_type.startswith("image/")
    return urlsplit(response.url).path.lower().endswith(IMAGE_SUFFIXES)


class WarcWriterFiles:
    """Rolling gzip WARC files in one folder, each record one gzip member written whole."""

    def __init__(self, archive_dir: str | os.PathLike[str], *, max_size: int,
                 prefix: str = WARC_PREFIX, started: dt.datetime | None = None):
        self.archive_dir = Path(archive_dir)
        self.raw_dir = self.archive_dir / "raw"
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        self.max_size = max_size
        self.prefix = prefix
        # Vietnam time, as every other name and time the archive shows.
        self.stamp = (started or dt.datetime.now(VN_TZ)).astimezone(VN_TZ).strftime("%Y%m%dT%H%M%S")
        self.serial = -1
        self.fh: IO[bytes] | None = None
        self.path: Path | None = None
        # Unbuffered: a failed write is cut back at once, never retried by a later flush.
        self.index: IO[bytes] = (self.raw_dir / INDEX_NAME).open("ab", buffering=0)

    def _open_next(self) -> None:
        if self.fh is not None:
            self.fh.close()
        while True:
            self.serial += 1
            path = self.raw_dir / f"{self.prefix}-{self.stamp}-{self.serial:05d}.warc.gz"
            try:
                self.fh = path.open("xb", buffering=0)
                break
            except FileExistsError:
                continue
        self.path = path
        logger.info("writing WARC records to %s", path)
        info = {"software": "baonamdinh-archiver (warcio)", "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
                              "warc-format/warc-1.1/"}
        writer = WARCWriter(None, gzip=True, warc_version="1.1")
        self._write(writer.create_warcinfo_record(path.name, info))

    def _write(self, record: Any) -> tuple[int, int]:
        """Write one record as one gzip member in one write; return (offset, length)."""
        assert self.fh is not None
        buffer = io.BytesIO()
        WARCWriter(buffer, gzip=True, warc_version="1.1").write_record(record)
        data = buffer.getvalue()
        offset = self.fh.tell()
        _write_whole(self.fh, data, offset)
        return offset, len(data)

    def write_pair(self, response_record: Any, request_record: Any | None) -> tuple[Path, int, int]:
        """Write a response record and its request; return the response's (file, offset, length)."""
        if self.fh is None or self.fh.tell() >= self.max_size:
            self._open_next()
        assert self.path is not None
        offset, length = self._write(response_record)
        if request_record is not None:
            self._write(request_record)
        return self.path, offset, length

    def add_index_line(self, line: str) -> None:
        """Append one CDXJ line to the index, whole or not at all."""
        end = os.fstat(self.index.fileno()).st_size
        _write_whole(self.index, (line + "\n").encode("utf-8"), end)

    def close(self, *, sort: bool = True) -> None:
        """Close the current WARC file and sort the index (so pywb can binary-search it)."""
        if self.fh is not None:
            self.fh.close()
            self.fh = None
        self.index.close()
        if not sort:
            return
        index = self.raw_dir / INDEX_NAME
        try:
            sort_index(index)  # on disk, a few MB at a time: the index grows with the archive
        except OSError as exc:
            logger.error("the WARC index %s could not be sorted (%s); it is whole, unsorted: "
                         "LC_ALL=C sort -o index.cdxj index.cdxj sorts it", index, exc)


def _write_whole(fh: IO[bytes], data: bytes, offset: int) -> None:
    """Write all of ``data`` to an unbuffered file at its end (``offset``); cut back on failure."""
    try:
        view, done = memoryview(data), 0
        while done < len(data):
            done += fh.write(view[done:]) or 0
    except OSError:
        try:
            os.ftruncate(fh.fileno(), offset)
        except OSError as exc:
            logger.error("could not cut back a partial WARC write at offset %s: %s", offset, exc)
        raise


@dataclass(frozen=True)
class Exchange:
    """A response as it was received and its request: what a capture is made of, as plain
    data (it may go to the capture process)."""

    url: str
    status: int
    protocol: str
    headers: list[tuple[bytes, bytes]]
    body: bytes
    ip_address: str | None
    request_url: str
    method: str
    request_headers: list[tuple[bytes, bytes]]
    request_body: bytes
    fetched_at: str  # Vietnam time, to the second: the record's ``fetched_at``

    @classmethod
    def of(cls, request: Request, response: Response, fetched: dt.datetime) -> Exchange:
        """Return the exchange of a response received at ``fetched``."""
        return cls(
            url=response.url, status=response.status,
            protocol=getattr(response, "protocol", None) or "HTTP/1.1",
            headers=[(name, value) for name, values in response.headers.items()
                     for value in values],
            body=response.body,
            ip_address=None if response.ip_address is None else str(response.ip_address),
            request_url=request.url, method=request.method,
            request_headers=[(name, value) for name, values in request.headers.items()
                             for value in values],
            request_body=request.body or b"", fetched_at=fetched.isoformat())


def records_of(exchange: Exchange) -> tuple[Any, Any]:
    """Return the WARC response record of an exchange and its request record."""
    writer = WARCWriter(None, gzip=True, warc_version="1.1")
    date = warc_date(dt.datetime.fromisoformat(exchange.fetched_at))
    protocol = exchange.protocol
    if not protocol.upper().startswith("HTTP/"):
        protocol = "HTTP/1.1"
    try:
        reason = HTTPStatus(exchange.status).phrase
    except ValueError:
        reason = ""
    headers = [(name.decode("latin-1"), value.decode("latin-1"))
               for name, value in exchange.headers if name.lower() not in UNDONE_HEADERS]
    http_headers = StatusAndHeaders(f"{exchange.status} {reason}".strip(), headers,
                                    protocol=protocol)
    warc_headers = {"WARC-Date": date}
    if exchange.ip_address is not None:
        warc_headers["WARC-IP-Address"] = exchange.ip_address
    body = exchange.body
    response_record = writer.create_warc_record(
        exchange.url, "response", payload=io.BytesIO(body), length=len(body),
        http_headers=http_headers, warc_headers_dict=warc_headers)

    parts = urlsplit(exchange.request_url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_headers = [(name.decode("latin-1"), value.decode("latin-1"))
                       for name, value in exchange.request_headers]
    if not any(name.lower() == "host" for name, _ in request_headers):
        request_headers.insert(0, ("Host", parts.netloc))
    request_record = writer.create_warc_record(
        exchange.request_url, "request", payload=io.BytesIO(exchange.request_body),
        length=len(exchange.request_body),
        http_headers=StatusAndHeaders(f"{exchange.method} {target} {protocol}",
                                      request_headers, is_http_request=True),
        warc_headers_dict={
            "WARC-Date": date,
            "WARC-Concurrent-To": response_record.rec_headers.get_header("WARC-Record-ID"),
        })
    return response_record, request_record


def _cdxj(exchange: Exchange, record: Any, capture: dict[str, Any], filename: str) -> str:
    # The last Content-Type, as Scrapy's Headers.get gives it.
    types = [value for name, value in exchange.headers if name.lower() == b"content-type"]
    mime = (types[-1] if types else b"").decode("latin-1").split(";")[0].strip()
    digest = record.rec_headers.get_header("WARC-Payload-Digest") or ""
    fields = {
        "url": exchange.url,
        "mime": mime or "unk",
        "status": str(exchange.status),
        "digest": digest.split(":", 1)[-1],
        "length": str(capture["length"]),
        "offset": str(capture["offset"]),
        "filename": filename,
    }
    timestamp = cdx_timestamp(record.rec_headers.get_header("WARC-Date"))
    return f"{surt(exchange.url)} {timestamp} {json.dumps(fields, ensure_ascii=False)}"


class CaptureWriter:
    """Captures of one process: each exchange as a response and a request record in the
    rolling WARC files, and a line in the index; the files are opened at the first capture."""

    def __init__(self, archive_dir: str | os.PathLike[str], *, max_size: int):
        self.archive_dir = Path(archive_dir)
        self.max_size = max_size
        self.files: WarcWriterFiles | None = None

    def capture(self, exchange: Exchange) -> dict[str, Any]:
        """Write an exchange's records and index line; return its capture (raise OSError)."""
        response_record, request_record = records_of(exchange)
        if self.files is None:
            self.files = WarcWriterFiles(self.archive_dir, max_size=self.max_size)
        path, offset, length = self.files.write_pair(response_record, request_record)
        capture = {
            "warc_file": str(path.relative_to(self.archive_dir)),
            "record_id": response_record.rec_headers.get_header("WARC-Record-ID").strip("<>"),
            "offset": offset,
            "length": length,
            "status": exchange.status,
            "fetched_at": exchange.fetched_at,
        }
        self.files.add_index_line(_cdxj(exchange, response_record, capture, path.name))
        return capture

    def close(self, *, sort: bool = True) -> None:
        """Close the current WARC file and sort the index."""
        if self.files is not None:
            self.files.close(sort=sort)
            self.files = None
