"""WarcCaptureMiddleware: each raw response and its request into WARC (crawler/store/warc.py),
its capture into the response's meta.

The middleware sits at 950, next to the download handler, so its process_response sees each
response before retry (550), HTTP compression (590) and redirect (600) touch it: 3xx and 5xx are
captured, and bodies are kept with their Content-Encoding as received. The response record's id,
offset, length, status and time go into ``response.meta["archive_capture"]``; the spider makes
that time the record's ``fetched_at``, which is what lets ``python -m crawler reextract``
reproduce the crawl's records byte for byte. A write that fails (a full disk, an I/O error)
stops the run with a storage failure (crawler/run/outcome.py); the response is then dropped, and
the next run fetches it again.

Building the records (warcio's headers, SHA-1 digests, gzip) and writing them is CPU work that
needs nothing from the engine, so with ``WARC_CAPTURE_PROCESS`` (on by default where the crawl
has more than one core) it runs in one helper process (crawler/process/forked.py), which owns
the WARC files and the index: the middleware sends it each response as received (an
``Exchange``) and awaits its capture, so a response still reaches the spider only once its
record is written, as before. The helper answers in order; what it logs comes back with each
answer. If it dies, the crawl captures in its own process from then on (a WARNING says so); a
storage failure there stops the run as one here does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from crawler.normalise.dates import VN_TZ
from crawler.process import forked
from crawler.run.outcome import stop_for_storage
from crawler.store.warc import CaptureWriter, Exchange, is_image

logger = logging.getLogger(__name__)

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
