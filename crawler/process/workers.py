"""Extraction and the pure pipelines in worker processes; the archive in the crawl's own.

A crawl does two kinds of work: fetching (the engine, the spider, WARC capture) and turning
pages into records (parsing, cleaning, validating). Both are CPU work in one Python process, so
on their own they share one core. ``ParallelPipelineManager`` (the crawl's ``ITEM_PROCESSOR``)
sends each page the spider read (a ``PageItem``) to a pool of ``PROCESSING_WORKERS`` processes
that extract it and run the pipelines that need nothing but the item (``worker_safe``: text to
validation); the rest (the archive) runs here, in the order the items arrived, so the archive's
write path stays in one process: a record counts as archived once its line is durable and
registered, exactly as before. What a worker's pipelines count and log comes back with each
item and is replayed into the crawl's stats and log, so the run report sees every figure.

``PROCESSING_WORKERS`` 0 runs everything in this process (tests, debugging). Workers are
helper processes of crawler/process/forked.py: forked when the spider opens, before the crawl has
threads, fed over socket pairs by the crawl's own event loop, gone with the crawl. A worker that
dies is logged (WARNING) and leaves its pages to the other workers and the crawl's own process;
once none is left, that is said once and the crawl's own process extracts the rest.

No page can hold a worker (crawler/process/budget.py): each worker says in shared memory which
page and stage it is at, the crawl looks every so often, and a worker that has spent more than
PROCESSING_TIMEOUT seconds on one page is killed and replaced by a new one (forked from the
crawl's process then); that page becomes the reject "timeout in STAGE", the pages queued behind
it go to the workers again. In this process (0 workers, or none left) a timer does the same.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.settings import Settings

from crawler.items import PageItem
from crawler.process.budget import STATS_PREFIX, StageSlots, budget_of, timeout_reject
from crawler.process.forked import (
    ForkedPool,
    HelperDied,
    HelperExpired,
    HelperReplaced,
    LogKeeper,
    can_fork,
    crawl_log_level,
    emit_records,
    helper_index,
    usable_cores,
)
from crawler.process.guard import GuardedPipelineManager
from crawler.process.processing import ItemProcessor, OfflineStats, worker_safe_prefix

logger = logging.getLogger(__name__)

SETTING = "PROCESSING_WORKERS"


def worker_count(settings: Settings, *, beside_engine: bool = True) -> int:
    """Return the number of worker processes: PROCESSING_WORKERS; unset, one per core but the
    one a crawl's engine keeps busy (``beside_engine``), or one per core where the process
    that feeds them is light (``reextract``), and none on one core; none where processes
    cannot be forked (Windows), since workers start as forks of the crawl.

    On 2 cores a crawl with one worker process made 243-303 articles/s against 206-236 with
    two, in three interleaved pairs (2026-11-26): with the engine, the WARC capture process and
    the replica's server, a second worker only adds switching between processes."""
    if not can_fork():
        return 0
    value = settings.get(SETTING)
    if value is None or value == "":
        cores = usable_cores()
        if cores < 2:
            return 0
        return cores - 1 if beside_engine else cores
    return max(0, int(value))


# --- in a worker process ---------------------------------------------------------------------


class RecordingStats(OfflineStats):
    """A worker's stats: kept as usual, and every change recorded to be replayed by the crawl."""

    def __init__(self, crawler: Any = None):
        super().__init__(crawler)
        self.changes: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def set_value(self, key: str, value: Any) -> None:
        self.changes.append(("set_value", (key, value), {}))
        super().set_value(key, value)

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.changes.append(("inc_value", (key, count, start), {}))
        super().inc_value(key, count, start)

    def max_value(self, key: str, value: Any) -> None:
        self.changes.append(("max_value", (key, value), {}))
        super().max_value(key, value)

    def min_value(self, key: str, value: Any) -> None:
        self.changes.append(("min_value", (key, value), {}))
        super().min_value(key, value)

    def take(self) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
        """Return the changes since the last call, and forget them."""
        changes, self.changes = self.changes, []
        return changes


_worker: dict[str, Any] = {}


def _start_worker(settings: Settings, log_level: int, slots: StageSlots
                  ) -> Callable[[PageItem], Any]:
    """Initialise a worker: its own pipelines (the worker part), stats and log; return what it
    does with each page. It tells ``slots`` where it is; the crawl keeps its time budget."""
    keeper = LogKeeper.install(log_level)
    processor = ItemProcessor(settings, worker_part=True, stats_class=RecordingStats,
                              alarm=False)
    index = helper_index() or 0
    processor.on_stage = functools.partial(slots.stage, index)
    processor.open()
    _worker.update(processor=processor, log=keeper, slots=slots, index=index)
    return _work


def _work(page: PageItem) -> tuple[Any, str | None, list[Any], list[logging.LogRecord]]:
    """Extract a page and run the worker's pipelines: (item, None) or (None, drop reason),
    with the stats changes and log records it made."""
    processor: ItemProcessor = _worker["processor"]
    slots: StageSlots = _worker["slots"]
    slots.begin(_worker["index"])
    try:
        item, dropped = processor.process(page)
    finally:
        slots.end(_worker["index"])
    return item, dropped, processor.stats.take(), _worker["log"].take()


class WorkerPool:
    """``count`` worker processes running ``_work`` on pages (crawler/process/forked.py): forked at
    construction, so the workers have every module the crawl loaded; ``start`` (in the event
    loop) connects to them, ``close`` lets them finish and waits for them."""

    def __init__(self, count: int, settings: Settings, log_level: int):
        self.budget = budget_of(settings)
        self.slots = StageSlots(count)
        self.helpers = ForkedPool(count, "item processing: worker process",
                                  functools.partial(_start_worker, settings, log_level,
                                                    self.slots),
                                  name="item-worker")
        self._watching: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect to the workers (from the event loop that will use the pool), and keep
        their time budget."""
        await self.helpers.start()
        if self.budget > 0:
            self._watching = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        """Every so often, replace a worker that has spent more than the budget on one page."""
        every = min(1.0, max(0.05, self.budget / 10))
        while True:
            await asyncio.sleep(every)
            now = time.monotonic()
            for index, helper in enumerate(list(self.helpers.helpers)):
                started, _pages, stage = self.slots.read(index)
                if helper.alive and helper.pending and started and \
                        now - started > self.budget:
                    self.slots.clear(index)
                    await self.helpers.expire(index, f"more than {self.budget:g} s on one page, "
                                              f"in {stage or 'extract'}", stage or "extract")

    async def process(self, page: PageItem) -> tuple[Any, str | None, list[Any], list[Any]]:
        """Return what a worker made of a page (the reject "timeout in STAGE" when it went over
        the budget); raise HelperDied when none could."""
        while True:
            try:
                return await self.helpers.call(page)
            except HelperExpired as exc:
                stage = str(exc.args[0])
                reject = timeout_reject(page, stage, self.budget)
                changes = [("inc_value", (f"{STATS_PREFIX}/{stage}", 1, 0), {}),
                           ("inc_value", ("archive/workers/replaced", 1, 0), {})]
                return reject, None, changes, []
            except HelperReplaced:
                continue  # queued behind the page that held its worker: to a worker again
            except HelperDied as exc:
                raise HelperDied(f"{exc} (on {page.url})") from exc

    def any_alive(self) -> bool:
        """True while a worker process can still take pages."""
        return bool(self.helpers.ready())

    async def close(self, timeout: float = 30.0) -> None:
        """Let the workers answer what they have, end them, and wait for them."""
        if self._watching is not None:
            self._watching.cancel()
            self._watching = None
        await self.helpers.close(timeout)


class InlinePool:
    """The workers' part done in the calling process, answering as WorkerPool does."""

    def __init__(self, settings: Settings):
        self.processor = ItemProcessor(Settings(settings), worker_part=True,
                                       stats_class=RecordingStats)
        self.processor.open()

    async def start(self) -> None:
        """Nothing to start."""

    async def process(self, page: PageItem) -> tuple[Any, str | None, list[Any], list[Any]]:
        """Return what the workers' part makes of a page (its log goes straight out)."""
        item, dropped = self.processor.process(page)
        return item, dropped, self.processor.stats.take(), []

    async def close(self) -> None:
        """Close the pipelines."""
        self.processor.close()


def make_pool(settings: Settings) -> WorkerPool | InlinePool:
    """Return ``reextract``'s PROCESSING_WORKERS worker processes (unset: one per core), or the
    in-process stand-in for 0."""
    count = worker_count(settings, beside_engine=False)
    if count > 0:
        return WorkerPool(count, Settings(settings), crawl_log_level(settings))
    return InlinePool(settings)


def replay(outcome: tuple[Any, str | None, list[Any], list[Any]], stats: Any
           ) -> tuple[Any, str | None]:
    """Apply a worker's stats changes to ``stats`` and emit its log records here; return
    (item, drop reason)."""
    item, dropped, changes, records = outcome
    if stats is not None:
        for name, args, kwargs in changes:
            getattr(stats, name)(*args, **kwargs)
    emit_records(records)
    return item, dropped


# --- in the crawl's process ------------------------------------------------------------------


class ParallelPipelineManager(GuardedPipelineManager):
    """The crawl's item processor: pages extracted and made records in worker processes, the
    archive run here in arrival order; PROCESSING_WORKERS 0 is all in this process."""

    def __init__(self, *middlewares: Any, crawler: Any = None) -> None:
        super().__init__(*middlewares, crawler=crawler)
        self.workers = worker_count(crawler.settings) if crawler is not None else 0
        self.pool: WorkerPool | None = None
        self._local: InlinePool | None = None
        self._pool_gone = False  # every worker died: the rest of the pages are done here
        # Pipelines after the worker part (the archive): their process_item, in order.
        split = worker_safe_prefix(list(self.middlewares))
        self.main_methods = [m.process_item for m in self.middlewares[split:]
                             if hasattr(m, "process_item")]
        self._previous: asyncio.Future[None] | None = None

    async def open_spider_async(self) -> None:
        await super().open_spider_async()
        if self.workers > 0:
            assert self.crawler is not None
            settings = self.crawler.settings
            # Forked now, before the crawl has threads, with every module loaded.
            self.pool = WorkerPool(self.workers, Settings(settings), crawl_log_level(settings))
            await self.pool.start()
            logger.info("item processing: %s worker %s (%s)", self.workers,
                        "process" if self.workers == 1 else "processes", SETTING)

    async def close_spider_async(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None
        if self._local is not None:
            await self._local.close()
        await super().close_spider_async()

    async def process_item_async(self, item: Any) -> Any:
        """Extract a page in a worker, then archive it here after the items that came before."""
        if self.pool is None and self._previous is None and not isinstance(item, PageItem):
            return await super().process_item_async(item)
        previous = self._previous
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._previous = done
        try:
            page = item if isinstance(item, PageItem) else None
            outcome = await self._in_worker(page) if page is not None else None
            if previous is not None:
                await previous  # the archive takes items in the order they came
            methods = self.main_methods
            if page is not None:
                item, dropped = replay(outcome, self.crawler.stats if self.crawler else None)
                if dropped is not None:
                    page.outcome = item
                    raise DropItem(dropped)
            else:
                # An item the spider made itself (a reject, an article from elsewhere): every
                # pipeline, here.
                methods = list(self.methods["process_item"])
            return await self.run_guarded(item, methods, page)
        finally:
            done.set_result(None)

    async def _in_worker(self, page: PageItem) -> tuple[Any, str | None, list[Any], list[Any]]:
        """Return what a worker made of a page; done here when no worker can."""
        if self.pool is not None and not self._pool_gone:
            if self.pool.any_alive():
                try:
                    return await self.pool.process(page)
                except Exception as exc:  # noqa: BLE001 - a worker's trouble must lose no page
                    logger.error("item processing: %s; this page is processed in the crawl's "
                                 "own process", exc)
            if not self._pool_gone and not self.pool.any_alive():
                # Said once: the pages after it never go to the pool again.
                self._pool_gone = True
                logger.warning("item processing: no worker process is left; the crawl's own "
                               "process extracts the rest of its pages")
        if self._local is None:
            assert self.crawler is not None
            self._local = InlinePool(self.crawler.settings)
        return await self._local.process(page)
