"""The spider's article pages: their requests, their redirects, and a page or a reject each.

Article requests follow their redirects themselves (not through Scrapy's middleware), so that a
redirect off the site's origins, a loop, or a chain longer than REDIRECT_MAX_TIMES (20, as
browsers, wget and Scrapy allow) becomes a reject that names the chain, instead of a page dropped
without a word by the offsite middleware or the dupefilter. An article that redirects to another
article's id ends as that article's record, and the listing that showed it is settled by that id.
A page that arrives is read (crawler/extract/response.py ``read_page``) and handed on to be
extracted; a page cut short is retried; a failure after every retry is a retryable reject.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import DownloadCancelledError
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.extract.response import now_iso, read_page
from crawler.items import RejectItem
from crawler.site.urls import is_site_url, parse_article_url
from spiders.part import SpiderPart

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# Before the next listing page: the queue holds a page's articles, not a backfill's.
ARTICLE_PRIORITY = 1
# Hops of a redirect chain named in full in a reject's reason; a longer chain is shortened.
CHAIN_SHOWN = 6


class ArticlePages(SpiderPart):
    """Requests article pages for the spider and turns each answer into a page or a reject."""

    def __init__(self, spider: Any, settings: Any):
        super().__init__(spider)
        self.max_redirects = settings.getint("REDIRECT_MAX_TIMES")

    def request(self, url: str, listing_raw: str | None,
                hops: tuple[str, ...] = ()) -> scrapy.Request:
        """Return the request for an article page, which follows its redirects itself."""
        return scrapy.Request(
            url, callback=self.spider.parse_article, errback=self.spider.article_failed,
            cb_kwargs={"listing_raw": listing_raw, "hops": hops},
            # Not through Scrapy's dupefilter: every caller asks only for an article not yet in
            # seen_ids (one request per article, whatever its URL variant), and a redirect hop
            # may revisit a URL, which the loop check below stops. Its fingerprints, about 100
            # bytes an article held to the end, were the backfill's largest growing memory.
            dont_filter=True,
            # Before the next listing page: the queue holds a page's articles, not a backfill's.
            priority=ARTICLE_PRIORITY,
            meta={"dont_redirect": True,
                  "handle_httpstatus_list": [*REDIRECT_STATUSES,
                                             *self.spider.handle_httpstatus_list]},
        )

    def _follow_redirect(self, response: Response, listing_raw: str | None,
                         hops: tuple[str, ...]) -> Iterator[Any]:
        """Follow an article's redirect on the site (any origin of it, up to REDIRECT_MAX_TIMES
        hops); reject one to another origin, in a loop, or too long."""
        first = hops[0] if hops else response.url
        location = response.headers.get(b"Location", b"").decode("latin-1").strip()
        target = response.urljoin(location) if location else ""
        chain = _chain((*hops, response.url, target))
        reason, retryable = None, False
        if not target:
            reason = f"redirect without a Location (HTTP {response.status})"
        elif not is_site_url(target, self.hosts):
            reason = f"redirected off the site: {chain}"
        elif target == response.url or (response.url, target) in pairwise((*hops, response.url)):
            # A loop is a hop taken twice (A -> B -> A -> B) or a page redirecting to itself;
            # two host-alias hops in a row (A -> A' -> A, a load balancer's whim) are not.
            reason, retryable = f"redirect loop: {chain}", True
        elif len(hops) >= self.max_redirects:
            # Browsers, wget and Scrapy give up after 20 hops too; a next run would not do better.
            reason = f"too many redirects: more than {self.max_redirects} hops: {chain}"
        if reason is None:
            if self._moved((*hops, response.url), target):
                yield self.request(target, listing_raw, (*hops, response.url))
            return
        self.crawler.stats.inc_value("archive/articles/bad_redirect")
        self.logger.warning("article %s: %s", first, reason)
        yield RejectItem(url=first, reason=reason, stage="fetch", fetched_at=now_iso(),
                         id=(ref.id if (ref := parse_article_url(first)) else None),
                         retryable=retryable, http_status=response.status,
                         listing_raw=listing_raw)

    def _moved(self, chain: tuple[str, ...], target: str) -> bool:
        """Note a redirect chain that leads from one article to another (by key: CMS generation
        and id); False when the other article is already requested in this run (its own request
        gives its record)."""
        new = parse_article_url(target)
        keys = [ref.key for url in chain if (ref := parse_article_url(url))]
        if new is None or not keys or new.key in keys:
            return True
        # The listing that showed the first article is settled by the one the redirect lands on.
        self.spider.listed.moved(keys[0], new.key)
        self.crawler.stats.inc_value("archive/articles/moved")
        self.logger.info("article %s redirects to article %s (%s): it is archived under %s",
                         keys[0], new.key, target, new.key)
        if new.key in self.spider.seen_ids:
            return False
        self.spider.seen_ids.add(new.key)
        return True

    def parse(self, response: Response, listing_raw: str | None,
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
        # Extraction itself is the item processor's (crawler/process/workers.py), off this process.
        item = read_page(response, fetched_at=fetched_at, site_url=self.spider.site_url,
                         listing_raw=listing_raw, capture=capture, hosts=self.hosts)
        if isinstance(item, RejectItem) and item.reason.startswith("truncated"):
            retry = get_retry_request(response.request, spider=self.spider,
                                      reason="truncated_html",
                                      max_retry_times=self.spider.max_truncated_retries)
            if retry is not None:
                yield retry
                return
        yield item

    def failed(self, failure: Failure) -> Iterator[RejectItem]:
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


def _chain(urls: tuple[str, ...]) -> str:
    """Return a redirect chain as ``A -> B -> C``, its middle shortened when it is long."""
    if len(urls) <= CHAIN_SHOWN:
        return " -> ".join(urls)
    head, tail = urls[:CHAIN_SHOWN // 2], urls[-(CHAIN_SHOWN // 2):]
    return " -> ".join((*head, f"... ({len(urls) - CHAIN_SHOWN} more) ...", *tail))
