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

``PROCESSING_WORKERS`` 0 or 1 runs everything in this process (tests, debugging). Workers are
forked when the spider opens, before the crawl has threads, and talk to it over socket pairs
read by the crawl's own event loop (no thread, no lock). They ignore SIGINT and SIGTERM (the
crawl ends them when it closes) and leave as soon as the crawl's process is gone: their socket
then reads its end. A worker that dies is logged (WARNING) and leaves its pages to the other
workers and the crawl's own process.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import time
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.settings import Settings

from crawler.items import PageItem
from crawler.run.guard import GuardedPipelineManager
from crawler.run.processing import ItemProcessor, OfflineStats, worker_safe_prefix

logger = logging.getLogger(__name__)

SETTING = "PROCESSING_WORKERS"
PICKLE_PROTOCOL = 5


def usable_cores() -> int:
    """Return how many cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worker_count(settings: Settings) -> int:
    """Return the number of worker processes: PROCESSING_WORKERS, else one per core; none
    where processes cannot be forked (Windows), since workers start as forks of the crawl."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 0
    value = settings.get(SETTING)
    if value is None or value == "":
        return usable_cores()
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


class _RecordKeeper(logging.Handler):
    """A worker's log handler: keeps each record, made picklable, for the crawl to emit."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # As logging.handlers.QueueHandler.prepare: the message (and traceback) as text.
        record.msg = record.getMessage()
        if record.exc_info:
            record.msg += "\n" + logging.Formatter().formatException(record.exc_info)
        record.args, record.exc_info, record.exc_text = None, None, None
        self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        records, self.records = self.records, []
        return records


_worker: dict[str, Any] = {}
# A message on a worker's socket: its length (8 bytes, big-endian), then a pickle.
HEADER = struct.Struct(">Q")


def _start_worker(settings: Settings, log_level: int) -> None:
    """Initialise a worker: its own pipelines (the worker part), stats and log."""
    # The crawl stops its workers itself; a signal to the whole process group is the crawl's.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.set_wakeup_fd(-1)  # the crawl's event loop's, not ours
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    keeper = _RecordKeeper()
    root.addHandler(keeper)
    root.setLevel(log_level)
    processor = ItemProcessor(settings, worker_part=True, stats_class=RecordingStats)
    processor.open()
    _worker.update(processor=processor, log=keeper)


def _work(page: PageItem) -> tuple[Any, str | None, list[Any], list[logging.LogRecord]]:
    """Extract a page and run the worker's pipelines: (item, None) or (None, drop reason),
    with the stats changes and log records it made."""
    processor: ItemProcessor = _worker["processor"]
    item, dropped = processor.process(page)
    return item, dropped, processor.stats.take(), _worker["log"].take()


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:
        n = sock.recv_into(view[got:])
        if not n:
            return None
        got += n
    return bytes(data)


def _serve(sock: socket.socket, inherited: list[socket.socket], settings: Settings,
           log_level: int) -> None:
    """A worker process: read pages from the socket until it closes, answer each in order."""
    for other in inherited:
        # Only the crawl may hold the other end: once it is gone, reading meets the end.
        other.close()
    _start_worker(settings, log_level)
    while True:
        header = _read_exactly(sock, HEADER.size)
        if header is None:
            break
        payload = _read_exactly(sock, HEADER.unpack(header)[0])
        if payload is None:
            break
        try:
            answer = pickle.dumps(("done", _work(pickle.loads(payload))), PICKLE_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - the crawl does this page itself
            answer = pickle.dumps(("failed", f"{type(exc).__name__}: {exc}"), PICKLE_PROTOCOL)
        sock.sendall(HEADER.pack(len(answer)) + answer)
    sock.close()


class WorkerDied(Exception):
    """A worker process could not answer (it died, or could not take the page)."""


class _Worker:
    """One worker process as the crawl sees it: its streams and the pages it has not answered."""

    def __init__(self, process: multiprocessing.process.BaseProcess, sock: socket.socket):
        self.process = process
        self.sock = sock
        self.writer: asyncio.StreamWriter | None = None
        self.pending: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.reading: asyncio.Task[None] | None = None
        self.alive = True


class WorkerPool:
    """``count`` worker processes running ``_work`` on pages, fed through socket pairs by the
    asyncio event loop of the calling process: no thread here, each worker answers in order.

    Forked at construction, so the workers have every module the crawl loaded; ``start`` (in
    the event loop) connects to them, ``close`` lets them finish and waits for them."""

    def __init__(self, count: int, settings: Settings, log_level: int):
        context = multiprocessing.get_context("fork")
        pairs = [socket.socketpair() for _ in range(count)]
        self.workers: list[_Worker] = []
        for mine, theirs in pairs:
            inherited = [s for pair in pairs for s in pair if s is not theirs]
            process = context.Process(target=_serve, name="item-worker", daemon=True,
                                      args=(theirs, inherited, settings, log_level))
            process.start()
            self.workers.append(_Worker(process, mine))
        for _mine, theirs in pairs:
            theirs.close()
        self.closing = False

    async def start(self) -> None:
        """Connect to the workers (from the event loop that will use the pool)."""
        for worker in self.workers:
            reader, worker.writer = await asyncio.open_connection(sock=worker.sock)
            worker.reading = asyncio.ensure_future(self._read(worker, reader))

    async def _read(self, worker: _Worker, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                size = HEADER.unpack(await reader.readexactly(HEADER.size))[0]
                answer = pickle.loads(await reader.readexactly(size))
                future = worker.pending.popleft()
                if not future.done():
                    future.set_result(answer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            worker.alive = False
            if not self.closing:
                # Said whether or not it had a page: a worker that dies is news to the operator.
                logger.warning("item processing: worker process %s ended (exit code %s); the "
                               "other workers and the crawl's own process take its pages",
                               worker.process.pid, worker.process.exitcode)
            while worker.pending:
                future = worker.pending.popleft()
                if not future.done():
                    future.set_exception(WorkerDied(
                        f"worker process {worker.process.pid} ended "
                        f"(exit code {worker.process.exitcode})"))

    async def process(self, page: PageItem) -> tuple[Any, str | None, list[Any], list[Any]]:
        """Return what a worker made of a page; raise WorkerDied when none could."""
        alive = [w for w in self.workers if w.alive and w.writer is not None]
        if not alive:
            raise WorkerDied("no worker process is left")
        worker = min(alive, key=lambda w: len(w.pending))
        data = pickle.dumps(page, PICKLE_PROTOCOL)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        worker.pending.append(future)
        assert worker.writer is not None
        try:
            worker.writer.write(HEADER.pack(len(data)) + data)
            await worker.writer.drain()
        except (ConnectionError, OSError) as exc:  # it died before its end was read
            worker.alive = False
            future.cancel()
            raise WorkerDied(f"worker process {worker.process.pid} could not take a page: "
                             f"{exc}") from exc
        status, answer = await future
        if status != "done":
            raise WorkerDied(f"a worker could not process {page.url}: {answer}")
        return answer

    async def close(self, timeout: float = 30.0) -> None:
        """Let the workers answer what they have, end them, and wait for them."""
        self.closing = True
        for worker in self.workers:
            if worker.writer is not None:
                worker.writer.close()
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            while worker.process.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if worker.process.is_alive():
                worker.process.kill()
            worker.process.join()
            if worker.reading is not None:
                await worker.reading


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
    """Return PROCESSING_WORKERS worker processes, or the in-process stand-in for 0 or 1."""
    count = worker_count(settings)
    if count > 1:
        return WorkerPool(count, Settings(settings), crawl_log_level(settings))
    return InlinePool(settings)


def crawl_log_level(settings: Settings) -> int:
    """Return the level of what the crawl logs (workers keep no record below it)."""
    if not settings.getbool("LOG_ENABLED"):
        return logging.CRITICAL + 1
    level = settings.get("LOG_LEVEL")
    return level if isinstance(level, int) else logging.getLevelName(str(level).upper())


def replay(outcome: tuple[Any, str | None, list[Any], list[Any]], stats: Any
           ) -> tuple[Any, str | None]:
    """Apply a worker's stats changes to ``stats`` and emit its log records here; return
    (item, drop reason)."""
    item, dropped, changes, records = outcome
    if stats is not None:
        for name, args, kwargs in changes:
            getattr(stats, name)(*args, **kwargs)
    for record in records:
        logging.getLogger(record.name).handle(record)
    return item, dropped


# --- in the crawl's process ------------------------------------------------------------------


class ParallelPipelineManager(GuardedPipelineManager):
    """The crawl's item processor: pages extracted and made records in worker processes, the
    archive run here in arrival order; PROCESSING_WORKERS 0 or 1 is all in this process."""

    def __init__(self, *middlewares: Any, crawler: Any = None) -> None:
        super().__init__(*middlewares, crawler=crawler)
        self.workers = worker_count(crawler.settings) if crawler is not None else 0
        self.pool: WorkerPool | None = None
        self._local: InlinePool | None = None
        # Pipelines after the worker part (the archive): their process_item, in order.
        split = worker_safe_prefix(list(self.middlewares))
        self.main_methods = [m.process_item for m in self.middlewares[split:]
                             if hasattr(m, "process_item")]
        self._previous: asyncio.Future[None] | None = None

    async def open_spider_async(self) -> None:
        await super().open_spider_async()
        if self.workers > 1:
            assert self.crawler is not None
            settings = self.crawler.settings
            # Forked now, before the crawl has threads, with every module loaded.
            self.pool = WorkerPool(self.workers, Settings(settings), crawl_log_level(settings))
            await self.pool.start()
            logger.info("item processing: %s worker processes (%s)", self.workers, SETTING)

    async def close_spider_async(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None
        if self._local is not None:
            await self._local.close()
        await super().close_spider_async()

    async def process_item_async(self, item: Any) -> Any:
        """Extract a page in a worker, then archive it here after the items that came before."""
        if self.pool is None and self._previous is None:
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
        if self.pool is not None:
            try:
                return await self.pool.process(page)
            except Exception as exc:  # noqa: BLE001 - a worker's trouble must lose no page
                logger.error("item processing: %s; this page is processed in the crawl's "
                             "own process", exc)
        if self._local is None:
            assert self.crawler is not None
            self._local = InlinePool(self.crawler.settings)
        return await self._local.process(page)
