"""BoilerplatePipeline: cut the masthead/footer and residue lines out of the body (at 200).

The logic is in crawler/normalise/boilerplate.py;
this class wires it into Scrapy (settings, stats, drops).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler

from crawler.items import ArticleItem
from crawler.normalise.boilerplate import strip_boilerplate_detailed

logger = logging.getLogger(__name__)


class BoilerplatePipeline:
    """Apply strip_boilerplate to body and lead; patterns live in crawler/data/boilerplate.json."""

    # Needs nothing but the item: a crawl may run it in a worker process
    # (crawler/process/workers.py).
    worker_safe = True

    def __init__(self, stats: Any) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BoilerplatePipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Strip an ArticleItem in place; pass anything else through untouched."""
        if not isinstance(item, ArticleItem):
            return item
        removed = 0
        footer_cut = False
        for name in ("body", "lead"):
            text = getattr(item, name)
            if not text:
                continue
            result = strip_boilerplate_detailed(text)
            setattr(item, name, result.text or None)
            removed += len(result.removed)
            footer_cut = footer_cut or bool(result.footer)
            if result.removed:
                logger.debug("%s: %s boilerplate lines removed from %s", item.url,
                             len(result.removed), name)
        if removed:
            self.stats.inc_value("archive/boilerplate/lines_removed", removed)
        if footer_cut:
            self.stats.inc_value("archive/boilerplate/footer_cut")
        return item
