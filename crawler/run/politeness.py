"""Politeness: robots.txt by RFC 9309, one download slot for the site's host aliases, robots.txt's
Crawl-delay, and web archives paced by their own rates.

Scrapy keeps a download slot (concurrency, delay) per host name, so baonamdinh.vn and
baonamdinh.com.vn would each get CONCURRENT_REQUESTS_PER_DOMAIN requests: SiteSlotMiddleware
puts every request to the site into one slot. Scrapy's RobotsTxtMiddleware obeys robots.txt's
rules but not its Crawl-delay: CrawlDelayMiddleware reads every robots.txt response that passes
through the downloader and keeps the slot at least that many seconds apart, after AutoThrottle
has adjusted it. Scrapy's middleware also allows everything when robots.txt answers 5xx or not at
all, and waits RETRY_TIMES x DOWNLOAD_TIMEOUT for a robots.txt that hangs: RobotsPolicyMiddleware
(in its place) follows RFC 9309 (2xx: the rules; 4xx: everything allowed; 5xx or no answer:
nothing allowed, for the run) with its own short budget (ROBOTSTXT_TIMEOUT, ROBOTSTXT_RETRY_TIMES),
and records a robots.txt that forbids the crawl, or a site that does not answer, as the run's
exit status (crawler/run/outcome.py).

Web archives (crawler/sources/) get one slot each, paced by their own rate settings through the
ArchiveSlots add-on, and ArchiveBackoffMiddleware rests a slot after a 429 or 5xx. The same
middleware honours the site's own Retry-After on a 429 or 503 (RFC 6585, RFC 9110): the site's
whole slot waits as asked, up to SITE_RETRY_AFTER_MAX; a page the site asks us to leave for
longer is not retried but fails with ``SiteAskedToWait``, which the spider makes a retryable
reject for the next run, and the run report says the site asked us to slow down.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    IgnoreRequest,
    NotConfigured,
)
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import ProtegoRobotParser, RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet import defer
from twisted.internet import error as net_error

from crawler.run.outcome import ExitStatus, problems_of, report_problem
from crawler.site.urls import ascii_digits, host_of, site_hosts

logger = logging.getLogger(__name__)


SITE_SLOT = "baonamdinh"
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"
# Answers whose Retry-After the site's slot honours (RFC 6585 for 429, RFC 9110 for 503).
RETRY_AFTER_STATUSES = frozenset({429, 503})
RETRY_AFTER_STATS = "archive/politeness/retry_after/"
# Failures that mean nothing answers at the site's address at all (as opposed to a server that
# answers badly or hangs): the site is unreachable.
UNREACHABLE = (CannotResolveHostError, DownloadConnectionRefusedError,
               net_error.ConnectionRefusedError, net_error.DNSLookupError, net_error.NoRouteError,
               net_error.ConnectError)


class RobotsForbidden(IgnoreRequest):
    """A request robots.txt forbids: the site's own rule, not a failure of the run."""


class SiteAskedToWait(IgnoreRequest):
    """The site answered 429 or 503 with a Retry-After longer than SITE_RETRY_AFTER_MAX."""


class RobotsPolicyMiddleware(RobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware, by RFC 9309 for errors, with its own time budget.

    It keeps its own parsers and stats handle: of its parent it uses only the public
    ``process_request`` (which asks ``robot_parser``, overridden here) and ``process_request_2``
    (the rules applied), so a change to the parent's private attributes cannot break it."""

    def __init__(self, crawler: Any):
        super().__init__(crawler)
        settings = crawler.settings
        self.timeout = settings.getfloat("ROBOTSTXT_TIMEOUT")
        self.retries = settings.getint("ROBOTSTXT_RETRY_TIMES")
        self.site = site_hosts(settings.get("SITE_URL"), settings.getlist("SITE_HOST_ALIASES"))
        self.stats = crawler.stats
        self.parser_class = load_object(settings.get("ROBOTSTXT_PARSER"))
        self.parsers: dict[str, RobotParser | defer.Deferred[RobotParser]] = {}

    async def robot_parser(self, request: Request) -> RobotParser | None:
        """Return the parser of a request's host, fetching its robots.txt once (RFC 9309)."""
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self.parsers:
            self.parsers[netloc] = defer.Deferred()
            robots_request = Request(
                f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                callback=NO_CALLBACK,
                meta={"dont_obey_robotstxt": True, "download_timeout": self.timeout,
                      "max_retry_times": self.retries})
            try:
                response = await self.crawler.engine.download_async(robots_request)
            except Exception as exc:  # noqa: BLE001 - every failure is "unreachable" here
                self._unreachable(exc, netloc)
            else:
                await self._parsed(self._by_status(response, netloc), netloc, request)
            self.stats.inc_value("robotstxt/request_count")
        parser = self.parsers[netloc]
        if isinstance(parser, defer.Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _parsed(self, response: Response, netloc: str, request: Request) -> None:
        """Parse a robots.txt, tell the robots_parsed signal, hand it to the requests waiting."""
        self.stats.inc_value("robotstxt/response_count")
        self.stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        parser = build_from_crawler(self.parser_class, self.crawler, response.body)
        await self.crawler.signals.send_catch_log_async(signal=signals.robots_parsed,
                                                        robotparser=parser, request=request)
        self._settle(netloc, parser)

    def _settle(self, netloc: str, parser: RobotParser) -> None:
        waiting = self.parsers[netloc]
        self.parsers[netloc] = parser
        assert isinstance(waiting, defer.Deferred)
        waiting.callback(parser)

    def _by_status(self, response: Response, netloc: str) -> Response:
        """Return the robots.txt to obey for a response: 4xx allows all, 5xx forbids all.

        (A 3xx left after the redirect middleware's hops is "unavailable", as a 4xx.)"""
        if response.status >= 500:
            self._problem(ExitStatus.ROBOTS_FORBIDS, netloc,
                          f"robots.txt of {netloc} answered HTTP {response.status}: by RFC 9309 "
                          f"nothing may be fetched from {netloc} in this run")
            return response.replace(body=DISALLOW_ALL)
        if response.status >= 300:
            logger.info("robots.txt of %s answers HTTP %s: everything is allowed (RFC 9309)",
                        netloc, response.status)
            return response.replace(body=b"")
        return response

    def _unreachable(self, exc: Exception, netloc: str) -> None:
        """robots.txt could not be fetched: nothing may be fetched from the host in this run."""
        if isinstance(exc, UNREACHABLE):
            status, what = ExitStatus.SITE_UNREACHABLE, "the site is unreachable"
        else:
            status, what = ExitStatus.ROBOTS_FORBIDS, "robots.txt did not answer"
        self._problem(status, netloc, f"{what}: {netloc}/robots.txt failed after "
                      f"{self.retries + 1} attempt(s), each timed out at {self.timeout:g} s "
                      f"({type(exc).__name__}: {exc}); by RFC 9309 nothing may be fetched from "
                      f"{netloc} in this run")
        self.stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._settle(netloc, build_from_crawler(self.parser_class, self.crawler, DISALLOW_ALL))

    def _problem(self, status: ExitStatus, netloc: str, message: str) -> None:
        if host_of(f"http://{netloc}/") in self.site:
            logger.error("%s", message)
            report_problem(self.stats, status, message)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        """Obey the rules; a home page forbidden means robots.txt forbids the crawl."""
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest as exc:
            url = urlparse_cached(request)
            if url.path in ("", "/") and host_of(request.url) in self.site and not any(
                    p["status"] in (ExitStatus.ROBOTS_FORBIDS, ExitStatus.SITE_UNREACHABLE)
                    for p in problems_of(self.stats)):
                self._problem(ExitStatus.ROBOTS_FORBIDS, url.netloc,
                              f"robots.txt of {url.netloc} forbids the home page {request.url}: "
                              "the crawl cannot start")
            raise RobotsForbidden(str(exc)) from exc


class SiteSlotMiddleware:
    """Downloader middleware sending every request to one of the site's hosts through one slot."""

    def __init__(self, hosts: frozenset[str]):
        self.hosts = hosts

    @classmethod
    def from_crawler(cls, crawler: Any) -> SiteSlotMiddleware:
        settings = crawler.settings
        return cls(site_hosts(settings.get("SITE_URL"), settings.getlist("SITE_HOST_ALIASES")))

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
            # "jitter" from Scrapy 2.19, "randomize_delay" before it (2.19 reads jitter first).
            slots.setdefault(slot, {"concurrency": 1, "delay": 1.0 / rate, "jitter": 0.0,
                                    "randomize_delay": False})
        settings.set("DOWNLOAD_SLOTS", slots, priority="addon")


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Return the wait a Retry-After header asks for (seconds, or an HTTP date), or None."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if ascii_digits(text):
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
    and gets its pace back after an answer that is not a refusal. The site's slot rests after a
    429 or 503 that carries a Retry-After, as long as asked up to SITE_RETRY_AFTER_MAX; a page
    the site asks us to leave for longer fails at once with SiteAskedToWait (not retried).

    Answers are judged on the response_downloaded signal, as AutoThrottle does: the downloader
    sends it before it takes the slot's next request, so that request already waits. Failed
    connections are judged in process_exception, above RetryMiddleware (550), which makes the
    retries; they wait in the rested slot."""

    def __init__(self, crawler: Any, *, base: float, cap: float, site_cap: float):
        self.crawler = crawler
        self.base = base
        self.cap = cap
        self.site_cap = site_cap
        self.slot_delays = {slot: float(conf.get("delay", 0.0)) for slot, conf in
                            crawler.settings.getdict("DOWNLOAD_SLOTS").items()}
        # The site's pace (delay, jitter) before it asked us to wait, and since when it rests.
        self.site_pace: tuple[float, float] | None = None
        self.site_rested_at = self.site_rest = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchiveBackoffMiddleware:
        settings = crawler.settings
        middleware = cls(crawler, base=settings.getfloat("SOURCES_BACKOFF_BASE"),
                         cap=settings.getfloat("SOURCES_BACKOFF_MAX"),
                         site_cap=settings.getfloat("SITE_RETRY_AFTER_MAX"))
        crawler.signals.connect(middleware.response_downloaded,
                                signal=signals.response_downloaded)
        return middleware

    def _slot(self, request: Request) -> tuple[str | None, Any]:
        name = request.meta.get("download_slot")
        if (name not in ARCHIVE_RATES and name != SITE_SLOT) or self.crawler.engine is None:
            return None, None
        return name, self.crawler.engine.downloader.slots.get(name)

    def _rest(self, request: Request, retry_after: float | None, why: str) -> None:
        name, slot = self._slot(request)
        if slot is None or name == SITE_SLOT:
            return
        wait = backoff_seconds(retry_after, int(request.meta.get("retry_times", 0)),
                               base=self.base, cap=self.cap)
        slot.delay = max(slot.delay, wait)
        self.crawler.stats.inc_value(f"archive/sources/{name}/backoff")
        logger.info("%s answered %s: %.1f s between its requests until it answers well", name,
                    why, slot.delay)

    def response_downloaded(self, response: Response, request: Request, **kwargs: Any) -> None:
        """Rest a slot after a refusal; restore its pace after a good answer."""
        name, slot = self._slot(request)
        if slot is None:
            return
        if name == SITE_SLOT:
            self._site_answer(response, request, slot)
        elif response.status in BACKOFF_STATUSES:
            self._rest(request, retry_after_seconds(response.headers.get(b"Retry-After")),
                       f"HTTP {response.status}")
        elif slot.delay > self.slot_delays.get(name, 0.0):
            _pace_back(slot, self.slot_delays.get(name, 0.0), _jitter(slot))

    def _site_wait(self, response: Response) -> float | None:
        if response.status not in RETRY_AFTER_STATUSES:
            return None
        return retry_after_seconds(response.headers.get(b"Retry-After"))

    def _site_answer(self, response: Response, request: Request, slot: Any) -> None:
        """Slow the site's whole slot as its Retry-After asks (up to SITE_RETRY_AFTER_MAX);
        give it its pace back once a request sent after that answers otherwise."""
        wait = self._site_wait(response)
        now = time.monotonic()
        if wait is None:
            if self.site_pace is None:
                return
            sent = now - float(request.meta.get("download_latency") or 0.0)
            if sent >= self.site_rested_at:
                _pace_back(slot, *self.site_pace)
                self.site_pace = None
            else:
                # An answer to a request sent before the site asked: AutoThrottle (whose
                # handler runs first) may have shortened the rest on it.
                slot.delay = max(slot.delay, self.site_rest)
                _set_jitter(slot, 0.0)
            return
        stats = self.crawler.stats
        stats.inc_value(RETRY_AFTER_STATS + "asked")
        stats.max_value(RETRY_AFTER_STATS + "longest", wait)
        if self.site_pace is None:
            self.site_pace = (slot.delay, _jitter(slot))
        # As long as asked, not a random part of it (the slot's jitter would take up to half).
        slot.delay = max(slot.delay, min(wait, self.site_cap))
        _set_jitter(slot, 0.0)
        self.site_rested_at, self.site_rest = now, slot.delay
        log = logger.warning if stats.get_value(RETRY_AFTER_STATS + "asked") == 1 else logger.info
        log("the site asked us to slow down: HTTP %s with Retry-After %g s for %s; %.1f s "
            "between its requests until it answers well (SITE_RETRY_AFTER_MAX=%g s)",
            response.status, wait, request.url, slot.delay, self.site_cap)

    def process_response(self, request: Request, response: Response) -> Response:
        """Fail at once a page of the site that asks us to wait longer than we do."""
        if request.meta.get("download_slot") != SITE_SLOT:
            return response
        wait = self._site_wait(response)
        if wait is None or wait <= self.site_cap or urlsplit(request.url).path == "/robots.txt":
            return response
        self.crawler.stats.inc_value(RETRY_AFTER_STATS + "refused")
        raise SiteAskedToWait(f"the site asked us to wait {wait:g} s (HTTP {response.status}, "
                              f"Retry-After), more than SITE_RETRY_AFTER_MAX={self.site_cap:g} "
                              "s: left for the next run")

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Rest the archive's slot after a timeout or a refused connection."""
        self._rest(request, None, type(exception).__name__)


def _pace_back(slot: Any, delay: float, jitter: float) -> None:
    """Give a rested slot its pace back, at once: the downloader has already scheduled its next
    request a whole rest after the last one, and holds the queue until then; that wait is
    cancelled (Slot.close), and the downloader takes the next request right after the
    response_downloaded signal this runs in."""
    slot.delay = delay
    _set_jitter(slot, jitter)
    close = getattr(slot, "close", None)
    if close is not None:
        close()


def _randomize_flag(slot: Any) -> bool:
    """True for a download slot of Scrapy before 2.19, which has a ``randomize_delay`` flag
    (a delay of 0.5 to 1.5 times its value) where 2.19 has ``jitter`` (a magnitude)."""
    try:
        names = {f.name for f in dataclasses.fields(slot)}
    except TypeError:  # not a dataclass: a stand-in with the attributes we set
        return False
    return "randomize_delay" in names and "jitter" not in names


def _jitter(slot: Any) -> float:
    """A slot's random variation of its delay, as a magnitude, in either Scrapy version."""
    if _randomize_flag(slot):
        return 0.5 if slot.randomize_delay else 0.0
    return float(getattr(slot, "jitter", 0.0))


def _set_jitter(slot: Any, jitter: float) -> None:
    """Set a slot's random variation (0: the delay exactly), in either Scrapy version."""
    if _randomize_flag(slot):
        slot.randomize_delay = bool(jitter)
    else:
        slot.jitter = jitter
