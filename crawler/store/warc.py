"""WarcCaptureMiddleware: each raw response and its request into rolling WARC/1.1 files.

With a CDXJ index beside them.

Layout under ARCHIVE_DIR/raw/:
    baonamdinh-YYYYmmddTHHMMSS-NNNNN.warc.gz   WARC/1.1, one gzip member per record, rolled over
                                                at WARC_MAX_SIZE bytes
    index.cdxj                                  one line per response: SURT, timestamp, JSON;
                                                appended while crawling, sorted when the crawl ends

A write that fails (a full disk, an I/O error) is cut back so that no half record stays, and stops
the run with a storage failure (crawler/run/outcome.py); the response is then dropped, and the
next run fetches it again.

The middleware sits at 950, next to the download handler, so its process_response sees each
response before retry (550), HTTP compression (590) and redirect (600) touch it: 3xx and 5xx are
captured, and bodies are kept with their Content-Encoding as received. Each record is built in
memory and written with one write, then flushed, so a killed crawl leaves every record but
possibly the last one whole. The response record's id, offset, length, status and time go into
``response.meta["archive_capture"]``; the spider makes that time the record's ``fetched_at``, which
is what lets ``python -m crawler reextract`` reproduce the crawl's records byte for byte.

Building the records (warcio's headers, SHA-1 digests, gzip) and writing them is CPU work that
needs nothing from the engine, so with ``WARC_CAPTURE_PROCESS`` (on by default where the crawl
has more than one core) it runs in one helper process (crawler/run/forked.py), which owns the
WARC files and the index: the middleware sends it each response as received (an ``Exchange``)
and awaits its capture, so a response still reaches the spider only once its record is
written, as before. The helper answers in order; what it logs comes back with each answer. If
it dies, the crawl captures in its own process from then on (a WARNING says so); a storage
failure there stops the run as one here does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import io
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.normalise.dates import VN_TZ
from crawler.run import forked
from crawler.run.outcome import stop_for_storage

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
        self.stamp = (started or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%S")
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
        lines = sorted(set(index.read_text(encoding="utf-8").splitlines()))
        tmp = index.with_suffix(".cdxj.tmp")
        try:
            tmp.write_text("".join(line + "\n" for line in lines if line.strip()),
                           encoding="utf-8")
            os.replace(tmp, index)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
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


# --- the capture process --------------------------------------------------------------------

_helper: dict[str, Any] = {}


def _start_capture(archive_dir: str, max_size: int, log_level: int
                   ) -> Callable[[Exchange], tuple[Any, ...]]:
    """Initialise the capture process: its writer and its log; return what it does with each
    exchange."""
    _helper.update(writer=CaptureWriter(archive_dir, max_size=max_size),
                   log=forked.LogKeeper.install(log_level), crawl=os.getppid())
    return _capture_here


def _capture_here(exchange: Exchange) -> tuple[Any, ...]:
    """("ok", capture, log) or ("oserror", errno, message, log): a storage failure is the
    crawl's to report, so it travels back as data."""
    try:
        answer: tuple[Any, ...] = ("ok", _helper["writer"].capture(exchange))
    except OSError as exc:
        answer = ("oserror", exc.errno, exc.strerror or str(exc))
    return (*answer, _helper["log"].take())


def _end_capture() -> None:
    """Close the files; sort the index only when the crawl closed us (a killed crawl leaves it
    unsorted, as it did when it captured itself, and its archive free at once)."""
    writer = _helper.get("writer")
    if writer is not None:
        writer.close(sort=os.getppid() == _helper["crawl"])


def capture_process_wanted(settings: Any) -> bool:
    """WARC_CAPTURE_PROCESS: True or False as set; unset, on where processes can be forked and
    the crawl has more than one core."""
    value = settings.get("WARC_CAPTURE_PROCESS")
    if value is None or value == "":
        return forked.can_fork() and forked.usable_cores() > 1
    return settings.getbool("WARC_CAPTURE_PROCESS") and forked.can_fork()


class WarcCaptureMiddleware:
    """Downloader middleware: each response from the site, raw, into WARC; its capture in meta."""

    def __init__(self, archive_dir: str, *, max_size: int, capture_images: bool, stats: Any,
                 crawler: Any = None, in_process: bool = True):
        self.archive_dir = Path(archive_dir)
        self.max_size = max_size
        self.capture_images = capture_images
        self.stats = stats
        self.crawler = crawler
        self.in_process = in_process
        self.local: CaptureWriter | None = None
        self.helper: forked.ForkedPool | None = None
        self._retired: asyncio.Future[None] | None = None
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcCaptureMiddleware:
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED"):
            raise NotConfigured("WARC_ENABLED is off")
        middleware = cls(settings.get("ARCHIVE_DIR"), max_size=settings.getint("WARC_MAX_SIZE"),
                         capture_images=settings.getbool("WARC_CAPTURE_IMAGES"),
                         stats=crawler.stats, crawler=crawler,
                         in_process=not capture_process_wanted(settings))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    async def spider_opened(self) -> None:
        """Fork the capture process (now, before the crawl has threads) and connect to it."""
        if self.in_process or self.helper is not None:
            return
        level = forked.crawl_log_level(self.crawler.settings) if self.crawler is not None \
            else logging.INFO
        self.helper = forked.ForkedPool(1, "WARC capture: process",
                                 functools.partial(_start_capture, str(self.archive_dir),
                                                   self.max_size, level), _end_capture,
                                 name="warc-capture")
        await self.helper.start()
        logger.info("WARC capture: in process %s (WARC_CAPTURE_PROCESS)", self.helper.pids[0])

    async def spider_closed(self) -> None:
        """Close the WARC files and sort the index (the capture process does so as it ends)."""
        if self.helper is not None:
            helper, self.helper = self.helper, None
            await helper.close()
        if self.local is not None:
            self.local.close()
            self.local = None

    async def process_response(self, request: Request, response: Response) -> Response:
        """Write the response and its request as WARC records; put the capture into meta."""
        if not self.capture_images and is_image(response):
            self.stats.inc_value("archive/warc/skipped_images")
            return response
        if self.failed:
            raise IgnoreRequest("not captured: the archive's storage failed earlier in this run")
        exchange = Exchange.of(request, response, dt.datetime.now(VN_TZ).replace(microsecond=0))
        try:
            capture = await self._capture(exchange)
        except OSError as exc:
            self.failed = True
            if self.crawler is not None:
                stop_for_storage(self.crawler, exc, f"writing the WARC capture of {request.url}")
            raise IgnoreRequest(f"not captured: {exc}") from exc
        request.meta["archive_capture"] = capture
        self.stats.inc_value("archive/warc/records", 2)
        self.stats.inc_value("archive/warc/responses")
        self.stats.inc_value(f"archive/warc/status/{response.status}")
        self.stats.inc_value("archive/warc/bytes", capture["length"])
        return response

    async def _capture(self, exchange: Exchange) -> dict[str, Any]:
        """Return the capture of an exchange, written by the capture process or else here."""
        helper = self.helper
        if helper is not None:
            try:
                kind, *answer, records = await helper.call(exchange)
            except forked.HelperDied as exc:
                if self.helper is helper:
                    logger.error("WARC capture: %s; capturing in the crawl's own process from "
                                 "now on", exc)
                    self.helper = None
                    self._retired = asyncio.ensure_future(helper.close())
                await self._retired  # one writer of the files at a time
            else:
                forked.emit_records(records)
                if kind == "oserror":
                    raise OSError(*answer)
                return answer[0]
        if self.local is None:
            self.local = CaptureWriter(self.archive_dir, max_size=self.max_size)
        return self.local.capture(exchange)
