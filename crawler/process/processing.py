"""Runs the project's ITEM_PIPELINES outside the Scrapy engine (extract, import-text, reextract).

A crawl and the offline commands must produce the same records, so this builds the very pipeline
classes that ITEM_PIPELINES names, in its order, from the same settings, and calls them the way the
engine does with the crawl's ITEM_PROCESSOR (crawler/process/guard.py): open_spider, process_item in
order until one drops the item (a crash becomes a reject), close_spider.
"""

from __future__ import annotations

import logging
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.project import get_project_settings

from crawler.extract.crash import log_crash, reject_for_crash
from crawler.extract.response import item_from_page
from crawler.items import PageItem
from crawler.process.budget import StageTimeout, budget_of, can_alarm, timeout_reject, within
from crawler.process.guard import stage_of

logger = logging.getLogger(__name__)


class _OfflineSpider(scrapy.Spider):
    name = "offline"


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Return the project's settings (crawler/settings.py) with command-line overrides on top."""
    settings = get_project_settings().copy()
    settings.setdict(overrides or {}, priority="cmdline")
    return settings


class OfflineStats:
    """Stats of pipelines run without the engine: what they count, in a dict (Scrapy's
    collector hooks every attribute access, which cost more than the counting itself)."""

    def __init__(self, crawler: Any = None):
        self._stats: dict[str, Any] = {}

    def get_value(self, key: str, default: Any = None) -> Any:
        return self._stats.get(key, default)

    def get_stats(self) -> dict[str, Any]:
        return self._stats

    def set_value(self, key: str, value: Any) -> None:
        self._stats[key] = value

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self._stats[key] = self._stats.setdefault(key, start) + count

    def max_value(self, key: str, value: Any) -> None:
        self._stats[key] = max(self._stats.setdefault(key, value), value)

    def min_value(self, key: str, value: Any) -> None:
        self._stats[key] = min(self._stats.setdefault(key, value), value)


def worker_safe_prefix(pipelines: list[Any]) -> int:
    """Return how many of the first pipelines, in order, may run in a worker process: those
    whose class says ``worker_safe = True`` (they need nothing but the item), up to the first
    that does not (the archive)."""
    count = 0
    while count < len(pipelines) and getattr(pipelines[count], "worker_safe", False):
        count += 1
    return count


class ItemProcessor:
    """The item pipelines of a crawl, run synchronously on items made without the engine.

    With ``worker_part``, only the pipelines a worker process runs (``worker_safe_prefix``):
    what crawler/process/workers.py runs in its workers, with stats of its ``stats_class``."""

    def __init__(self, settings: Settings, *, worker_part: bool = False,
                 stats_class: type[Any] = OfflineStats, alarm: bool = True):
        self.crawler = Crawler(_OfflineSpider, settings)
        self.crawler.stats = stats_class(self.crawler)
        self.stats = self.crawler.stats
        self.pipelines: list[Any] = []
        for path, _order in sorted(settings.getwithbase("ITEM_PIPELINES").items(),
                                   key=lambda kv: kv[1]):
            try:
                self.pipelines.append(build_from_crawler(load_object(path), self.crawler))
            except NotConfigured as exc:
                logger.debug("pipeline %s is off: %s", path, exc)
        # The last stage (the archive) is offered a reject once when it fails; a worker's part
        # ends before it.
        self.retry_last = not worker_part
        if worker_part:
            self.pipelines = self.pipelines[: worker_safe_prefix(self.pipelines)]
        # The time budget of a page's extraction and worker-safe pipelines (crawler/process/
        # budget.py): enforced here by a timer when ``alarm`` (a worker process leaves it to the
        # crawl, which watches it through ``on_stage``).
        self.budget = budget_of(settings)
        self.alarm = alarm
        self.on_stage: Any = None  # called with each stage's name as the page reaches it
        self.stage = "extract"

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

    def process(self, item: Any, start: int = 0) -> tuple[Any | None, str | None]:
        """Return (item after every pipeline, None), or (None, reason) when one dropped it.

        A PageItem is extracted first (``item_from_page``). As in a crawl
        (crawler/process/guard.py), a pipeline that raises turns the item into a reject naming
        the stage and the exception, which the later pipelines receive. ``start`` skips the
        first pipelines (a worker process ran them: ``worker_safe_prefix``)."""
        split = worker_safe_prefix(self.pipelines)
        if self.budget > 0 and self.alarm and start < split and can_alarm():
            given = item
            try:
                item, dropped = within(self.budget, lambda: self._run(given, start, split))
            except StageTimeout:
                item, dropped = timeout_reject(given, self.stage, self.budget, self.stats), None
            if dropped is not None or split == len(self.pipelines):
                return item, dropped
            start = split
        return self._run(item, start, len(self.pipelines))

    def _enter(self, stage: str) -> None:
        self.stage = stage
        if self.on_stage is not None:
            self.on_stage(stage)

    def _run(self, item: Any, start: int, stop: int) -> tuple[Any | None, str | None]:
        """Run pipelines ``start`` to ``stop`` (exclusive) on an item, a page extracted first."""
        if isinstance(item, PageItem):
            self._enter("extract")
            item = item_from_page(item)
        index, retried_last = start, not self.retry_last
        while index < stop:
            pipeline = self.pipelines[index]
            self._enter(stage_of(pipeline))
            try:
                item = pipeline.process_item(item)
            except DropItem as exc:
                self.stats.inc_value("item_dropped_count")
                return None, str(exc)
            except Exception as exc:  # noqa: BLE001 - the point: no exception loses a page
                stage = stage_of(pipeline)
                log_crash(item, stage, exc, self.stats)
                item = reject_for_crash(item, stage, exc)
                if index == stop - 1 == len(self.pipelines) - 1 and not retried_last:
                    retried_last = True  # the archive failed: offer it the reject once
                    continue
            index += 1
        return item, None

    def __enter__(self) -> ItemProcessor:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
