"""CrawlDelayMiddleware: honours robots.txt's Crawl-delay, which Scrapy's RobotsTxtMiddleware does not.

It reads every robots.txt response that passes through the downloader (RobotsTxtMiddleware fetches
them through it) and keeps the download slot of that host at least that many seconds apart,
after AutoThrottle has adjusted it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.robotstxt import ProtegoRobotParser

logger = logging.getLogger(__name__)


class CrawlDelayMiddleware:
    """Downloader middleware keeping each host's slot delay at or above its robots.txt Crawl-delay."""

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
                self.delays[key] = min(float(delay), self.max_delay)
                logger.info("robots.txt of %s asks for Crawl-delay %s s; using %s s", key,
                            delay, self.delays[key])
                self.crawler.stats.set_value("archive/politeness/crawl_delay", self.delays[key])
        floor = self.delays.get(key)
        slot = downloader.slots.get(key)
        if floor and slot is not None and slot.delay < floor:
            slot.delay = floor
        return response
