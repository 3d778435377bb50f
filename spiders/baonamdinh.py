"""The baonamdinh spider: walks the home page and every listing, fetches each wanted article once.

Modes (``-a mode=``): ``nightly`` (default) fetches what is new, stops paging a listing it has
walked before once it meets articles already archived, and re-checks recent ones for edits;
``backfill`` walks listings back to ``-a since=`` and fetches only articles inside
``since``..``until``, bounded before download by the URL's month and the listing's date. The live
crawl also reads the site's sitemaps and feeds, where there are any.

Sources (``-a source=``): ``live`` (default) is the site itself; ``wayback`` and ``commoncrawl``
backfill from a web archive instead (spiders/webarchive.py). The live crawl's sitemaps and feeds
are spiders/sitemaps.py's, article pages and their redirects spiders/articles.py's; the ``-a``
arguments are parsed by spiders/options.py.

Every walk of a listing ends: at a page that shows no article the walk has not met (many CMSs
print their last page again for any later page number), or after LISTING_MAX_PAGES pages in one
run, a cut that is logged, counted and left for the next run (crawler/run/undone.py). A listing
whose walk failed or was cut stays open, so the next nightly walks it to its end.

Extraction is in crawler/extract/, the sources' requests and answers in crawler/sources/; this
file only decides what to fetch, and remembers at the end which listings it walked: a listing
counts as walked only when every article it listed is archived or finally rejected
(crawler/store/state.py). Article links on hosts that are not the site's aliases are counted
(stats ``archive/links/...``, the run report's ``links_dropped``); a home page (or an archive's
index) that cannot be fetched is recorded as the site unreachable (crawler/run/outcome.py).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.extract.listings import ListingEntry, ListingPage, listing_key, parse_listing
from crawler.extract.response import now_iso
from crawler.extract.truncation import looks_truncated
from crawler.items import RejectItem
from crawler.normalise.dates import VN_TZ, DateError, parse_published
from crawler.run.outcome import ExitStatus, is_storage_error, report_problem, stop_for_storage
from crawler.run.politeness import RobotsForbidden
from crawler.run.redirects import OffsiteRedirect
from crawler.run.undone import cut_walk
from crawler.site.urls import ArticleRef, host_of, parse_article_url, site_hosts
from crawler.sources import LIVE
from crawler.store.state import ArticleMarks, CrawlState, ListedArticles
from spiders.articles import ArticlePages
from spiders.options import CrawlOptions
from spiders.sitemaps import SitemapReader
from spiders.webarchive import WebArchiveBackfill

# Examples of dropped article links kept for the run report.
DROPPED_LINK_EXAMPLES = 5


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
        spider.listing_max_pages = settings.getint("LISTING_MAX_PAGES")
        # Pages of each listing read in this run (a walk ends at LISTING_MAX_PAGES), and the
        # listings whose walk a failed page or that bound cut: they stay open for the next run.
        spider.listing_pages = Counter()
        spider.unfinished_listings = set()
        # The articles requested or found in this run, by key: on disk, not in memory.
        spider.seen_ids = ArticleMarks(spider.state.db)
        # Listings walked to their end in this run, and the articles each listing showed: at
        # the end a listing counts as walked only if all of those are archived or finally
        # rejected (their articles may still be in flight when the last page is parsed). The
        # ids are kept in a temporary table of the state database, not in memory.
        spider.walked_to_end = set()
        spider.listed = ListedArticles(spider.state.db)
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
        spider.articles = ArticlePages(spider, settings)
        spider.archive = spider.sitemaps = None
        if spider.options.source != LIVE:
            spider.archive = WebArchiveBackfill(spider, settings)
        else:
            spider.sitemaps = SitemapReader(spider, settings)
            crawler.signals.connect(spider.sitemaps.idle, signal=signals.spider_idle)
        return spider

    def count_found(self, source: str, ref: ArticleRef) -> None:
        """Count an article a source found in this run, once, by its URL's month."""
        if self.seen_ids.first_found(ref.key, source):
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
        rejected) and reopen those that lost an article, or whose walk failed or was cut; end
        the run if it finished, which a run whose every listing failed has not."""
        over = len(self.dropped_links) > self.max_dropped_links
        keep_open = frozenset(self.dropped_links.values()) if over else frozenset()
        keep_open |= frozenset(self.unfinished_listings)
        finished = reason == "finished"
        stats = self.crawler.stats
        failed = stats.get_value("archive/listings/failed", 0)
        if self.options.source == LIVE and stats.get_value("archive/site/home_fetched") \
                and failed and not sum(self.listing_pages.values()):
            # Nothing was walked: the next run must walk every listing, as after a killed run.
            stats.set_value("archive/listings/every_failed", 1)
            finished = False
        outcome = self.state.settle_listings(self.listed, self.walked_to_end, now_iso(),
                                             finished=finished, keep_open=keep_open)
        stats = self.crawler.stats
        for name, keys in outcome.items():
            if keys:
                stats.set_value(f"archive/listings/{name}", len(keys))
        if outcome["reopened"]:
            self.logger.warning("listings %s lost articles in this run (not archived, no reject"
                                "%s): the next nightly walks them to their end",
                                ", ".join(outcome["reopened"]),
                                ", or links dropped, or their walk failed or was cut"
                                if keep_open else "")
        if outcome["open"]:
            self.logger.info("listings %s were walked to their end but some of their articles "
                             "are not archived yet; they stay open", ", ".join(outcome["open"]))
        if finished:
            self.state.end_run()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.state is None:
            report_problem(self.crawler.stats, ExitStatus.STORAGE_FAILURE, self.startup_error)
            self.logger.error("STORAGE FAILURE %s: nothing is fetched", self.startup_error)
            return
        self._count_reconciliation()
        self.recheck_from = self._recheck_from()
        if self.archive is not None:
            async for request in self.archive.start():
                yield request
            return
        yield scrapy.Request(self.site_url + "/", callback=self.parse_home,
                             errback=self.listing_failed)
        # Rejects whose cause may have passed (5xx, timeouts, truncated pages, a date ahead of
        # our clock, a line lost from the files) get another go, with the listing time they
        # were found with.
        for url, listing_raw in self.state.retryable_rejects():
            ref = parse_article_url(url)
            if ref and self.options.month_in_range(ref.month) and ref.key not in self.seen_ids:
                self.seen_ids.add(ref.key)
                self.crawler.stats.inc_value("archive/requests/retry_rejects")
                yield self.article_request(url, listing_raw)

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
            key = response.request.cb_kwargs.get("key")
            if key:  # its walk ends here: a failed page, and the listing left open
                self.crawler.stats.inc_value("archive/listings/failed")
                self.unfinished_listings.add(key)
        else:
            yield retry

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        """Follow every channel and category listing, and the articles the home page shows."""
        if looks_truncated(response.text):
            yield from self._truncated(response)
            return
        self.crawler.stats.set_value("archive/site/home_fetched", 1)
        # Sitemaps are named in robots.txt, else found at the usual locations (or nowhere).
        robots = self.sitemaps.robots_request() if self.sitemaps is not None else None
        if robots is not None:
            yield robots
        page = parse_listing(response.text, response.url, self.hosts)
        self._count_dropped(page.dropped_links, "/")
        self._note_sections(page)
        for url in page.listing_urls:
            key = listing_key(url)
            section = key.strip("/").removeprefix("channel/")
            if self.options.wants_section(section):
                yield scrapy.Request(url, callback=self.parse_listing, cb_kwargs={"key": key},
                                     errback=self.listing_failed)
        for entry in page.entries:
            yield from self.consider(entry)

    def parse_listing(self, response: Response, key: str) -> Iterator[scrapy.Request]:
        """Fetch the wanted articles of one listing page, then decide whether to page on."""
        self.crawler.stats.inc_value("archive/requests/listing_pages")
        if looks_truncated(response.text):
            yield from self._truncated(response)
            return
        self.listing_pages[key] += 1
        page = parse_listing(response.text, response.url, self.hosts)
        self._count_dropped(page.dropped_links, key)
        self._note_sections(page)
        listed: list[str] = []
        known = older = 0
        for entry in page.entries:
            day = self._entry_date(entry)
            if day and self.options.since and day < self.options.since:
                older += 1
            outcome = yield from self.consider(entry, day)
            known += outcome == "known"
            if outcome not in ("other-section", "out-of-range"):
                listed.append(entry.ref.key)  # wanted: it must end archived or finally rejected
        try:
            new = self.listed.add(key, listed, [entry.ref.key for entry in page.entries])
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            # Unremembered, the listing could not be settled: the run stops as on a full disk.
            stop_for_storage(self.crawler, exc, f"remembering the articles of listing {key}")
            return
        complete_before = not self.resuming and self.state.listing_complete(key)
        if page.entries and older == len(page.entries):
            self.logger.info("listing %s: reached %s, before since=%s; stop paging", key,
                             self._oldest(page), self.options.since)
        elif self.options.mode == "nightly" and complete_before and known >= self.margin:
            self.logger.debug("listing %s: %s archived articles on %s; stop paging", key, known,
                              response.url)
            self.crawler.stats.inc_value("archive/listings/stopped_early")
        elif page.next_url and not new:
            # Many CMSs print the last page again for any later page number, with its "next"
            # link: a page that adds no article this walk has not met is the listing's end.
            self.logger.info("listing %s: %s adds no article the walk has not met; its end", key,
                             response.url)
            self.crawler.stats.inc_value("archive/listings/ended_repeating")
            self._walked_to_end(key, page)
        elif page.next_url and self.listing_pages[key] >= self.listing_max_pages:
            self.unfinished_listings.add(key)
            cut_walk(self.crawler.stats, f"listing {key}",
                     f"{self.listing_pages[key]} pages read in this run (LISTING_MAX_PAGES), "
                     f"the last {response.url}, and it still links a next page "
                     f"{page.next_url}")
        elif page.next_url:
            yield scrapy.Request(page.next_url, callback=self.parse_listing,
                                 cb_kwargs={"key": key}, errback=self.listing_failed)
        else:
            self._walked_to_end(key, page)

    def _walked_to_end(self, key: str, page: Any) -> None:
        if page.entries:
            # Walked to the end: from now on, a nightly run may stop at what it already holds.
            if not self.options.since:
                self.walked_to_end.add(key)
            self.crawler.stats.inc_value("archive/listings/walked_to_end")

    def _note_sections(self, page: ListingPage) -> None:
        """Remember the page's section names (pipelines/sections.py learns keys from them)."""
        try:
            self.state.note_sections(page.section_links, page.section, page.title, now_iso())
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            self.logger.warning("sections: what %s prints was not remembered: %s",
                                page.section or "the home page", exc)

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

    def consider(self, entry: ListingEntry, day: dt.date | None = None
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
        self.count_found(LIVE, ref)
        if ref.key in self.seen_ids:
            return "seen"
        # A page rejected for good (404, no date, not an article) is not fetched again each night;
        # a backfill, or re-extraction of its raw capture, gives it another chance.
        if self.options.mode == "nightly" and self.state.final_reject(ref.key) is not None:
            self.crawler.stats.inc_value("archive/articles/skipped_rejected")
            return "rejected"
        archived = self.state.archived_date(ref.key)
        if archived is not None:
            published = dt.date.fromisoformat(archived) if archived else day
            recent = self.recheck_from and published and published >= self.recheck_from
            # Each recent article is re-fetched for edits once, on the night after it was
            # archived: a quiet night then costs listing pages only.
            if not recent or self.state.rechecked(ref.key):
                return "known"
            self.state.mark_rechecked(ref.key, now_iso())
            self.crawler.stats.inc_value("archive/articles/rechecked")
        self.seen_ids.add(ref.key)
        if day:
            self.crawler.stats.max_value("archive/progress/newest_date", day.isoformat())
            self.crawler.stats.min_value("archive/progress/reached_date", day.isoformat())
        yield self.article_request(entry.url, entry.time_raw)
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

    def listing_failed(self, failure: Failure) -> Iterator[RejectItem]:
        """A listing page that failed after every retry: counted and logged, its listing left
        open for the next run, the crawl goes on; one redirected off the site is also a reject
        that names where it went.

        The home page failing means the site is unreachable (or robots.txt forbids it: the
        robots.txt middleware has said so)."""
        url = failure.request.url
        key = failure.request.cb_kwargs.get("key")
        if failure.check(RobotsForbidden):
            # The site's own rule, not a failure: nothing is left that a next run could do.
            self.crawler.stats.inc_value("archive/listings/forbidden")
            self.logger.warning("listing %s not fetched: %s", url, failure.value)
            return
        self.crawler.stats.inc_value("archive/listings/failed")
        if key:
            self.unfinished_listings.add(key)
        if failure.check(OffsiteRedirect):
            self.crawler.stats.inc_value("archive/listings/rejected")  # no article page
            first = (failure.request.meta.get("redirect_urls") or [url])[0]
            yield RejectItem(url=first, reason=str(failure.value), stage="fetch",
                             fetched_at=now_iso(), id=None, retryable=False)
            return
        if failure.check(IgnoreRequest):
            self.logger.warning("listing %s not fetched: %s", url, failure.value)
            return
        self.logger.error("listing %s failed: %s", url, failure.value)
        if url.rstrip("/") == self.site_url:
            report_problem(self.crawler.stats, ExitStatus.SITE_UNREACHABLE,
                           f"the home page {url} could not be fetched: "
                           f"{failure.type.__name__}: {failure.value}")

    # --- articles (spiders/articles.py) ------------------------------------------------------

    def article_request(self, url: str, listing_raw: str | None,
                        hops: tuple[str, ...] = ()) -> scrapy.Request:
        """Return the request for an article page (following its redirects itself)."""
        return self.articles.request(url, listing_raw, hops)

    def parse_article(self, response: Response, listing_raw: str | None,
                      hops: tuple[str, ...] = ()) -> Iterator[Any]:
        """Yield the page to extract (the item processor makes it an article), or a reject."""
        return self.articles.parse(response, listing_raw, hops)

    def article_failed(self, failure: Failure) -> Iterator[RejectItem]:
        """Turn an article that failed after every retry into a retryable reject."""
        return self.articles.failed(failure)
