"""The baonamdinh spider: walks the home page and every listing, fetches each wanted article once.

Modes (``-a mode=``): ``nightly`` (default) fetches what is new, stops paging a listing it has
walked before once it meets articles already archived, and re-checks recent ones for edits;
``backfill`` walks listings back to ``-a since=`` and fetches only articles inside
``since``..``until``, bounded before download by the URL's month and the listing's date. The live
crawl also reads the site's sitemaps and feeds, where there are any.

Sources (``-a source=``): ``live`` (default) is the site itself; ``wayback`` and ``commoncrawl``
backfill from a web archive instead: list the captures of every host alias in the archive's
index, keep one per article id (SOURCES_CAPTURE_PICK), skip what is archived, then fetch each
capture and send it through the same extraction and pipelines as a live page.

Extraction is in crawler/extract/, the sources' requests and answers in crawler/sources/; this
file only decides what to fetch, and remembers at the end which listings it walked: a listing
counts as walked only when every article it listed is archived or finally rejected
(crawler/store/state.py). Article links on hosts that are not the site's aliases are counted
(stats ``archive/links/...``, the run report's ``links_dropped``); a home page (or an archive's
index) that cannot be fetched is recorded as the site unreachable (crawler/run/outcome.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import difflib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import DontCloseSpider, DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.extract.html import looks_truncated
from crawler.extract.listings import ListingEntry, listing_key, parse_listing
from crawler.extract.response import item_from_response, now_iso, read_page
from crawler.extract.urls import ArticleRef, host_of, is_site_url, parse_article_url, site_hosts
from crawler.items import RejectItem
from crawler.normalise.dates import VN_TZ, DateError, parse_published
from crawler.run.outcome import ExitStatus, is_storage_error, report_problem, stop_for_storage
from crawler.sources import (
    LIVE,
    SOURCES,
    WAYBACK,
    Capture,
    CapturePicker,
    commoncrawl,
    fetched_at_of,
    origin_of,
    query_prefixes,
    sitemaps,
    wayback,
)
from crawler.sources.pages import page_of
from crawler.store.state import CrawlState

MODES = ("nightly", "backfill")
# Examples of dropped article links kept for the run report.
DROPPED_LINK_EXAMPLES = 5
# Article requests follow redirects themselves, so that one off the site or in a loop becomes a
# reject instead of being dropped without a word by the offsite middleware or the dupefilter.
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_ARTICLE_REDIRECTS = 5
ARTICLE_PRIORITY = 1


@dataclass(frozen=True)
class CrawlOptions:
    """The spider arguments, parsed and validated once."""

    # Every -a name the spider knows; any other is a usage error (a typo must not run a crawl).
    ARGUMENTS: ClassVar[tuple[str, ...]] = ("mode", "since", "until", "channels", "source")

    mode: str = "nightly"
    since: dt.date | None = None
    until: dt.date | None = None
    channels: frozenset[str] | None = None
    source: str = LIVE

    @classmethod
    def parse(cls, **args: str | None) -> CrawlOptions:
        """Return options from ``-a`` strings; raise ValueError with a clear message when bad."""
        unknown = sorted(set(args) - set(cls.ARGUMENTS))
        if unknown:
            name = unknown[0]
            close = difflib.get_close_matches(name, cls.ARGUMENTS, n=1)
            hint = f" (did you mean -a {close[0]}=?)" if close else ""
            raise ValueError(f"-a {name}={args[name]}: unknown argument{hint}; known: "
                             f"{', '.join(cls.ARGUMENTS)}")
        mode, since, until, channels, source = (args.get(name) for name in cls.ARGUMENTS)
        mode = (mode or "nightly").strip().lower()
        if mode not in MODES:
            raise ValueError(f"-a mode={mode!r}: expected one of {', '.join(MODES)}")
        source = (source or LIVE).strip().lower()
        if source not in SOURCES:
            raise ValueError(f"-a source={source!r}: expected one of {', '.join(SOURCES)}")
        if source != LIVE and mode != "backfill":
            raise ValueError(f"-a source={source} reads a web archive, which is a backfill: "
                             "give -a mode=backfill too")
        start, end = _date_arg("since", since), _date_arg("until", until)
        if start and end and start > end:
            raise ValueError(f"-a since={since} is after -a until={until}")
        chosen = None
        if channels is not None:
            chosen = frozenset(c.strip().strip("/").lower() for c in channels.split(",")
                               if c.strip())
            if not chosen:
                raise ValueError("-a channels= is empty: give channel ids or category slugs, "
                                 "comma-separated")
        return cls(mode=mode, since=start, until=end, channels=chosen, source=source)

    def month_in_range(self, month: str) -> bool:
        """True when a YYYYMM month overlaps since..until."""
        if self.since and month < self.since.strftime("%Y%m"):
            return False
        return not (self.until and month > self.until.strftime("%Y%m"))

    def date_in_range(self, day: dt.date) -> bool:
        """True when a date lies in since..until."""
        return not ((self.since and day < self.since) or (self.until and day > self.until))

    def wants_section(self, section: str) -> bool:
        """True when a channel id or category slug is among the chosen ones (or none was chosen)."""
        return self.channels is None or section.lower() in self.channels


def _date_arg(name: str, value: str | None) -> dt.date | None:
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"-a {name}={value!r}: expected a date as YYYY-MM-DD") from None


class BaoNamDinhSpider(scrapy.Spider):
    """Crawls baonamdinh.vn (or SITE_URL) into ARCHIVE_DIR through the archive pipelines."""

    name = "baonamdinh"
    # Deleted articles answer 404/410: they become reject records, not silent drops.
    handle_httpstatus_list = [404, 410]

    def __init__(self, **kwargs: Any):
        options = {name: kwargs.pop(name) for name in list(kwargs) if not name.startswith("_")
                   and name != "name"}
        super().__init__(**kwargs)
        self.options = CrawlOptions.parse(**options)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> BaoNamDinhSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.site_url = settings.get("SITE_URL").rstrip("/")
        spider.hosts = site_hosts(spider.site_url, settings.getlist("SITE_HOST_ALIASES"))
        spider.allowed_domains = sorted(spider.hosts)
        # Stats do not exist yet: a failure to open the state is reported when the run starts,
        # and the run then fetches nothing.
        spider.startup_error = None
        try:
            spider.state = CrawlState(settings.get("ARCHIVE_DIR"),
                                      timeout=settings.getfloat("ARCHIVE_DB_TIMEOUT"))
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            spider.state, spider.startup_error = None, f"opening the archive's state: {exc}"
            spider.resuming, spider.recheck_from = False, None
            return spider
        spider.margin = settings.getint("NIGHTLY_STOP_AFTER_KNOWN")
        spider.recheck_days = settings.getint("NIGHTLY_RECHECK_DAYS")
        spider.max_truncated_retries = settings.getint("RETRY_TIMES")
        spider.max_dropped_links = settings.getint("REPORT_LINKS_DROPPED_MAX")
        spider.seen_ids = set()
        # Listings walked to their end in this run, and the articles each listing showed: at
        # the end a listing counts as walked only if all of those are archived or finally
        # rejected (their articles may still be in flight when the last page is parsed).
        spider.walked_to_end = set()
        spider.listed = {}
        # Article links on hosts that are not aliases: URL -> the listing that showed it.
        spider.dropped_links = {}
        # After a killed run, no listing is trusted to stop early: walk them all (cheaply:
        # archived articles are skipped without a request) so nothing between is lost.
        spider.resuming = spider.state.begin_run()
        if spider.resuming and spider.options.source == LIVE:
            spider.logger.warning("the previous run did not finish: walking every listing to "
                                  "its end to resume")
        spider.recheck_from = None
        # Articles each source found in this run, by URL month: the run report's coverage table.
        spider.found_by_month = Counter()
        spider._found = set()
        spider.sitemap_locations = (settings.getlist("SITEMAP_LOCATIONS")
                                    if settings.getbool("SITEMAP_ENABLED") else [])
        spider.sitemap_floor = spider._sitemap_floor()
        # Articles a sitemap or feed lists wait until the listings are done: a listing that shows
        # the same article gives it its time of day, which the page may hide.
        spider.sitemap_pending = []
        spider.sitemaps_asked = False
        spider.robots_timeout = settings.getfloat("ROBOTSTXT_TIMEOUT")
        if spider.options.source != LIVE:
            spider._open_archive_source(settings)
        else:
            crawler.signals.connect(spider.sitemap_idle, signal=signals.spider_idle)
        return spider

    def _open_archive_source(self, settings: Any) -> None:
        """Prepare a backfill from a web archive: its addresses, its hosts, the capture choice."""
        self.wayback_url = settings.get("WAYBACK_URL").rstrip("/")
        self.wayback_page_size = settings.getint("WAYBACK_PAGE_SIZE")
        self.wayback_collapse = settings.get("WAYBACK_COLLAPSE")
        if self.wayback_collapse not in wayback.COLLAPSES:
            raise ValueError(f"WAYBACK_COLLAPSE={self.wayback_collapse!r}: expected one of "
                             f"{', '.join(wayback.COLLAPSES)}")
        self.cc_index_url = settings.get("COMMONCRAWL_INDEX_URL").rstrip("/")
        self.cc_data_url = settings.get("COMMONCRAWL_DATA_URL").rstrip("/")
        self.cc_crawls = [c.strip() for c in settings.getlist("COMMONCRAWL_CRAWLS") if c.strip()]
        self.captures = CapturePicker(prefer=settings.get("SOURCES_CAPTURE_PICK"),
                                      keep=settings.getint("SOURCES_CAPTURE_TRIES"))
        until = (settings.get("SOURCES_CAPTURED_UNTIL") or "").strip()
        try:
            self.captured_until = dt.date.fromisoformat(until) if until else None
        except ValueError:
            raise ValueError(f"SOURCES_CAPTURED_UNTIL={until!r}: expected a date as "
                             "YYYY-MM-DD") from None
        archive_hosts = {urlsplit(u).hostname or "" for u in
                         (self.wayback_url, self.cc_index_url, self.cc_data_url)}
        self.allowed_domains = sorted(set(self.allowed_domains) | archive_hosts - {""})
        # Index queries under way, plus one for start() itself until it has sent them all.
        self.index_pending = 1
        self.index_done: asyncio.Event | None = None
        self.resume_keys: set[tuple[str, str]] = set()

    def _sitemap_floor(self) -> dt.date | None:
        """A sitemap last changed before this date holds nothing this run wants.

        A backfill wants nothing published before since; a nightly run nothing older than what
        it re-checks (by the site's clock: the newest archived date), except changes, which make
        a sitemap's lastmod recent."""
        if self.options.mode == "backfill":
            return self.options.since
        if self.resuming:
            return None
        row = self.state.db.execute("SELECT MAX(published_date) FROM articles").fetchone()
        if not row or not row[0]:
            return None
        return dt.date.fromisoformat(row[0]) - dt.timedelta(days=max(self.recheck_days, 1))

    def _count_found(self, source: str, ref: ArticleRef) -> None:
        if (source, ref.id) not in self._found:
            self._found.add((source, ref.id))
            self.found_by_month[(source, f"{ref.month[:4]}-{ref.month[4:]}")] += 1

    def _count_reconciliation(self) -> None:
        """Put what reconciling the state with the files found into the stats (run report)."""
        found = self.state.reconciliation
        stats = self.crawler.stats
        for name, value in (("adopted", len(found.adopted)), ("lost", len(found.lost)),
                            ("fallen_back", len(found.fallen_back)),
                            ("damaged_lines", len(found.bad_lines)),
                            ("missing_files", found.missing_files),
                            ("quarantine_files", found.quarantine_files),
                            ("rebuilt_from", str(found.rebuilt_from or ""))):
            if value:
                stats.set_value(f"archive/reconcile/{name}", value)

    def _recheck_from(self) -> dt.date | None:
        """Articles published on or after this date are re-fetched for edits (nightly only)."""
        if self.options.mode != "nightly" or self.recheck_days <= 0:
            return None
        row = self.state.db.execute("SELECT MAX(published_date) FROM articles").fetchone()
        if not row or not row[0]:
            return None
        return dt.date.fromisoformat(row[0]) - dt.timedelta(days=self.recheck_days)

    def closed(self, reason: str) -> None:
        if self.state is None:
            return
        try:
            self._settle_listings(reason)
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            stop_for_storage(self.crawler, exc, "recording the listings walked")
        finally:
            self.state.close()

    def _settle_listings(self, reason: str) -> None:
        """Record the listings walked (only if every article they listed is archived or finally
        rejected) and reopen those that lost an article; end the run if it finished."""
        over = len(self.dropped_links) > self.max_dropped_links
        keep_open = frozenset(self.dropped_links.values()) if over else frozenset()
        outcome = self.state.settle_listings(self.listed, self.walked_to_end, now_iso(),
                                             finished=reason == "finished", keep_open=keep_open)
        stats = self.crawler.stats
        for name, keys in outcome.items():
            if keys:
                stats.set_value(f"archive/listings/{name}", len(keys))
        if outcome["reopened"]:
            self.logger.warning("listings %s lost articles in this run (not archived, no reject"
                                "%s): the next nightly walks them to their end",
                                ", ".join(outcome["reopened"]),
                                ", or links dropped" if keep_open else "")
        if outcome["open"]:
            self.logger.info("listings %s were walked to their end but some of their articles "
                             "are not archived yet; they stay open", ", ".join(outcome["open"]))
        if reason == "finished":
            self.state.end_run()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.state is None:
            report_problem(self.crawler.stats, ExitStatus.STORAGE_FAILURE, self.startup_error)
            self.logger.error("STORAGE FAILURE %s: nothing is fetched", self.startup_error)
            return
        self._count_reconciliation()
        self.recheck_from = self._recheck_from()
        if self.options.source != LIVE:
            async for request in self._archive_start():
                yield request
            return
        yield scrapy.Request(self.site_url + "/", callback=self.parse_home,
                             errback=self.listing_failed)
        # Rejects whose cause may have passed (5xx, timeouts, truncated pages, a date ahead of
        # our clock, a line lost from the files) get another go, with the listing time they
        # were found with.
        for url, listing_raw in self.state.retryable_rejects():
            ref = parse_article_url(url)
            if ref and self.options.month_in_range(ref.month) and ref.id not in self.seen_ids:
                self.seen_ids.add(ref.id)
                self.crawler.stats.inc_value("archive/requests/retry_rejects")
                yield self._article_request(url, listing_raw)

    # --- listings --------------------------------------------------------------------------

    def _truncated(self, response: Response) -> Iterator[scrapy.Request]:
        """Yield a retry for a home or listing page cut short (a 200 without its end).

        A half page would end a listing's walk early, so it is never used: retried while retries
        last, then logged as an error."""
        self.crawler.stats.inc_value("archive/listings/truncated")
        retry = get_retry_request(response.request, spider=self, reason="truncated_html",
                                  max_retry_times=self.max_truncated_retries)
        if retry is None:
            self.logger.error("listing page %s stayed truncated after retries", response.url)
        else:
            yield retry

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        """Follow every channel and category listing, and the articles the home page shows."""
        if looks_truncated(response.text):
            yield from self._truncated(response)
            return
        self.crawler.stats.set_value("archive/site/home_fetched", 1)
        if self.sitemap_locations and not self.sitemaps_asked:
            # Sitemaps are named in robots.txt, else found at the usual locations (or nowhere).
            # Asked once the home page answered, so only of a site whose robots.txt lets us in,
            # and with robots.txt's own short budget (no retries of a robots.txt that fails).
            self.sitemaps_asked = True
            yield scrapy.Request(self.site_url + "/robots.txt", callback=self.parse_robots,
                                 errback=self.sitemap_failed,
                                 meta={"handle_httpstatus_all": True, "dont_retry": True,
                                       "download_timeout": self.robots_timeout})
        page = parse_listing(response.text, response.url, self.hosts)
        self._count_dropped(page.dropped_links, "/")
        for url in page.listing_urls:
            key = listing_key(url)
            section = key.strip("/").removeprefix("channel/")
            if self.options.wants_section(section):
                yield scrapy.Request(url, callback=self.parse_listing, cb_kwargs={"key": key},
                                     errback=self.listing_failed)
        for entry in page.entries:
            yield from self._consider(entry)

    def parse_listing(self, response: Response, key: str) -> Iterator[scrapy.Request]:
        """Fetch the wanted articles of one listing page, then decide whether to page on."""
        self.crawler.stats.inc_value("archive/requests/listing_pages")
        if looks_truncated(response.text):
            yield from self._truncated(response)
            return
        page = parse_listing(response.text, response.url, self.hosts)
        self._count_dropped(page.dropped_links, key)
        listed = self.listed.setdefault(key, set())
        known = older = 0
        for entry in page.entries:
            day = self._entry_date(entry)
            if day and self.options.since and day < self.options.since:
                older += 1
            outcome = yield from self._consider(entry, day)
            known += outcome == "known"
            if outcome not in ("other-section", "out-of-range"):
                listed.add(entry.ref.id)  # wanted: it must end archived or finally rejected
        complete_before = not self.resuming and self.state.listing_complete(key)
        if page.entries and older == len(page.entries):
            self.logger.info("listing %s: reached %s, before since=%s; stop paging", key,
                             self._oldest(page), self.options.since)
        elif self.options.mode == "nightly" and complete_before and known >= self.margin:
            self.logger.debug("listing %s: %s archived articles on %s; stop paging", key, known,
                              response.url)
            self.crawler.stats.inc_value("archive/listings/stopped_early")
        elif page.next_url:
            yield scrapy.Request(page.next_url, callback=self.parse_listing,
                                 cb_kwargs={"key": key}, errback=self.listing_failed)
        elif page.entries:
            # Walked to the end: from now on, a nightly run may stop at what it already holds.
            if not self.options.since:
                self.walked_to_end.add(key)
            self.crawler.stats.inc_value("archive/listings/walked_to_end")

    def _oldest(self, page: Any) -> str:
        days = [d for e in page.entries if (d := self._entry_date(e))]
        return min(days).isoformat() if days else "?"

    def _entry_date(self, entry: ListingEntry) -> dt.date | None:
        if not entry.time_raw:
            return None
        try:
            # The listing was fetched just now: relative times ("2 giờ trước") resolve against it.
            now = dt.datetime.now(VN_TZ)
            return parse_published(entry.time_raw, now=now, cms=entry.ref.cms).date
        except DateError:
            return None

    def _consider(self, entry: ListingEntry, day: dt.date | None = None
                  ) -> Iterator[scrapy.Request]:
        """Yield the request for a listed article if it is wanted; return what was decided."""
        ref = entry.ref
        day = day or self._entry_date(entry)
        if not self.options.wants_section(ref.section):
            return "other-section"
        if not self.options.month_in_range(ref.month) or (day and not
                                                          self.options.date_in_range(day)):
            self.crawler.stats.inc_value("archive/articles/skipped_out_of_range")
            return "out-of-range"
        self._count_found(LIVE, ref)
        if ref.id in self.seen_ids:
            return "seen"
        # A page rejected for good (404, no date, not an article) is not fetched again each night;
        # a backfill, or re-extraction of its raw capture, gives it another chance.
        if self.options.mode == "nightly" and self.state.final_reject(ref.id) is not None:
            self.crawler.stats.inc_value("archive/articles/skipped_rejected")
            return "rejected"
        archived = self.state.archived_date(ref.id)
        if archived is not None:
            published = dt.date.fromisoformat(archived) if archived else day
            recent = self.recheck_from and published and published >= self.recheck_from
            # Each recent article is re-fetched for edits once, on the night after it was
            # archived: a quiet night then costs listing pages only.
            if not recent or self.state.rechecked(ref.id):
                return "known"
            self.state.mark_rechecked(ref.id, now_iso())
            self.crawler.stats.inc_value("archive/articles/rechecked")
        self.seen_ids.add(ref.id)
        if day:
            self.crawler.stats.max_value("archive/progress/newest_date", day.isoformat())
            self.crawler.stats.min_value("archive/progress/reached_date", day.isoformat())
        yield self._article_request(entry.url, entry.time_raw)
        return "requested"

    def _count_dropped(self, links: list[str], key: str) -> None:
        """Count article links on hosts that are not aliases, once each, with a few examples."""
        stats = self.crawler.stats
        for url in links:
            if url in self.dropped_links:
                continue
            self.dropped_links[url] = key
            stats.inc_value("archive/links/dropped")
            stats.inc_value(f"archive/links/dropped_host/{host_of(url)}")
            examples = stats.get_value("archive/links/dropped_examples") or []
            if len(examples) < DROPPED_LINK_EXAMPLES:
                stats.set_value("archive/links/dropped_examples", [*examples, url])
                self.logger.warning("article link on a host that is not an alias of the site "
                                    "(SITE_HOST_ALIASES), not followed: %s (listing %s)", url, key)

    def listing_failed(self, failure: Failure) -> None:
        """A listing page that failed after every retry: counted and logged, the crawl goes on.

        The home page failing means the site is unreachable (or robots.txt forbids it: the
        robots.txt middleware has said so)."""
        self.crawler.stats.inc_value("archive/listings/failed")
        url = failure.request.url
        if failure.check(IgnoreRequest):
            self.logger.warning("listing %s not fetched: %s", url, failure.value)
            return
        self.logger.error("listing %s failed: %s", url, failure.value)
        if url.rstrip("/") == self.site_url:
            report_problem(self.crawler.stats, ExitStatus.SITE_UNREACHABLE,
                           f"the home page {url} could not be fetched: "
                           f"{failure.type.__name__}: {failure.value}")

    # --- articles --------------------------------------------------------------------------

    def _article_request(self, url: str, listing_raw: str | None,
                         hops: tuple[str, ...] = ()) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.article_failed,
            cb_kwargs={"listing_raw": listing_raw, "hops": hops},
            # A hop may revisit a URL the dupefilter has seen: the loop check below stops it.
            dont_filter=bool(hops),
            # Before the next listing page: the queue holds a page's articles, not a backfill's.
            priority=ARTICLE_PRIORITY,
            meta={"dont_redirect": True,
                  "handle_httpstatus_list": [*REDIRECT_STATUSES, *self.handle_httpstatus_list]},
        )

    def _follow_redirect(self, response: Response, listing_raw: str | None,
                         hops: tuple[str, ...]) -> Iterator[Any]:
        """Follow an article's redirect on the site; reject one off the site or in a loop."""
        first = hops[0] if hops else response.url
        location = response.headers.get(b"Location", b"").decode("latin-1").strip()
        target = response.urljoin(location) if location else ""
        chain = " -> ".join((*hops, response.url, target))
        reason, retryable = None, False
        if not target:
            reason = f"redirect without a Location (HTTP {response.status})"
        elif not is_site_url(target, self.hosts):
            reason = f"redirected off the site: {chain}"
        elif target == response.url or (response.url, target) in pairwise((*hops, response.url)) \
                or len(hops) >= MAX_ARTICLE_REDIRECTS:
            # A loop is a hop taken twice (A -> B -> A -> B) or a page redirecting to itself;
            # two host-alias hops in a row (A -> A' -> A, a load balancer's whim) are not.
            reason, retryable = f"redirect loop: {chain}", True
        if reason is None:
            yield self._article_request(target, listing_raw, (*hops, response.url))
            return
        self.crawler.stats.inc_value("archive/articles/bad_redirect")
        self.logger.warning("article %s: %s", first, reason)
        yield RejectItem(url=first, reason=reason, stage="fetch", fetched_at=now_iso(),
                         id=(ref.id if (ref := parse_article_url(first)) else None),
                         retryable=retryable, http_status=response.status,
                         listing_raw=listing_raw)

    def parse_article(self, response: Response, listing_raw: str | None,
                      hops: tuple[str, ...] = ()) -> Iterator[Any]:
        """Yield the page to extract (the item processor makes it an article), or a reject with
        its reason (retrying a truncated page)."""
        if response.status in REDIRECT_STATUSES:
            yield from self._follow_redirect(response, listing_raw, hops)
            return
        self.crawler.stats.inc_value("archive/requests/articles")
        capture = response.meta.get("archive_capture")
        # With a raw capture, its time is the fetch time: re-extraction then reproduces the record.
        fetched_at = (capture or {}).get("fetched_at") or now_iso()
        # Extraction itself is the item processor's (crawler/run/workers.py), off this process.
        item = read_page(response, fetched_at=fetched_at, site_url=self.site_url,
                         listing_raw=listing_raw, capture=capture, hosts=self.hosts)
        if isinstance(item, RejectItem) and item.reason.startswith("truncated"):
            retry = get_retry_request(response.request, spider=self, reason="truncated_html",
                                      max_retry_times=self.max_truncated_retries)
            if retry is not None:
                yield retry
                return
        yield item

    def article_failed(self, failure: Failure) -> Iterator[RejectItem]:
        """Turn an article that failed after every retry into a retryable reject, not a silence."""
        request = failure.request
        response = getattr(failure.value, "response", None)
        hops = request.cb_kwargs.get("hops") or ()
        url = hops[0] if hops else request.url
        reason, retryable = f"fetch failed: {failure.type.__name__}: {failure.value}", True
        # Scrapy cancels a download over DOWNLOAD_MAXSIZE (the message names the limit when the
        # size was announced, and is empty when it was only counted): the same next run.
        if failure.check(DownloadCancelledError) and (
                "max size" in str(failure.value) or not str(failure.value)):
            limit = request.meta.get("download_maxsize",
                                     self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
            reason = f"too large: over DOWNLOAD_MAXSIZE ({limit} bytes)"
            retryable = False
            self.crawler.stats.inc_value("archive/articles/too_large")
        yield RejectItem(
            url=url,
            reason=reason,
            stage="fetch",
            fetched_at=now_iso(),
            id=(ref.id if (ref := parse_article_url(url)) else None),
            retryable=retryable,
            http_status=response.status if response is not None else None,
            listing_raw=request.cb_kwargs.get("listing_raw"),
        )

    # --- sitemaps and feeds (live) -------------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        """Request the sitemaps robots.txt names, and the usual sitemap and feed locations."""
        named = []
        if response.status == 200 and hasattr(response, "text"):
            named = sitemaps.sitemaps_from_robots(response.text, self.site_url + "/")
        usual = [self.site_url + "/" + loc.lstrip("/") for loc in self.sitemap_locations]
        for url in dict.fromkeys([*named, *usual]):
            if not is_site_url(url, self.hosts):
                self.logger.info("robots.txt names a sitemap on another host, not read: %s", url)
                continue
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.sitemap_failed,
                                 meta={"handle_httpstatus_all": True})

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """Follow a sitemap index's sitemaps; consider each article a sitemap or feed lists."""
        stats = self.crawler.stats
        page = (sitemaps.parse_sitemap(response.body, response.url, self.hosts)
                if response.status == 200 else None)
        if page is None:
            # The usual case on a site without sitemaps: a 404 page, or HTML at the location.
            stats.inc_value("archive/sitemaps/absent")
            self.logger.debug("no sitemap or feed at %s (HTTP %s)", response.url, response.status)
            return
        stats.inc_value(f"archive/sitemaps/read/{page.kind}")
        for reason, count in page.skipped.items():
            stats.inc_value(f"archive/sitemaps/skipped/{reason}", count)
        for child, lastmod in page.children:
            if self.sitemap_floor and lastmod and lastmod.date() < self.sitemap_floor:
                stats.inc_value("archive/sitemaps/skipped/unchanged")
                continue
            yield scrapy.Request(child, callback=self.parse_sitemap, errback=self.sitemap_failed,
                                 meta={"handle_httpstatus_all": True})
        known = self.state.sitemap_lastmods([e.ref.id for e in page.entries if e.lastmod])
        stats.inc_value("archive/sitemaps/entries", len(page.entries))
        self.sitemap_pending += [(entry, known.get(entry.ref.id)) for entry in page.entries]
        self.state.remember_sitemap_lastmods([
            (e.ref.id, e.lastmod.astimezone(dt.timezone.utc).isoformat())
            for e in page.entries if e.lastmod])

    def sitemap_idle(self) -> None:
        """Once listings are done, request what only the sitemaps and feeds listed."""
        pending, self.sitemap_pending = self.sitemap_pending, []
        requests = [request for entry, known in pending
                    for request in self._consider_sitemap_entry(entry, known)]
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            self.crawler.stats.inc_value("archive/sitemaps/requested", len(requests))
            raise DontCloseSpider

    def _changed(self, entry: sitemaps.SitemapEntry, known: str | None) -> bool:
        """True when a sitemap says an archived article changed since it was archived: its
        lastmod is later than the one the sitemap showed before (or, the first time, than the
        archived copy's fetch)."""
        if entry.lastmod is None:
            return False
        before = known or self.state.archived_fetched_at(entry.ref.id)
        if before is None:
            return False
        return entry.lastmod > dt.datetime.fromisoformat(before)

    def _consider_sitemap_entry(self, entry: sitemaps.SitemapEntry, known: str | None
                                ) -> Iterator[scrapy.Request]:
        """Request a listed article when it is wanted: new, or changed since it was archived."""
        ref = entry.ref
        if self.options.since and entry.lastmod and entry.lastmod.date() < self.options.since:
            # Last changed before since, so published before it too.
            self.crawler.stats.inc_value("archive/articles/skipped_out_of_range")
            return
        if (ref.id not in self.seen_ids and self.options.wants_section(ref.section)
                and self.options.month_in_range(ref.month)
                and self.state.archived_date(ref.id) is not None and self._changed(entry, known)):
            self._count_found(LIVE, ref)
            self.seen_ids.add(ref.id)
            self.crawler.stats.inc_value("archive/sitemaps/changed_since_archived")
            yield self._article_request(entry.url, None)
            return
        listed = ListingEntry(url=entry.url, ref=ref, time_raw=None, title=None)
        yield from self._consider(listed, entry.published)

    def sitemap_failed(self, failure: Failure) -> None:
        """A sitemap that could not be fetched: noted, the listings carry the crawl."""
        self.crawler.stats.inc_value("archive/sitemaps/failed")
        self.logger.info("sitemap %s failed: %s", failure.request.url, failure.value)

    # --- web archives --------------------------------------------------------------------------

    async def _archive_start(self) -> AsyncIterator[scrapy.Request]:
        """Query the archive's index, wait until every page of it is read, then fetch captures."""
        self.index_done = asyncio.Event()
        if self.options.source == WAYBACK:
            for prefix in query_prefixes(self.hosts, self.options.channels):
                yield self._wayback_index(prefix, None)
        else:
            yield self._index_request(commoncrawl.collinfo_url(self.cc_index_url),
                                      self.parse_collinfo)
        self._index_finished()  # start()'s own share
        await self.index_done.wait()
        source = self.options.source
        stats = self.crawler.stats
        found = self.captures.ids()
        stats.set_value(f"archive/sources/{source}/articles_found", len(found))
        if self.captures.skipped:
            # One page under many articles' URLs is an error or parked-domain page.
            stats.set_value(f"archive/sources/{source}/captures_shared_digest",
                            self.captures.skipped)
        wanted = []
        for article_id in found:
            self._count_found(source, self.captures.ranked(article_id)[0].ref)
            if self.state.archived_date(article_id) is not None:
                stats.inc_value(f"archive/sources/{source}/already_archived")
            elif article_id not in self.seen_ids:
                wanted.append(article_id)
        self.logger.info("%s: %s articles with captures in range, %s not archived yet: fetching "
                         "them", source, len(found), len(wanted))
        for article_id in wanted:
            self.seen_ids.add(article_id)
            ranked = self.captures.ranked(article_id)
            # Handed over as the downloader has room, so a large backfill is not all in memory.
            while self.crawler.engine.needs_backout():
                await asyncio.sleep(0.05)
            yield self._capture_request(ranked[0], tuple(ranked[1:]))

    def _index_request(self, url: str, callback: Any, **cb_kwargs: Any) -> scrapy.Request:
        self.index_pending += 1
        self.crawler.stats.inc_value(f"archive/sources/{self.options.source}/index_requests")
        # Never dropped as a duplicate: the capture phase waits for every index request's answer.
        return scrapy.Request(url, callback=callback, errback=self.index_failed,
                              cb_kwargs=cb_kwargs, dont_filter=True,
                              meta={"handle_httpstatus_list": [404]})

    def _index_finished(self) -> None:
        self.index_pending -= 1
        if self.index_pending <= 0 and self.index_done is not None:
            self.index_done.set()

    def _index_error(self, url: str, reason: object) -> None:
        self.crawler.stats.inc_value(f"archive/sources/{self.options.source}/index_failed")
        self.logger.error("%s index query %s failed: %s (the captures it lists are missed)",
                          self.options.source, url, reason)

    def index_failed(self, failure: Failure) -> None:
        """An index query that failed after every retry: logged, counted, the rest goes on."""
        try:
            self._index_error(failure.request.url, failure.value)
        finally:
            self._index_finished()

    def _add_captures(self, captures: list[Capture], skipped: Counter[str]) -> None:
        stats, source = self.crawler.stats, self.options.source
        for reason, count in skipped.items():
            stats.inc_value(f"archive/sources/{source}/rows_skipped/{reason}", count)
        stats.inc_value(f"archive/sources/{source}/article_captures", len(captures))
        for capture in captures:
            ref = capture.ref
            if not (self.options.wants_section(ref.section)
                    and self.options.month_in_range(ref.month)):
                stats.inc_value("archive/articles/skipped_out_of_range")
                continue
            self.captures.add(capture)

    def _wayback_index(self, prefix: str, resume_key: str | None) -> scrapy.Request:
        url = wayback.cdx_url(self.wayback_url, prefix, since=self.options.since,
                              limit=self.wayback_page_size, collapse=self.wayback_collapse,
                              resume_key=resume_key, captured_until=self.captured_until)
        return self._index_request(url, self.parse_wayback_index, prefix=prefix)

    def parse_wayback_index(self, response: Response, prefix: str) -> Iterator[scrapy.Request]:
        """Keep the article captures of one CDX page; follow its resumption key."""
        try:
            if response.status == 404:
                return
            try:
                page = wayback.parse_cdx_json(response.body)
            except ValueError as exc:
                self._index_error(response.url, exc)
                return
            self._add_captures(*wayback.captures_of(page.rows, self.hosts))
            if page.resume_key:
                if (prefix, page.resume_key) in self.resume_keys:
                    self._index_error(response.url, f"resumption key {page.resume_key!r} "
                                      "came back a second time")
                    return
                self.resume_keys.add((prefix, page.resume_key))
                yield self._wayback_index(prefix, page.resume_key)
        finally:
            self._index_finished()

    def parse_collinfo(self, response: Response) -> Iterator[scrapy.Request]:
        """Query the index of every chosen crawl, asking first how many pages each answer has."""
        try:
            try:
                crawls = commoncrawl.parse_collinfo(response.body, self.cc_index_url)
                chosen = commoncrawl.choose_crawls(crawls, since=self.options.since,
                                                   wanted=self.cc_crawls,
                                                   captured_until=self.captured_until)
            except ValueError as exc:
                self._index_error(response.url, exc)
                return
            self.logger.info("commoncrawl: %s of %s crawls to query: %s", len(chosen),
                             len(crawls), ", ".join(c.id for c in chosen) or "none")
            self.crawler.stats.set_value("archive/sources/commoncrawl/crawls", len(chosen))
            for crawl in chosen:
                for prefix in query_prefixes(self.hosts, self.options.channels):
                    url = commoncrawl.index_url(crawl, prefix, since=self.options.since,
                                                num_pages=True,
                                                captured_until=self.captured_until)
                    yield self._index_request(url, self.parse_cc_pages, crawl=crawl,
                                              prefix=prefix)
        finally:
            self._index_finished()

    def parse_cc_pages(self, response: Response, crawl: commoncrawl.Crawl,
                       prefix: str) -> Iterator[scrapy.Request]:
        """Request every page of one crawl's answer for one prefix."""
        try:
            if response.status == 404:  # nothing captured under the prefix in this crawl
                return
            try:
                pages = commoncrawl.parse_num_pages(response.body)
            except ValueError as exc:
                self._index_error(response.url, exc)
                return
            for page in range(pages):
                url = commoncrawl.index_url(crawl, prefix, since=self.options.since, page=page,
                                            captured_until=self.captured_until)
                yield self._index_request(url, self.parse_cc_index)
        finally:
            self._index_finished()

    def parse_cc_index(self, response: Response) -> None:
        """Keep the article captures of one page of a crawl's index."""
        try:
            if response.status == 404:
                return
            rows, bad = commoncrawl.parse_index_lines(response.body)
            if bad:
                self.crawler.stats.inc_value("archive/sources/commoncrawl/rows_skipped/bad-line",
                                             bad)
            self._add_captures(*commoncrawl.captures_of(rows, self.hosts))
        finally:
            self._index_finished()

    def _capture_request(self, capture: Capture, rest: tuple[Capture, ...]) -> scrapy.Request:
        if capture.source == WAYBACK:
            url, headers = wayback.replay_url(self.wayback_url, capture), {}
        else:
            url = commoncrawl.record_url(self.cc_data_url, capture)
            headers = {"Range": commoncrawl.range_header(capture)}
        self.crawler.stats.inc_value(f"archive/sources/{capture.source}/capture_requests")
        # Common Crawl's records share their WARC file's URL: never drop one as a duplicate.
        return scrapy.Request(url, headers=headers, callback=self.parse_capture,
                              errback=self.capture_failed, dont_filter=True,
                              cb_kwargs={"capture": capture, "rest": rest},
                              meta={"handle_httpstatus_list": [403, 404, 410, 451]})

    def parse_capture(self, response: Response, capture: Capture,
                      rest: tuple[Capture, ...]) -> Iterator[Any]:
        """Extract the article of an archived page; try the next capture when it is not one."""
        self.crawler.stats.inc_value(f"archive/sources/{capture.source}/captures_fetched")
        page, capture, trouble = page_of(response, capture)
        origin = origin_of(capture, response.url)
        fetched_at = fetched_at_of(capture)
        warc = response.meta.get("archive_capture")
        if page is None:
            item: Any = RejectItem(url=capture.original_url, reason=trouble, stage="fetch",
                                   fetched_at=fetched_at, id=capture.ref.id, retryable=True,
                                   http_status=response.status, capture=warc, origin=origin)
        else:
            item = item_from_response(page, fetched_at=fetched_at, site_url=self.site_url,
                                      capture=warc, origin=origin, hosts=self.hosts)
        if isinstance(item, RejectItem) and rest:
            self.crawler.stats.inc_value(f"archive/sources/{capture.source}/next_capture")
            self.logger.info("%s capture %s of %s is no article (%s): trying the next one",
                             capture.source, capture.timestamp, capture.original_url,
                             item.reason)
            yield self._capture_request(rest[0], rest[1:])
            return
        yield item

    def capture_failed(self, failure: Failure) -> Iterator[Any]:
        """A capture that could not be fetched: try the next one, else a reject saying why."""
        request = failure.request
        capture: Capture = request.cb_kwargs["capture"]
        rest: tuple[Capture, ...] = request.cb_kwargs["rest"]
        if rest:
            self.crawler.stats.inc_value(f"archive/sources/{capture.source}/next_capture")
            yield self._capture_request(rest[0], rest[1:])
            return
        response = getattr(failure.value, "response", None)
        yield RejectItem(url=capture.original_url,
                         reason=f"fetch failed: {failure.type.__name__}: {failure.value}",
                         stage="fetch", fetched_at=fetched_at_of(capture), id=capture.ref.id,
                         retryable=True,
                         http_status=response.status if response is not None else None,
                         origin=origin_of(capture, request.url))
