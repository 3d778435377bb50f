"""Runs the project's ITEM_PIPELINES outside the Scrapy engine (extract, import-text, reextract).

A crawl and the offline commands must produce the same records, so this builds the very pipeline
classes that ITEM_PIPELINES names, in its order, from the same settings, and calls them the way the
engine does with the crawl's ITEM_PROCESSOR (crawler/run/guard.py): open_spider, process_item in
order until one drops the item (a crash becomes a reject), close_spider.
"""

from __future__ import annotations

import logging
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.project import get_project_settings

from crawler.run.guard import log_crash, reject_for_crash, stage_of

logger = logging.getLogger(__name__)


class _OfflineSpider(scrapy.Spider):
    name = "offline"


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Return the project's settings (crawler/settings.py) with command-line overrides on top."""
    settings = get_project_settings().copy()
    settings.setdict(overrides or {}, priority="cmdline")
    return settings


class ItemProcessor:
    """The item pipelines of a crawl, run synchronously on items made without the engine."""

    def __init__(self, settings: Settings):
        self.crawler = Crawler(_OfflineSpider, settings)
        self.crawler.stats = MemoryStatsCollector(self.crawler)
        self.stats = self.crawler.stats
        self.pipelines: list[Any] = []
        for path, _order in sorted(settings.getwithbase("ITEM_PIPELINES").items(),
                                   key=lambda kv: kv[1]):
            try:
                self.pipelines.append(build_from_crawler(load_object(path), self.crawler))
            except NotConfigured as exc:
                logger.debug("pipeline %s is off: %s", path, exc)

    def open(self) -> None:
        """Open every pipeline, as the engine does when a spider opens."""
        for pipeline in self.pipelines:
            if hasattr(pipeline, "open_spider"):
                pipeline.open_spider()

    def close(self) -> None:
        """Close every pipeline, as the engine does when a spider closes."""
        for pipeline in self.pipelines:
            if hasattr(pipeline, "close_spider"):
                pipeline.close_spider()

    def process(self, item: Any) -> tuple[Any | None, str | None]:
        """Return (item after every pipeline, None), or (None, reason) when one dropped it.

        As in a crawl (crawler/run/guard.py), a pipeline that raises turns the item into a
        reject naming the stage and the exception, which the later pipelines receive."""
        index, retried_last = 0, False
        while index < len(self.pipelines):
            pipeline = self.pipelines[index]
            try:
                item = pipeline.process_item(item)
            except DropItem as exc:
                self.stats.inc_value("item_dropped_count")
                return None, str(exc)
            except Exception as exc:  # noqa: BLE001 - the point: no exception loses a page
                stage = stage_of(pipeline)
                log_crash(item, stage, exc, self.stats)
                item = reject_for_crash(item, stage, exc)
                if index == len(self.pipelines) - 1 and not retried_last:
                    retried_last = True  # the archive failed: offer it the reject once
                    continue
            index += 1
        return item, None

    def __enter__(self) -> ItemProcessor:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
