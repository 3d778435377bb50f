"""CaptionPipeline: one caption per image, no caption copies left in the body (at 300).

The logic is in crawler/normalise/captions.py;
this class wires it into Scrapy (settings, stats, drops).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler

from crawler.items import ArticleItem
from crawler.normalise.captions import dedupe_captions

logger = logging.getLogger(__name__)


def _lines(text: str | None) -> int:
    return sum(1 for line in (text or "").splitlines() if line.strip())


class CaptionPipeline:
    """Apply dedupe_captions to an article's images and body."""

    # Needs nothing but the item: a crawl may run it in a worker process
    # (crawler/process/workers.py).
    worker_safe = True

    def __init__(self, stats: Any) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptionPipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Dedupe an ArticleItem's captions in place; pass anything else through untouched."""
        if not isinstance(item, ArticleItem):
            return item
        images_in = len(item.images or [])
        body_in = item.body
        images, body = dedupe_captions(item.images or [], item.body or "", lead=item.lead)
        item.images = images
        if item.body is not None:
            item.body = body or None
        # Lines are counted only where the body changed (most bodies hold no caption copy).
        removed = _lines(body_in) - _lines(item.body) if item.body != body_in else 0
        self.stats.inc_value("archive/captions/images", len(images))
        self.stats.inc_value("archive/captions/captioned", sum(1 for i in images if i["caption"]))
        if images_in > len(images):
            self.stats.inc_value("archive/captions/images_merged", images_in - len(images))
        if removed:
            self.stats.inc_value("archive/captions/body_copies_removed", removed)
            logger.debug("%s: %s caption copies removed from the body", item.url, removed)
        return item
