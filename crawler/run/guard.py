"""No page can crash a pipeline: an exception while making a record becomes a reject record.

In a Scrapy crawl an exception raised by ``process_item`` loses the item, leaving only a
traceback in the log. ``GuardedPipelineManager`` (the ``ITEM_PROCESSOR`` setting) runs the same
``ITEM_PIPELINES`` in the same order, but turns an exception (other than ``DropItem``) into a
``RejectItem`` that names the stage and the exception, and hands that reject to the pipelines
after the one that failed, so the archive writes it. ``crawler.run.processing.ItemProcessor``
does the same outside the engine (``extract``, ``import-text``, ``reextract``), and
``crawler.extract.response.item_from_response`` does it for extraction itself.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.pipelines import ItemPipelineManager
from scrapy.utils.defer import ensure_awaitable

from crawler.items import ArticleItem, PageItem, RejectItem

logger = logging.getLogger(__name__)

STATS_PREFIX = "archive/crashes"
# A reason stays one readable line however long the exception's message is.
MAX_MESSAGE_CHARS = 300


def crash_reason(stage: str, exc: BaseException) -> str:
    """Return the reject reason for an exception raised at ``stage``: stage, type and message."""
    message = " ".join(str(exc).split())[:MAX_MESSAGE_CHARS]
    return f"crash in {stage}: {type(exc).__name__}" + (f": {message}" if message else "")


def _partial_record(item: ArticleItem) -> dict[str, Any] | None:
    """Return the item's record when it can be written as JSON (a crash may leave it odd)."""
    try:
        record = item.to_record()
        json.dumps(record, ensure_ascii=False)
    except Exception:  # noqa: BLE001 - the reject must be writable whatever the item holds
        return None
    return record


def reject_for_crash(item: Any, stage: str, exc: BaseException) -> RejectItem:
    """Return the reject record of an item whose processing raised ``exc`` at ``stage``."""
    reason = crash_reason(stage, exc)
    if isinstance(item, RejectItem):
        # A reject that a stage could not handle keeps its own reason, and says what failed.
        item.reason = f"{item.reason}; then {reason}"
        return item
    url = getattr(item, "url", None) or ""
    return RejectItem(url=url, reason=reason, stage=stage,
                      fetched_at=getattr(item, "fetched_at", None) or "",
                      id=getattr(item, "id", None), retryable=False,
                      http_status=getattr(item, "http_status", None),
                      capture=getattr(item, "capture", None),
                      record=_partial_record(item) if isinstance(item, ArticleItem) else None)


def stage_of(pipeline: Any) -> str:
    """Return a pipeline's stage name: its ``stage`` attribute, else its module's last name."""
    return getattr(pipeline, "stage", None) or type(pipeline).__module__.rsplit(".", 1)[-1]


def log_crash(item: Any, stage: str, exc: BaseException, stats: Any | None) -> None:
    """Log a crash with its traceback (a bug to fix) and count it by stage."""
    logger.error("crash in %s on %s: %s: %s", stage, getattr(item, "url", item),
                 type(exc).__name__, exc, exc_info=exc)
    if stats is not None:
        stats.inc_value(f"{STATS_PREFIX}/{stage}")


class GuardedPipelineManager(ItemPipelineManager):
    """Scrapy's item pipeline manager, with an exception in a pipeline turned into a reject.

    A PageItem (an article page the spider has not extracted) is extracted first, and its
    ``outcome`` set to what it became, for the signal receivers that get the page back."""

    async def process_item_async(self, item: Any) -> Any:
        """Run every pipeline in order; a crash becomes a reject that the later ones receive."""
        page = item if isinstance(item, PageItem) else None
        if page is not None:
            # Imported here: crawler.extract.response imports this module.
            from crawler.extract.response import item_from_page

            item = page.outcome = item_from_page(page)
        return await self.run_guarded(item, list(self.methods["process_item"]), page)

    async def run_guarded(self, item: Any, methods: list[Any], page: PageItem | None = None
                          ) -> Any:
        """Run ``methods`` (process_item of pipelines, the last being the archive) on ``item``
        in order; a crash becomes a reject the later ones receive. ``page``, if given, gets the
        final item (or the one dropped) as its ``outcome``."""
        stats = self.crawler.stats if self.crawler is not None else None
        index = 0
        retried_last = False
        while index < len(methods):
            method = methods[index]
            try:
                if method in self._mw_methods_requiring_spider:
                    result = method(item, self._spider)
                else:
                    result = method(item)
                item = await ensure_awaitable(result)
            except DropItem:
                if page is not None:
                    page.outcome = item
                raise
            except Exception as exc:  # noqa: BLE001 - the point: no exception loses a page
                stage = stage_of(method.__self__) if hasattr(method, "__self__") else "pipeline"
                log_crash(item, stage, exc, stats)
                item = reject_for_crash(item, stage, exc)
                if index == len(methods) - 1 and not retried_last:
                    # The last stage (the archive) failed: offer it the reject once.
                    retried_last = True
                    continue
            index += 1
        if page is not None:
            page.outcome = item
        return item
