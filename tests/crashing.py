"""Test-only components that raise or hang on purpose, switched on through settings alone.

``CrashingPipeline`` raises ``RuntimeError`` for the articles whose id is in the
``CRASH_TEST_IDS`` setting (comma-separated); ``SpinningPipeline`` keeps the CPU busy (pure
Python, as a runaway regular expression or loop would) for the articles in ``SPIN_TEST_IDS``, for
at most ``SPIN_TEST_SECONDS`` (120 by default: a budget that failed to stop it fails the test,
it never hangs it). Tests add them to ``ITEM_PIPELINES`` with ``-s``; nothing in the production
code knows they exist.
"""

from __future__ import annotations

import time
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


class SpinningPipeline:
    """Spin for the chosen article ids (bounded by SPIN_TEST_SECONDS); pass the rest on."""

    worker_safe = True
    stage = "spin"

    def __init__(self, ids: frozenset[str], seconds: float):
        self.ids = ids
        self.seconds = seconds

    @classmethod
    def from_crawler(cls, crawler: Any) -> SpinningPipeline:
        ids = frozenset(crawler.settings.getlist("SPIN_TEST_IDS"))
        if not ids:
            raise NotConfigured("SPIN_TEST_IDS is empty")
        return cls(ids, crawler.settings.getfloat("SPIN_TEST_SECONDS", 120.0))

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem) and item.id in self.ids:
            deadline = time.monotonic() + self.seconds
            while time.monotonic() < deadline:
                pass
        return item


def pipelines_with_spin(order: int = 450) -> str:
    """Return the project's ITEM_PIPELINES plus SpinningPipeline, as a ``-s`` JSON value."""
    import json

    return json.dumps({**ITEM_PIPELINES, "tests.crashing.SpinningPipeline": order})
