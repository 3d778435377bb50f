"""Politeness middlewares: one download slot for the site's host aliases; robots.txt Crawl-delay.

Scrapy keeps a download slot (concurrency, delay) per host name, so baonamdinh.vn and
baonamdinh.com.vn would each get CONCURRENT_REQUESTS_PER_DOMAIN requests: SiteSlotMiddleware
puts every request to the site into one slot. Scrapy's RobotsTxtMiddleware obeys robots.txt's
rules but not its Crawl-delay: CrawlDelayMiddleware reads every robots.txt response that passes
through the downloader and keeps the slot at least that many seconds apart, after AutoThrottle
has adjusted it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

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
