"""ValidationPipeline: only a record meeting the JSON Schema and the text rules goes to the archive.

The rules are crawler/schema/validation.py; this class turns a failure into a reject (at 600).
"""

from __future__ import annotations

import logging
from typing import Any

from crawler.items import ArticleItem, RejectItem
from crawler.schema.validation import problems

logger = logging.getLogger(__name__)


class ValidationPipeline:
    """Turn an article that fails the schema or the text rules into a reject with the reasons."""

    # Needs nothing but the item: a crawl may run it in a worker process
    # (crawler/process/workers.py).
    worker_safe = True

    def __init__(self, stats: Any):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> ValidationPipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Pass valid articles and rejects through; replace an invalid article by its reject."""
        if not isinstance(item, ArticleItem):
            return item
        found = problems(item.to_record())
        if not found:
            self.stats.inc_value("archive/validation/ok")
            return item
        self.stats.inc_value("archive/validation/failed")
        for reason in found:
            self.stats.inc_value(f"archive/validation/problem/{reason.split(':')[0]}")
        logger.warning("record %s (%s) is invalid: %s", item.id, item.url, "; ".join(found))
        return RejectItem.from_article(item, reason="; ".join(found), stage="validation")
