"""Exit statuses of ``scrapy crawl baonamdinh``, and how a run's problems become one of them.

Components that meet a failure record it in the crawler's stats with ``report_problem`` (the
archive pipeline a storage failure, the robots.txt middleware a robots.txt that forbids the
crawl, the spider a site that does not answer); the run report (crawler/run/report.py) adds what
it judges at the end (coverage alarms, article links dropped, an interrupted run, work left
undone: crawler/run/undone.py), picks the status with ``exit_status`` and puts it under
``archive/run/exit_code``, which the crawl command (crawler/commands/crawl.py) returns. The
docs/operating.md's "Exit statuses" table is this module in prose.
"""

from __future__ import annotations

import errno
import logging
import signal
import sqlite3
from enum import IntEnum
from typing import Any

from scrapy.utils.defer import deferred_from_coro

logger = logging.getLogger(__name__)


class ExitStatus(IntEnum):
    """What a crawl's exit status means (a contract with cron and systemd: never renumber)."""

    OK = 0
    NOT_STARTED = 1  # Scrapy could not start (bad setting, import error)
    USAGE = 2  # a bad -a or -s value
    COVERAGE_ALARM = 3  # a field's coverage fell sharply (a site redesign?)
    SITE_UNREACHABLE = 4  # no answer from the site, or nothing could be fetched
    ROBOTS_FORBIDS = 5  # robots.txt forbids the crawl, or could not be read (RFC 9309)
    STORAGE_FAILURE = 6  # disk full, permission, I/O error, the state database locked
    LINKS_DROPPED = 7  # more article links on hosts that are not aliases than allowed
    ARCHIVE_BUSY = 8  # another run holds the archive
    INCOMPLETE = 9  # work left for the next run: a walk cut, listings or pages that failed
    INTERRUPTED = 130  # stopped by a signal: 128 + its number (130 SIGINT, 143 SIGTERM)


# When a run has several problems, the first of these in this order is its exit status.
PRECEDENCE = (
    ExitStatus.STORAGE_FAILURE,
    ExitStatus.INTERRUPTED,
    ExitStatus.ROBOTS_FORBIDS,
    ExitStatus.SITE_UNREACHABLE,
    ExitStatus.INCOMPLETE,
    ExitStatus.LINKS_DROPPED,
    ExitStatus.COVERAGE_ALARM,
)
PROBLEMS_KEY = "archive/run/problems"
EXIT_CODE_KEY = "archive/run/exit_code"
SIGNAL_KEY = "archive/run/signal"
# Close reasons of a run stopped by a storage failure, and by a signal (Scrapy's own).
STORAGE_REASON = "storage_failure"
SHUTDOWN_REASON = "shutdown"

# OSError numbers that mean the archive cannot be written, as opposed to a bug.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EACCES,
                            errno.EPERM, errno.EFBIG, errno.ENOENT, errno.ENOTDIR, errno.EISDIR,
                            errno.EMFILE, errno.ENFILE, errno.ESTALE})


def is_storage_error(exc: BaseException) -> bool:
    """True when an exception means the archive's storage failed (not a bug in the code)."""
    if isinstance(exc, OSError):
        return exc.errno in STORAGE_ERRNOS or exc.errno is None
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return any(word in text for word in ("disk", "full", "locked", "readonly", "read-only",
                                             "unable to open", "i/o"))
    return isinstance(exc, sqlite3.DatabaseError)


def report_problem(stats: Any, status: ExitStatus, message: str) -> None:
    """Record a problem of the run; the run report turns the worst one into the exit status."""
    problems = stats.get_value(PROBLEMS_KEY) or []
    if not any(p["status"] == int(status) and p["message"] == message for p in problems):
        problems.append({"status": int(status), "name": status.name.lower().replace("_", "-"),
                         "message": message})
        stats.set_value(PROBLEMS_KEY, problems)


def problems_of(stats: Any) -> list[dict[str, Any]]:
    """Return the problems recorded so far (a copy)."""
    return list(stats.get_value(PROBLEMS_KEY) or [])


def exit_status(problems: list[dict[str, Any]], signum: int | None = None) -> int:
    """Return the exit status of a run with these problems (0 when there are none)."""
    present = {p["status"] for p in problems}
    for status in PRECEDENCE:
        if int(status) in present:
            if status is ExitStatus.INTERRUPTED and signum:
                return 128 + signum
            return int(status)
    return int(ExitStatus.OK)


def signal_name(signum: int | None) -> str:
    """Return a signal's name (SIGTERM), or 'a signal' when unknown."""
    try:
        return signal.Signals(signum).name if signum else "a signal"
    except ValueError:
        return f"signal {signum}"


def stop_for_storage(crawler: Any, exc: BaseException, what: str) -> None:
    """Stop the run at once after a storage failure, recording it (once) as the exit status."""
    stats = crawler.stats
    first = not any(p["status"] == int(ExitStatus.STORAGE_FAILURE) for p in problems_of(stats))
    report_problem(stats, ExitStatus.STORAGE_FAILURE, f"{what}: {exc}")
    stats.inc_value("archive/storage/failures")
    if not first:
        return
    logger.error("STORAGE FAILURE %s: %s; stopping the run (nothing is lost: what was not "
                 "committed is fetched again by the next run)", what, exc)
    try:
        engine = crawler.engine
    except (AttributeError, RuntimeError):  # Scrapy 2.19 raises RuntimeError before the crawl
        engine = None
    if engine is not None and getattr(engine, "spider", None) is not None:
        closing = deferred_from_coro(engine.close_spider_async(reason=STORAGE_REASON))
        closing.addErrback(lambda failure: logger.error("closing the run failed: %s",
                                                        failure.value))
