"""A part of the spider's work kept in a module of its own (sitemaps, a web-archive backfill).

It sees what the spider sees: the crawler, the run's options, the site's host aliases, the
archive's state and the spider's logger; it decides what to fetch and hands the spider requests.
"""

from __future__ import annotations

from typing import Any


class SpiderPart:
    """Shares the spider's crawler, options, hosts, state and logger."""

    def __init__(self, spider: Any):
        self.spider = spider
        self.crawler = spider.crawler
        self.options = spider.options
        self.hosts = spider.hosts
        self.state = spider.state
        self.logger = spider.logger
