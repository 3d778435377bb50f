"""Politeness: one download slot for the site's host aliases; robots.txt Crawl-delay; web archives.

Scrapy keeps a download slot (concurrency, delay) per host name, so baonamdinh.vn and
baonamdinh.com.vn would each get CONCURRENT_REQUESTS_PER_DOMAIN requests: SiteSlotMiddleware
puts every request to the site into one slot. Scrapy's RobotsTxtMiddleware obeys robots.txt's
rules but not its Crawl-delay: CrawlDelayMiddleware reads every robots.txt response that passes
through the downloader and keeps the slot at least that many seconds apart, after AutoThrottle
has adjusted it.

Web archives (crawler/sources/) get one slot each, paced by their own rate settings through the
ArchiveSlots add-on, and ArchiveSlotMiddleware rests a slot after a 429 or 5xx.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.robotstxt import ProtegoRobotParser

from crawler.extract.urls import host_of

logger = logging.getLogger(__name__)


SITE_SLOT = "baonamdinh"


class SiteSlotMiddleware:
    """Downloader middleware sending every request to one of the site's hosts through one slot."""

    def __init__(self, hosts: frozenset[str]):
        self.hosts = hosts

    @classmethod
    def from_crawler(cls, crawler: Any) -> SiteSlotMiddleware:
        settings = crawler.settings
        hosts = {host_of(settings.get("SITE_URL"))}
        hosts |= {h.lower().removeprefix("www.") for h in settings.getlist("SITE_HOST_ALIASES")}
        return cls(frozenset(hosts))

    def process_request(self, request: Request) -> None:
        """Put a request to the site into the site's slot (before the downloader picks a slot)."""
        if host_of(request.url) in self.hosts:
            request.meta.setdefault("download_slot", SITE_SLOT)


class CrawlDelayMiddleware:
    """Downloader middleware keeping each slot's delay at or above its robots.txt Crawl-delay."""

    def __init__(self, crawler: Any, max_delay: float):
        self.crawler = crawler
        self.max_delay = max_delay
        self.user_agent = crawler.settings.get("USER_AGENT")
        self.delays: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlDelayMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured("ROBOTSTXT_OBEY is off")
        return cls(crawler, crawler.settings.getfloat("CRAWL_DELAY_MAX"))

    def process_response(self, request: Request, response: Response) -> Response:
        """Learn a host's Crawl-delay from its robots.txt; re-apply it to the host's slot."""
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        if urlsplit(request.url).path == "/robots.txt" and response.status == 200:
            parser = ProtegoRobotParser.from_crawler(self.crawler, response.body)
            delay = parser.crawl_delay(self.user_agent)
            if delay:
                # Host aliases share one slot (SiteSlotMiddleware): the strictest delay wins.
                self.delays[key] = max(self.delays.get(key, 0.0),
                                       min(float(delay), self.max_delay))
                logger.info("robots.txt of %s asks for Crawl-delay %s s; slot %s uses %s s",
                            host_of(request.url), delay, key, self.delays[key])
                self.crawler.stats.set_value("archive/politeness/crawl_delay", self.delays[key])
        floor = self.delays.get(key)
        slot = downloader.slots.get(key)
        if floor and slot is not None and slot.delay < floor:
            slot.delay = floor
        return response


# --- Web archives ---------------------------------------------------------------------------
# Settings that name each archive's base URLs, and its rate, by slot.
ARCHIVE_ENDPOINTS = {
    "wayback": ("WAYBACK_URL",),
    "commoncrawl": ("COMMONCRAWL_INDEX_URL", "COMMONCRAWL_DATA_URL"),
}
ARCHIVE_RATES = {"wayback": "WAYBACK_RATE", "commoncrawl": "COMMONCRAWL_RATE"}
# Answers after which an archive is given a rest before the next request.
BACKOFF_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 522, 524, 408})


class ArchiveSlots:
    """Add-on: one download slot per web archive, one request at a time, at its rate setting.

    ``WAYBACK_RATE`` and ``COMMONCRAWL_RATE`` are requests per second; the slot's delay is their
    inverse, without jitter. A ``DOWNLOAD_SLOTS`` entry given on the command line wins."""

    def update_settings(self, settings: Any) -> None:
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        for slot, name in ARCHIVE_RATES.items():
            rate = settings.getfloat(name)
            if rate <= 0:
                raise ValueError(f"{name}={rate}: requests per second must be above 0")
            slots.setdefault(slot, {"concurrency": 1, "delay": 1.0 / rate, "jitter": 0.0})
        settings.set("DOWNLOAD_SLOTS", slots, priority="addon")


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Return the wait a Retry-After header asks for (seconds, or an HTTP date), or None."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def backoff_seconds(retry_after: float | None, retries: int, *, base: float, cap: float) -> float:
    """Return how long an archive rests after a refusal: Retry-After as asked, else
    base * 2^retries, at most ``cap``."""
    if retry_after is not None:
        return max(retry_after, 0.0)
    return min(base * (2 ** max(0, retries)), cap)


def archive_prefixes(settings: Any) -> dict[str, str]:
    """Return {base URL with a trailing slash: slot} of the web archives the settings name."""
    prefixes = {}
    for slot, names in ARCHIVE_ENDPOINTS.items():
        for name in names:
            url = (settings.get(name) or "").rstrip("/")
            if url:
                prefixes[url + "/"] = slot
    return prefixes


class ArchiveSlotMiddleware:
    """Downloader middleware: each web archive's requests go through its own slot (ArchiveSlots),
    paced by its rate rather than AutoThrottle; its robots.txt applies only when
    ``SOURCES_OBEY_ROBOTSTXT`` says so. Before RobotsTxtMiddleware (100) and SiteSlotMiddleware."""

    def __init__(self, prefixes: dict[str, str], *, obey_robots: bool):
        self.prefixes = prefixes
        self.obey_robots = obey_robots

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchiveSlotMiddleware:
        settings = crawler.settings
        return cls(archive_prefixes(settings),
                   obey_robots=settings.getbool("SOURCES_OBEY_ROBOTSTXT"))

    def slot_of(self, url: str) -> str | None:
        """Return the archive slot a URL belongs to, or None when it is not an archive's."""
        # Longest prefix first: two archives may share a host under different paths.
        for prefix in sorted(self.prefixes, key=len, reverse=True):
            if url.startswith(prefix) or url + "/" == prefix:
                return self.prefixes[prefix]
        return None

    def process_request(self, request: Request) -> None:
        """Route a request to an archive through that archive's slot."""
        slot = self.slot_of(request.url)
        if slot is None:
            return
        request.meta["download_slot"] = slot
        # The slot's pace is the archive's rate: AutoThrottle must not shorten it.
        request.meta["autothrottle_dont_adjust_delay"] = True
        if not self.obey_robots:
            request.meta.setdefault("dont_obey_robotstxt", True)


class ArchiveBackoffMiddleware:
    """Downloader middleware: an archive's slot rests after a 429 or 5xx (Retry-After honoured,
    else SOURCES_BACKOFF_BASE * 2^retries, at most SOURCES_BACKOFF_MAX) or a failed connection,
    and gets its pace back after an answer that is not a refusal.

    Answers are judged on the response_downloaded signal, as AutoThrottle does: the downloader
    sends it before it takes the slot's next request, so that request already waits. Failed
    connections are judged in process_exception, above RetryMiddleware (550), which makes the
    retries; they wait in the rested slot."""

    def __init__(self, crawler: Any, *, base: float, cap: float):
        self.crawler = crawler
        self.base = base
        self.cap = cap
        self.slot_delays = {slot: float(conf.get("delay", 0.0)) for slot, conf in
                            crawler.settings.getdict("DOWNLOAD_SLOTS").items()}

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchiveBackoffMiddleware:
        settings = crawler.settings
        middleware = cls(crawler, base=settings.getfloat("SOURCES_BACKOFF_BASE"),
                         cap=settings.getfloat("SOURCES_BACKOFF_MAX"))
        crawler.signals.connect(middleware.response_downloaded,
                                signal=signals.response_downloaded)
        return middleware

    def _slot(self, request: Request) -> tuple[str | None, Any]:
        name = request.meta.get("download_slot")
        if name not in ARCHIVE_RATES or self.crawler.engine is None:
            return None, None
        return name, self.crawler.engine.downloader.slots.get(name)

    def _rest(self, request: Request, retry_after: float | None, why: str) -> None:
        name, slot = self._slot(request)
        if slot is None:
            return
        wait = backoff_seconds(retry_after, int(request.meta.get("retry_times", 0)),
                               base=self.base, cap=self.cap)
        slot.delay = max(slot.delay, wait)
        self.crawler.stats.inc_value(f"archive/sources/{name}/backoff")
        logger.info("%s answered %s: %.1f s between its requests until it answers well", name,
                    why, slot.delay)

    def response_downloaded(self, response: Response, request: Request, **kwargs: Any) -> None:
        """Rest the archive's slot after a refusal; restore its pace after a good answer."""
        name, slot = self._slot(request)
        if slot is None:
            return
        if response.status in BACKOFF_STATUSES:
            self._rest(request, retry_after_seconds(response.headers.get(b"Retry-After")),
                       f"HTTP {response.status}")
        elif slot.delay > self.slot_delays.get(name, 0.0):
            slot.delay = self.slot_delays.get(name, 0.0)

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Rest the archive's slot after a timeout or a refused connection."""
        self._rest(request, None, type(exception).__name__)
