"""Helper processes forked from the crawl, each answering what it is sent, in order.

The crawl's own process runs Scrapy's engine on one core; work that needs nothing from the
engine can run beside it in helper processes: extraction and the pure pipelines
(crawler/process/workers.py), WARC capture (crawler/run/capture.py). A ``ForkedPool`` forks its
processes at once (call it before the crawl has threads, when the spider opens) and talks to
them over socket pairs read by the crawl's own asyncio event loop: no thread, no lock. Each
message is its length (8 bytes, big-endian), then a pickle; each process answers its messages
in the order they came, so an answer is matched to the oldest question without an id.

A helper ignores SIGINT and SIGTERM (the crawl ends its helpers when it closes) and leaves as
soon as the crawl's process is gone: its socket then reads its end. A helper that dies is
logged (WARNING) and its questions fail with ``HelperDied``, for the caller to do that work
itself.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PICKLE_PROTOCOL = 5
# A message on a helper's socket: its length (8 bytes, big-endian), then a pickle.
HEADER = struct.Struct(">Q")
# This process's ends of the sockets of its helpers that are not closed yet.
_OURS: set[socket.socket] = set()


def usable_cores() -> int:
    """Return how many cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """True where helper processes can be forked (not Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def crawl_log_level(settings: Any) -> int:
    """Return the level of what the crawl logs (helpers keep no record below it)."""
    if not settings.getbool("LOG_ENABLED"):
        return logging.CRITICAL + 1
    level = settings.get("LOG_LEVEL")
    return level if isinstance(level, int) else logging.getLevelName(str(level).upper())


class LogKeeper(logging.Handler):
    """A helper's log handler: keeps each record, made picklable, for the crawl to emit."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    @classmethod
    def install(cls, level: int) -> LogKeeper:
        """Make a keeper the only handler of this process's root logger, at ``level``."""
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        keeper = cls()
        root.addHandler(keeper)
        root.setLevel(level)
        return keeper

    def emit(self, record: logging.LogRecord) -> None:
        # As logging.handlers.QueueHandler.prepare: the message (and traceback) as text.
        record.msg = record.getMessage()
        if record.exc_info:
            record.msg += "\n" + logging.Formatter().formatException(record.exc_info)
        record.args, record.exc_info, record.exc_text = None, None, None
        self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        """Return the records since the last call, and forget them."""
        records, self.records = self.records, []
        return records


def emit_records(records: list[logging.LogRecord]) -> None:
    """Emit a helper's log records in this process, through their own loggers."""
    for record in records:
        logging.getLogger(record.name).handle(record)


class HelperDied(Exception):
    """A helper process could not answer (it died, or could not take the message)."""


class HelperReplaced(HelperDied):
    """The helper was killed and replaced before it answered (another message held it too
    long): the message may be sent again."""


class HelperExpired(Exception):
    """The helper held this message too long and was replaced (``ForkedPool.expire``); the
    exception's argument is what its pool was told about it."""


# In a helper process: its place in its pool (0, 1, ...), the same for the helper that replaces
# it; None in the crawl's own process.
_INDEX: list[int | None] = [None]


def helper_index() -> int | None:
    """Return this helper process's place in its pool (None outside a helper)."""
    return _INDEX[0]


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:
        n = sock.recv_into(view[got:])
        if not n:
            return None
        got += n
    return bytes(data)


def _serve(sock: socket.socket, inherited: list[socket.socket], name: str,
           setup: Callable[[], Callable[[Any], Any]], teardown: Callable[[], None] | None,
           index: int = 0) -> None:
    """A helper process: ``setup()`` gives the handler; answer each message until the socket
    closes, then ``teardown()``."""
    _INDEX[0] = index
    try:  # the name ps and top show (Linux); the command line stays the crawl's
        Path("/proc/self/comm").write_text(name[:15])
    except OSError:
        pass
    # The crawl stops its helpers itself; a signal to the whole process group is the crawl's.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.set_wakeup_fd(-1)  # the crawl's event loop's, not ours
    for other in inherited:
        # Only the crawl may hold the other end: once it is gone, reading meets the end.
        other.close()
    handle = setup()
    try:
        while True:
            header = _read_exactly(sock, HEADER.size)
            if header is None:
                break
            payload = _read_exactly(sock, HEADER.unpack(header)[0])
            if payload is None:
                break
            try:
                answer = pickle.dumps(("done", handle(pickle.loads(payload))), PICKLE_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - the crawl does this work itself
                answer = pickle.dumps(("failed", f"{type(exc).__name__}: {exc}"),
                                      PICKLE_PROTOCOL)
            sock.sendall(HEADER.pack(len(answer)) + answer)
    finally:
        if teardown is not None:
            teardown()
        sock.close()


class _Helper:
    """One helper process as the crawl sees it: its streams and the questions not answered."""

    def __init__(self, process: multiprocessing.process.BaseProcess, sock: socket.socket):
        self.process = process
        self.sock = sock
        self.writer: asyncio.StreamWriter | None = None
        self.pending: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.reading: asyncio.Task[None] | None = None
        self.alive = True
        self.replaced = False  # killed on purpose, and replaced: its end is no news


class ForkedPool:
    """``count`` helper processes, each running ``setup()``'s handler on what it is sent.

    Forked at construction, so the helpers have every module the crawl loaded; ``start`` (in
    the event loop) connects to them, ``call`` sends to the least busy one and awaits its
    answer, ``close`` lets them finish and waits for them. ``what`` names them in the log,
    ``name`` (at most 15 characters) in the process table."""

    def __init__(self, count: int, what: str, setup: Callable[[], Callable[[Any], Any]],
                 teardown: Callable[[], None] | None = None, *, name: str = "crawl-helper"):
        self.what = what
        self._fork = (name, setup, teardown)
        pairs = [socket.socketpair() for _ in range(count)]
        self.helpers: list[_Helper] = []
        for index, (mine, theirs) in enumerate(pairs):
            # Every other socket it inherits, this pool's and earlier pools', is closed in the
            # helper: a helper must not keep another helper from reading its end.
            inherited = [s for pair in pairs for s in pair if s is not theirs] + list(_OURS)
            self.helpers.append(_Helper(self._start_process(theirs, inherited, index), mine))
        for mine, theirs in pairs:
            theirs.close()
            _OURS.add(mine)
        self.closing = False

    def _start_process(self, theirs: socket.socket, inherited: list[socket.socket],
                       index: int) -> multiprocessing.process.BaseProcess:
        name, setup, teardown = self._fork
        process = multiprocessing.get_context("fork").Process(
            target=_serve, name=name, daemon=True,
            args=(theirs, inherited, name, setup, teardown, index))
        process.start()
        return process

    async def replace(self, index: int, why: str) -> None:
        """Kill helper ``index`` and put a new one in its place (forked from this process now).

        Its questions fail with HelperReplaced, but for those its caller answered already."""
        old = self.helpers[index]
        old.replaced, old.alive = True, False
        old.process.kill()
        while old.pending:
            future = old.pending.popleft()
            if not future.done():
                future.set_exception(HelperReplaced(f"{self.what} {old.process.pid} was "
                                                    f"replaced: {why}"))
        if old.writer is not None:
            old.writer.close()
        if old.reading is not None:
            await old.reading
        old.process.join()
        _OURS.discard(old.sock)
        mine, theirs = socket.socketpair()
        # As at the start: the new helper keeps no end but its own (not ours of its own pair
        # either, or it would never read the end of its socket).
        inherited = [mine, *(h.sock for h in self.helpers if h is not old), *_OURS]
        new = _Helper(self._start_process(theirs, inherited, index), mine)
        theirs.close()
        _OURS.add(mine)
        self.helpers[index] = new
        reader, new.writer = await asyncio.open_connection(sock=mine)
        new.reading = asyncio.ensure_future(self._read(new, reader))
        logger.warning("%s %s killed (%s); %s %s takes its place", self.what, old.process.pid,
                       why, self.what, new.process.pid)

    @property
    def pids(self) -> list[int]:
        """The helpers' process ids."""
        return [helper.process.pid for helper in self.helpers if helper.process.pid]

    async def start(self) -> None:
        """Connect to the helpers (from the event loop that will use the pool)."""
        for helper in self.helpers:
            reader, helper.writer = await asyncio.open_connection(sock=helper.sock)
            helper.reading = asyncio.ensure_future(self._read(helper, reader))

    async def _read(self, helper: _Helper, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                size = HEADER.unpack(await reader.readexactly(HEADER.size))[0]
                answer = pickle.loads(await reader.readexactly(size))
                future = helper.pending.popleft()
                if not future.done():
                    future.set_result(answer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            helper.alive = False
            if not self.closing and not helper.replaced:
                # Said whether or not it was busy: a helper that dies is news to the operator.
                logger.warning("%s %s ended (exit code %s); the crawl's own process takes its "
                               "work", self.what, helper.process.pid, helper.process.exitcode)
            while helper.pending:
                future = helper.pending.popleft()
                if not future.done():
                    future.set_exception(HelperDied(
                        f"{self.what} {helper.process.pid} ended "
                        f"(exit code {helper.process.exitcode})"))

    def ready(self) -> list[_Helper]:
        """The helpers that can take a message: alive and connected."""
        return [h for h in self.helpers if h.alive and h.writer is not None]

    async def call(self, message: Any) -> Any:
        """Return a helper's answer to ``message``; raise HelperDied when none could answer."""
        alive = self.ready()
        if not alive:
            raise HelperDied(f"no {self.what} is left")
        helper = min(alive, key=lambda h: len(h.pending))
        data = pickle.dumps(message, PICKLE_PROTOCOL)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        helper.pending.append(future)
        assert helper.writer is not None
        try:
            helper.writer.write(HEADER.pack(len(data)) + data)
            await helper.writer.drain()
        except (ConnectionError, OSError) as exc:  # it died before its end was read
            helper.alive = False
            future.cancel()
            raise HelperDied(f"{self.what} {helper.process.pid} could not take its work: "
                             f"{exc}") from exc
        status, answer = await future
        if status == "expired":
            raise HelperExpired(answer)
        if status != "done":
            raise HelperDied(f"{self.what} {helper.process.pid} failed: {answer}")
        return answer

    async def expire(self, index: int, why: str, about: Any) -> None:
        """Give up on the message helper ``index`` is working on (its oldest): its caller gets
        HelperExpired(``about``); the helper is killed and replaced (``replace``)."""
        helper = self.helpers[index]
        if helper.pending:
            future = helper.pending.popleft()
            if not future.done():
                future.set_result(("expired", about))
        await self.replace(index, why)

    async def close(self, timeout: float = 30.0) -> None:
        """Let the helpers answer what they have, end them, and wait for them."""
        self.closing = True
        for helper in self.helpers:
            if helper.writer is not None:
                helper.writer.close()
            else:  # never started: its socket is still ours to close
                helper.sock.close()
        deadline = time.monotonic() + timeout
        for helper in self.helpers:
            while helper.process.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if helper.process.is_alive():
                logger.warning("%s %s did not end within %s s of its socket closing; killed",
                               self.what, helper.process.pid, timeout)
                helper.process.kill()
            helper.process.join()
            if helper.reading is not None:
                await helper.reading
            _OURS.discard(helper.sock)
