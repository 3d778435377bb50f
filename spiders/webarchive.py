"""A backfill from a web archive (``-a source=wayback`` or ``commoncrawl``): what to ask it.

The archive's index is read to its end first (the Wayback Machine's CDX pages, each Common Crawl
crawl's index pages), keeping one capture per article id (SOURCES_CAPTURE_PICK, then the next
ones as fallbacks); articles already archived are skipped; then each capture is fetched and its
page goes through the same extraction and pipelines as a live page, with its ``origin``. Request
URLs and answers are crawler/sources/'s pure functions; this class only decides what to fetch,
for the spider (spiders/baonamdinh.py), whose state, options and seen ids it shares.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.extract.response import item_from_response
from crawler.items import RejectItem
from crawler.sources import (
    WAYBACK,
    Capture,
    CapturePicker,
    commoncrawl,
    fetched_at_of,
    origin_of,
    query_prefixes,
    wayback,
)
from crawler.sources.pages import page_of
from spiders.part import SpiderPart


class WebArchiveBackfill(SpiderPart):
    """Lists an archive's captures of the site, then fetches one per article not yet archived."""

    def __init__(self, spider: Any, settings: Any):
        super().__init__(spider)
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
        spider.allowed_domains = sorted(set(spider.allowed_domains) | archive_hosts - {""})
        # Index queries under way, plus one for start() itself until it has sent them all.
        self.index_pending = 1
        self.index_done: asyncio.Event | None = None
        self.resume_keys: set[tuple[str, str]] = set()
        self.sizing = 0  # Common Crawl page counts not yet answered

    # --- web archives --------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """Query the archive's index, wait until every page of it is read, then fetch captures."""
        self.index_done = asyncio.Event()
        if self.options.source == WAYBACK:
            for prefix in query_prefixes(self.hosts, self.options.channels):
                yield self._wayback_index(prefix, None)
        else:
            yield self._index_request(commoncrawl.collinfo_url(self.cc_index_url),
                                      self.parse_collinfo)
        self._index_finished(answered=False)  # start()'s own share
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
        for key in found:
            self.spider.count_found(source, self.captures.ranked(key)[0].ref)
            if self.state.archived_date(key) is not None:
                stats.inc_value(f"archive/sources/{source}/already_archived")
            elif key not in self.spider.seen_ids:
                wanted.append(key)
        self.logger.info("%s: %s articles with captures in range, %s not archived yet: fetching "
                         "them", source, len(found), len(wanted))
        # The progress lines' "N of M" from here on (crawler/run/progress.py).
        stats.set_value(f"archive/sources/{source}/articles_wanted", len(wanted))
        for key in wanted:
            self.spider.seen_ids.add(key)
            ranked = self.captures.ranked(key)
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

    def _index_finished(self, *, answered: bool = True) -> None:
        if answered:
            self.crawler.stats.inc_value(f"archive/sources/{self.options.source}/index_answered")
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
            self.sizing = len(chosen) * len(query_prefixes(self.hosts, self.options.channels))
            self._sized()
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
            self.sizing -= 1
            self._sized()
            self._index_finished()

    def _sized(self) -> None:
        """Mark the index's size known once every crawl said how many pages it has."""
        if self.sizing <= 0:
            self.crawler.stats.set_value("archive/sources/commoncrawl/index_sized", 1)

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
            item = item_from_response(page, fetched_at=fetched_at, site_url=self.spider.site_url,
                                      capture=warc, origin=origin, hosts=self.hosts)
        if isinstance(item, RejectItem) and rest:
            self.crawler.stats.inc_value(f"archive/sources/{capture.source}/next_capture")
            self.logger.info("%s capture %s of %s is no article (%s): trying the next one",
                             capture.source, capture.timestamp, capture.original_url,
                             item.reason)
            yield self._capture_request(rest[0], rest[1:])
            return
        self.crawler.stats.inc_value(f"archive/sources/{capture.source}/articles_done")
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
        self.crawler.stats.inc_value(f"archive/sources/{capture.source}/articles_done")
        yield RejectItem(url=capture.original_url,
                         reason=f"fetch failed: {failure.type.__name__}: {failure.value}",
                         stage="fetch", fetched_at=fetched_at_of(capture), id=capture.ref.id,
                         retryable=True,
                         http_status=response.status if response is not None else None,
                         origin=origin_of(capture, request.url))
