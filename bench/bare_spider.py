"""Throughput baseline spider: fetches home, listings (paged) and articles; extracts nothing.

Run with ``scrapy runspider bench/bare_spider.py -s SITE_URL=http://127.0.0.1:PORT``. It visits the
same pages as the archiver's spider (one request per article id, each listing paged to its end)
but only looks at link URLs: no item, no pipeline, no archive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Response

from crawler.extract.listings import listing_key
from crawler.site.urls import parse_article_url


class BareSpider(scrapy.Spider):
    """Follows every listing and fetches every listed article once; yields nothing."""

    name = "bare"
    allowed_domains = ["127.0.0.1", "localhost"]
    custom_settings = {
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {"crawler.run.report.RunReport": None},
        "DOWNLOADER_MIDDLEWARES": {"crawler.run.politeness.CrawlDelayMiddleware": None},
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen_ids: set[str] = set()
        self.seen_listings: set[str] = set()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        site_url = self.settings.get("SITE_URL").rstrip("/")
        yield scrapy.Request(site_url + "/", callback=self.parse_home)

    def _articles(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.css("a::attr(href)").getall():
            url = urljoin(response.url, href)
            ref = parse_article_url(url)
            if ref is not None and ref.id not in self.seen_ids:
                self.seen_ids.add(ref.id)
                yield scrapy.Request(url, callback=self.parse_article)

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        """Follow every listing the home page links to, and the articles it shows."""
        for href in response.css("a::attr(href)").getall():
            url = urljoin(response.url, href).split("?")[0].split("#")[0]
            key = listing_key(url)
            if key and key != "/" and key not in self.seen_listings:
                self.seen_listings.add(key)
                yield scrapy.Request(url, callback=self.parse_listing)
        yield from self._articles(response)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """Fetch the listed articles and the next page."""
        yield from self._articles(response)
        next_href = response.css("a[rel~=next]::attr(href)").get()
        if next_href:
            yield scrapy.Request(urljoin(response.url, next_href), callback=self.parse_listing)

    def parse_article(self, response: Response) -> None:
        """Nothing to extract: the page was fetched, which is all the baseline measures."""
        return None
