"""The live crawl's sitemaps and feeds: what the spider asks of them, where the site has any.

robots.txt's ``Sitemap:`` lines and the usual locations (SITEMAP_LOCATIONS) are asked once the
home page has answered; sitemap indexes are followed unless their lastmod is older than anything
the run wants; the articles sitemaps and feeds list are considered once the listings are done
(a listing that shows the same article gives it its time of day), and an archived article whose
lastmod moved is fetched again for its edit. Every walk of sitemaps ends: an index nested deeper
than SITEMAP_MAX_DEPTH is not followed, and a run reads at most SITEMAP_MAX_FILES sitemaps and
SITEMAP_MAX_BYTES of them; a walk cut so is logged once and left for the next run
(crawler/run/undone.py). Parsing is crawler/sources/sitemaps.py's; this class only decides what
to fetch, for the spider (spiders/baonamdinh.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.extract.listings import ListingEntry
from crawler.run.undone import cut_walk
from crawler.site.urls import is_site_url
from crawler.sources import LIVE, sitemaps
from spiders.part import SpiderPart


class SitemapReader(SpiderPart):
    """Reads the site's sitemaps and feeds for the spider; requests what the listings missed."""

    def __init__(self, spider: Any, settings: Any):
        super().__init__(spider)
        self.locations = (settings.getlist("SITEMAP_LOCATIONS")
                          if settings.getbool("SITEMAP_ENABLED") else [])
        self.robots_timeout = settings.getfloat("ROBOTSTXT_TIMEOUT")
        self.max_depth = settings.getint("SITEMAP_MAX_DEPTH")
        self.max_files = settings.getint("SITEMAP_MAX_FILES")
        self.max_bytes = settings.getint("SITEMAP_MAX_BYTES")
        # Sitemaps requested and bytes read in this run, and the bounds met (each said once).
        self.files = self.bytes = 0
        self.cut: set[str] = set()
        self.asked = False
        self.floor = self._floor()
        # Articles a sitemap or feed lists wait until the listings are done: a listing that shows
        # the same article gives it its time of day, which the page may hide.
        self.pending: list[tuple[sitemaps.SitemapEntry, str | None]] = []

    def robots_request(self) -> scrapy.Request | None:
        """Return the request for robots.txt's Sitemap: lines, once per run (None after)."""
        if not self.locations or self.asked:
            return None
        # Asked once the home page answered, so only of a site whose robots.txt lets us in,
        # and with robots.txt's own short budget (no retries of a robots.txt that fails).
        self.asked = True
        return scrapy.Request(self.spider.site_url + "/robots.txt", callback=self.parse_robots,
                              errback=self.failed,
                              meta={"handle_httpstatus_all": True, "dont_retry": True,
                                    "download_timeout": self.robots_timeout})

    def _floor(self) -> dt.date | None:
        """A sitemap last changed before this date holds nothing this run wants.

        A backfill wants nothing published before since; a nightly run nothing older than what
        it re-checks (by the site's clock: the newest archived date), except changes, which make
        a sitemap's lastmod recent."""
        if self.options.mode == "backfill":
            return self.options.since
        if self.spider.resuming:
            return None
        row = self.state.db.execute("SELECT MAX(published_date) FROM articles").fetchone()
        if not row or not row[0]:
            return None
        return dt.date.fromisoformat(row[0]) - dt.timedelta(days=max(self.spider.recheck_days, 1))

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        """Request the sitemaps robots.txt names, and the usual sitemap and feed locations."""
        named = []
        if response.status == 200 and hasattr(response, "text"):
            named = sitemaps.sitemaps_from_robots(response.text, self.spider.site_url + "/")
        usual = [self.spider.site_url + "/" + loc.lstrip("/") for loc in self.locations]
        for url in dict.fromkeys([*named, *usual]):
            if not is_site_url(url, self.hosts):
                self.logger.info("robots.txt names a sitemap on another host, not read: %s", url)
                continue
            yield from self._request(url, 0)

    def _cut(self, bound: str, walk: str, why: str) -> None:
        """Say, once per bound, that a walk of sitemaps was cut."""
        if bound not in self.cut:
            self.cut.add(bound)
            cut_walk(self.crawler.stats, walk, why)

    def _request(self, url: str, depth: int) -> Iterator[scrapy.Request]:
        """Yield the request for a sitemap, unless the run's SITEMAP_MAX_FILES are spent."""
        if self.files >= self.max_files:
            self._cut("files", "sitemaps", f"{self.files} sitemaps requested in this run "
                      f"(SITEMAP_MAX_FILES), and more are listed, the first {url}")
            return
        self.files += 1
        yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.failed,
                             cb_kwargs={"depth": depth}, meta={"handle_httpstatus_all": True})

    def parse_sitemap(self, response: Response, depth: int = 0) -> Iterator[scrapy.Request]:
        """Follow a sitemap index's sitemaps; consider each article a sitemap or feed lists."""
        stats = self.crawler.stats
        if response.status == 200:
            self.bytes += len(response.body)
            if self.bytes > self.max_bytes:
                self._cut("bytes", "sitemaps",
                          f"{self.bytes} bytes of sitemaps received in this run, over "
                          f"SITEMAP_MAX_BYTES ({self.max_bytes}); {response.url} and later "
                          "ones not read")
                return
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
        if page.children and depth >= self.max_depth:
            # The protocol lets an index list sitemaps, not indexes: an index this deep is a
            # loop or a site generating indexes without end.
            self._cut("depth", f"sitemap {response.url}",
                      f"a sitemap index {depth} levels below the sitemaps robots.txt and "
                      f"SITEMAP_LOCATIONS name lists {len(page.children)} more (SITEMAP_MAX_DEPTH="
                      f"{self.max_depth}); not followed")
            return
        for child, lastmod in page.children:
            if self.floor and lastmod and lastmod.date() < self.floor:
                stats.inc_value("archive/sitemaps/skipped/unchanged")
                continue
            yield from self._request(child, depth + 1)
        known = self.state.sitemap_lastmods([e.ref.key for e in page.entries if e.lastmod])
        stats.inc_value("archive/sitemaps/entries", len(page.entries))
        self.pending += [(entry, known.get(entry.ref.key)) for entry in page.entries]
        self.state.remember_sitemap_lastmods([
            (e.ref.key, e.lastmod.astimezone(dt.timezone.utc).isoformat())
            for e in page.entries if e.lastmod])

    def idle(self) -> None:
        """Once listings are done, request what only the sitemaps and feeds listed."""
        pending, self.pending = self.pending, []
        requests = [request for entry, known in pending
                    for request in self._consider_entry(entry, known)]
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
        before = known or self.state.archived_fetched_at(entry.ref.key)
        if before is None:
            return False
        return entry.lastmod > dt.datetime.fromisoformat(before)

    def _consider_entry(self, entry: sitemaps.SitemapEntry, known: str | None
                                ) -> Iterator[scrapy.Request]:
        """Request a listed article when it is wanted: new, or changed since it was archived."""
        ref = entry.ref
        if self.options.since and entry.lastmod and entry.lastmod.date() < self.options.since:
            # Last changed before since, so published before it too.
            self.crawler.stats.inc_value("archive/articles/skipped_out_of_range")
            return
        if (ref.key not in self.spider.seen_ids and self.options.wants_section(ref.section)
                and self.options.month_in_range(ref.month)
                and self.state.archived_date(ref.key) is not None and self._changed(entry, known)):
            self.spider.count_found(LIVE, ref)
            self.spider.seen_ids.add(ref.key)
            self.crawler.stats.inc_value("archive/sitemaps/changed_since_archived")
            yield self.spider.article_request(entry.url, None)
            return
        listed = ListingEntry(url=entry.url, ref=ref, time_raw=None, title=None)
        yield from self.spider.consider(listed, entry.published)

    def failed(self, failure: Failure) -> None:
        """A sitemap that could not be fetched: noted, the listings carry the crawl."""
        self.crawler.stats.inc_value("archive/sitemaps/failed")
        self.logger.info("sitemap %s failed: %s", failure.request.url, failure.value)
