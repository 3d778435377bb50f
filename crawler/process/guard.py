"""No page can crash a pipeline: an exception while making a record becomes a reject record.

In a Scrapy crawl an exception raised by ``process_item`` loses the item, leaving only a
traceback in the log. ``GuardedPipelineManager`` (the ``ITEM_PROCESSOR`` setting) runs the same
``ITEM_PIPELINES`` in the same order, but turns an exception (other than ``DropItem``) into a
``RejectItem`` that names the stage and the exception, and hands that reject to the pipelines
after the one that failed, so the archive writes it. ``crawler.process.processing.ItemProcessor``
does the same outside the engine (``extract``, ``import-text``, ``reextract``), and
``crawler.extract.response.item_from_response`` does it for extraction itself.
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem
from scrapy.pipelines import ItemPipelineManager
from scrapy.utils.defer import ensure_awaitable

from crawler.extract.crash import log_crash, reject_for_crash
from crawler.extract.response import item_from_page
from crawler.items import PageItem


def stage_of(pipeline: Any) -> str:
    """Return a pipeline's stage name: its ``stage`` attribute, else its module's last name."""
    return getattr(pipeline, "stage", None) or type(pipeline).__module__.rsplit(".", 1)[-1]


class GuardedPipelineManager(ItemPipelineManager):
    """Scrapy's item pipeline manager, with an exception in a pipeline turned into a reject.

    A PageItem (an article page the spider has not extracted) is extracted first, and its
    ``outcome`` set to what it became, for the signal receivers that get the page back."""

    async def process_item_async(self, item: Any) -> Any:
        """Run every pipeline in order; a crash becomes a reject that the later ones receive."""
        page = item if isinstance(item, PageItem) else None
        if page is not None:
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
