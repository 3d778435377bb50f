"""The baonamdinh spider: walks the home page and every listing, fetches each wanted article once.

Modes (``-a mode=``): ``nightly`` (default) fetches what is new, stops paging a listing it has
walked before once it meets articles already archived, and re-checks recent ones for edits;
``backfill`` walks listings back to ``-a since=`` and fetches only articles inside
``since``..``until``, bounded before download by the URL's month and the listing's date.
Extraction is in crawler/extract/response.py and crawler/extract/listings.py; this file only
decides what to fetch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import DownloadCancelledError
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.extract.html import looks_truncated
from crawler.extract.listings import ListingEntry, listing_key, parse_listing
from crawler.extract.response import now_iso, read_page
from crawler.extract.urls import host_of, is_site_url, parse_article_url
from crawler.items import RejectItem
from crawler.normalise.dates import VN_TZ, DateError, parse_published
from crawler.store.state import CrawlState

MODES = ("nightly", "backfill")
# Article requests follow redirects themselves, so that one off the site or in a loop becomes a
# reject instead of being dropped without a word by the offsite middleware or the dupefilter.
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_ARTICLE_REDIRECTS = 5
ARTICLE_PRIORITY = 1


@dataclass(frozen=True)
class CrawlOptions:
    """The spider arguments, parsed and validated once."""

    mode: str = "nightly"
    since: dt.date | None = None
    until: dt.date | None = None
    channels: frozenset[str] | None = None

    @classmethod
    def parse(cls, mode: str | None = None, since: str | None = None, until: str | None = None,
              channels: str | None = None) -> CrawlOptions:
        """Return options from ``-a`` strings; raise ValueError with a clear message when bad."""
        mode = (mode or "nightly").strip().lower()
        if mode not in MODES:
            raise ValueError(f"-a mode={mode!r}: expected one of {', '.join(MODES)}")
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
        return cls(mode=mode, since=start, until=end, channels=chosen)

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

    def __init__(self, mode: str | None = None, since: str | None = None,
                 until: str | None = None, channels: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.options = CrawlOptions.parse(mode=mode, since=since, until=until, channels=channels)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> BaoNamDinhSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.site_url = settings.get("SITE_URL").rstrip("/")
        spider.hosts = frozenset({host_of(spider.site_url)} | {
            h.lower().removeprefix("www.") for h in settings.getlist("SITE_HOST_ALIASES")})
        spider.allowed_domains = sorted(spider.hosts)
        spider.state = CrawlState(settings.get("ARCHIVE_DIR"))
        spider.margin = settings.getint("NIGHTLY_STOP_AFTER_KNOWN")
        spider.recheck_days = settings.getint("NIGHTLY_RECHECK_DAYS")
        spider.max_truncated_retries = settings.getint("RETRY_TIMES")
        spider.seen_ids = set()
        # Listings walked to their end in this run: recorded only if the run finishes, since
        # their articles may still be in flight when the last page is parsed.
        spider.walked_to_end = set()
        # After a killed run, no listing is trusted to stop early: walk them all (cheaply:
        # archived articles are skipped without a request) so nothing between is lost.
        spider.resuming = spider.state.begin_run()
        if spider.resuming:
            spider.logger.warning("the previous run did not finish: walking every listing to "
                                  "its end to resume")
        spider.recheck_from = spider._recheck_from()
        return spider

    def _recheck_from(self) -> dt.date | None:
        """Articles published on or after this date are re-fetched for edits (nightly only)."""
        if self.options.mode != "nightly" or self.recheck_days <= 0:
            return None
        row = self.state.db.execute("SELECT MAX(published_date) FROM articles").fetchone()
        if not row or not row[0]:
            return None
        return dt.date.fromisoformat(row[0]) - dt.timedelta(days=self.recheck_days)

    def closed(self, reason: str) -> None:
        if reason == "finished":
            when = now_iso()
            for key in sorted(self.walked_to_end):
                self.state.mark_listing_complete(key, when)
            self.state.end_run()
        self.state.close()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.site_url + "/", callback=self.parse_home,
                             errback=self.listing_failed)
        # Rejects whose cause may have passed (5xx, timeouts, truncated pages) get another go.
        for url in self.state.retryable_rejects():
            ref = parse_article_url(url)
            if ref and self.options.month_in_range(ref.month) and ref.id not in self.seen_ids:
                self.seen_ids.add(ref.id)
                self.crawler.stats.inc_value("archive/requests/retry_rejects")
                yield self._article_request(url, None)

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
        page = parse_listing(response.text, response.url, self.hosts)
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
        known = older = 0
        for entry in page.entries:
            day = self._entry_date(entry)
            if day and self.options.since and day < self.options.since:
                older += 1
            outcome = yield from self._consider(entry, day)
            known += outcome == "known"
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

    def listing_failed(self, failure: Failure) -> None:
        """A listing page that failed after every retry: counted and logged, the crawl goes on."""
        self.crawler.stats.inc_value("archive/listings/failed")
        self.logger.error("listing %s failed: %s", failure.request.url, failure.value)

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
        elif target in hops or target == response.url or len(hops) >= MAX_ARTICLE_REDIRECTS:
            reason, retryable = f"redirect loop: {chain}", True
        if reason is None:
            yield self._article_request(target, listing_raw, (*hops, response.url))
            return
        self.crawler.stats.inc_value("archive/articles/bad_redirect")
        self.logger.warning("article %s: %s", first, reason)
        yield RejectItem(url=first, reason=reason, stage="fetch", fetched_at=now_iso(),
                         id=(ref.id if (ref := parse_article_url(first)) else None),
                         retryable=retryable, http_status=response.status)

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
                         listing_raw=listing_raw, capture=capture)
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
        )
