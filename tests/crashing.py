"""Test-only components that raise on purpose, switched on through settings alone.

``CrashingPipeline`` raises ``RuntimeError`` for the articles whose id is in the
``CRASH_TEST_IDS`` setting (comma-separated). Tests add it to ``ITEM_PIPELINES`` with ``-s``;
nothing in the production code knows it exists.
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import NotConfigured

from crawler.items import ArticleItem
from crawler.settings import ITEM_PIPELINES

CRASH_MESSAGE = "deliberate test crash"


class CrashingPipeline:
    """Raise for the chosen article ids; pass everything else on untouched."""

    # As pipelines 100-600: in a crawl it runs in a worker process, so the tests see the crash's
    # reject, stats and traceback come back from there (crawler/process/workers.py).
    worker_safe = True

    def __init__(self, ids: frozenset[str]):
        self.ids = ids

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrashingPipeline:
        ids = frozenset(crawler.settings.getlist("CRASH_TEST_IDS"))
        if not ids:
            raise NotConfigured("CRASH_TEST_IDS is empty")
        return cls(ids)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem) and item.id in self.ids:
            raise RuntimeError(f"{CRASH_MESSAGE} on article {item.id}")
        return item


def pipelines_with_crash(order: int = 450) -> str:
    """Return the project's ITEM_PIPELINES plus CrashingPipeline, as a ``-s`` JSON value."""
    import json

    return json.dumps({**ITEM_PIPELINES, "tests.crashing.CrashingPipeline": order})
