"""The time budget of one page: a page whose extraction and pipelines take longer than
PROCESSING_TIMEOUT seconds becomes a reject "timeout in STAGE", and the run goes on.

Where it is enforced (issue 21):
- in a worker process (crawler/process/workers.py), from outside: the worker writes which page
  and stage it is at into a slot of memory it shares with the crawl (``StageSlots``); the crawl
  looks at the slots, and a worker over the budget is killed and replaced by a fresh one, so
  whatever state the page left it in goes with it;
- in the calling process (``PROCESSING_WORKERS=0``, a crawl whose workers are all gone, the
  command line's ``extract`` and ``import-text``, the pages ``reextract`` extracts itself), from
  inside: a SIGALRM timer raises ``StageTimeout`` in the code that runs, wherever it is (Python's
  regular expressions check for signals as they run). Only the main thread can take a signal:
  elsewhere the budget is not enforced. The archive (the pipelines a worker does not run) is never
  under the budget: a record is never cut while it is written.
"""

from __future__ import annotations

import logging
import mmap
import os
import signal
import struct
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from crawler.items import ArticleItem, PageItem, RejectItem
from crawler.site.urls import parse_article_url

logger = logging.getLogger(__name__)

SETTING = "PROCESSING_TIMEOUT"
STATS_PREFIX = "archive/timeouts"
T = TypeVar("T")


class StageTimeout(BaseException):
    """A page went over its time budget (a BaseException: no guard may turn it into a crash)."""


def budget_of(settings: Any) -> float:
    """Return PROCESSING_TIMEOUT in seconds (0: no budget)."""
    return max(0.0, settings.getfloat(SETTING, 0.0))


def can_alarm() -> bool:
    """True where a SIGALRM timer can interrupt the code that runs: the main thread, on Unix."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


# The page under a budget now: its deadline (time.monotonic()) and its budget; None between pages.
_DEADLINE: list[Any] = [None, 0.0]
# When the armed timer fires (time.monotonic()), 0.0 when none is: kept here, not asked of the
# kernel. A forked child has no timer (POSIX), whatever its parent had.
_TIMER_DUE = [0.0]
os.register_at_fork(after_in_child=lambda: _TIMER_DUE.__setitem__(0, 0.0))


def _arm(seconds: float) -> None:
    _TIMER_DUE[0] = time.monotonic() + seconds
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _expire(signum: int, frame: Any) -> None:
    _TIMER_DUE[0] = 0.0
    deadline, seconds = _DEADLINE
    if deadline is None:
        return  # between pages: the timer lapses
    remaining = deadline - time.monotonic()
    if remaining > 0:  # armed for an earlier page: on to this one's deadline
        _arm(remaining)
        return
    raise StageTimeout(seconds)


def within(seconds: float, run: Callable[[], T]) -> T:
    """Return ``run()``; raise StageTimeout if it has not returned within ``seconds`` (wall
    clock). Call only where ``can_alarm()``; not re-entrant.

    The handler stays installed and the timer armed from one call to the next, the handler
    moving it on to the current page's deadline when it fires early: a page costs no system
    call. (A handler swapped in and out and the timer set and cleared, four system calls a
    page, made a site page's extraction 2% slower, more than the calls' own time.)"""
    if signal.getsignal(signal.SIGALRM) is not _expire:
        signal.signal(signal.SIGALRM, _expire)
        _TIMER_DUE[0] = 0.0  # whoever had the signal may have set the timer too
    now = time.monotonic()
    _DEADLINE[:] = [now + seconds, seconds]
    due = _TIMER_DUE[0]
    if not due or due > now + seconds:
        _arm(seconds)
    try:
        return run()
    finally:
        _DEADLINE[0] = None


def timeout_reason(stage: str, seconds: float) -> str:
    """Return the reject reason of a page that went over its budget at ``stage``."""
    return f"timeout in {stage}: the page took more than {seconds:g} s ({SETTING})"


def timeout_reject(item: Any, stage: str, seconds: float, stats: Any | None = None) -> RejectItem:
    """Return the reject of a page (or the article made of it) that went over its budget at
    ``stage``; log it (WARNING) and count it. Not retryable: the same page would do it again
    (a backfill or ``reextract`` gives it another chance, as for a crash)."""
    url = getattr(item, "url", None) or ""
    logger.warning("timeout in %s on %s: more than %g s (%s); the page is rejected and the run "
                   "goes on", stage, url, seconds, SETTING)
    if stats is not None:
        stats.inc_value(f"{STATS_PREFIX}/{stage}")
    reason = timeout_reason(stage, seconds)
    if isinstance(item, ArticleItem):
        return RejectItem.from_article(item, reason=reason, stage=stage)
    ref = parse_article_url(url) if url else None
    page = item if isinstance(item, PageItem) else None
    return RejectItem(url=url, reason=reason, stage=stage,
                      fetched_at=getattr(item, "fetched_at", None) or "",
                      id=getattr(item, "id", None) or (ref.id if ref else None), retryable=False,
                      http_status=getattr(item, "http_status", None),
                      capture=getattr(item, "capture", None),
                      listing_raw=page.listing_raw if page is not None else None,
                      origin=getattr(item, "origin", None))


# One slot per worker: when its current page began (time.monotonic(), 0 when idle), how many
# pages it has begun, and the stage it is at.
_SLOT = struct.Struct("=dQ24s")


class StageSlots:
    """Memory shared between the crawl and its workers (made before they are forked): where
    each worker is. A worker writes its own slot; the crawl reads them all."""

    def __init__(self, count: int):
        self.count = count
        self.memory = mmap.mmap(-1, max(1, count) * _SLOT.size)

    def begin(self, index: int) -> None:
        """In a worker: a page begins (at stage ``extract``)."""
        _started, pages, _stage = self.read(index)
        _SLOT.pack_into(self.memory, index * _SLOT.size, time.monotonic(), pages + 1,
                        b"extract")

    def stage(self, index: int, name: str) -> None:
        """In a worker: the page goes on to stage ``name``."""
        struct.pack_into("=24s", self.memory, index * _SLOT.size + 16, name.encode()[:24])

    def end(self, index: int) -> None:
        """In a worker: the page is done."""
        struct.pack_into("=d", self.memory, index * _SLOT.size, 0.0)

    def read(self, index: int) -> tuple[float, int, str]:
        """Return (when its page began or 0, pages begun, stage) of a worker."""
        started, pages, stage = _SLOT.unpack_from(self.memory, index * _SLOT.size)
        return started, pages, stage.rstrip(b"\0").decode(errors="replace")

    def clear(self, index: int) -> None:
        """Make a slot idle (for the worker that replaces a killed one)."""
        _SLOT.pack_into(self.memory, index * _SLOT.size, 0.0, 0, b"")
