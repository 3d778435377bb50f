"""``scrapy crawl`` for this project: the exit status says how the run went.

Bad or unknown spider arguments are a usage error (exit 2) before anything runs, and so is the
placeholder ARCHIVE_CONTACT when the crawl's hosts are not on loopback (crawler/run/contact.py);
the archive's lock is taken before the crawl starts (another run holding it: exit 8, or wait up
to ARCHIVE_LOCK_WAIT seconds); the run report's verdict (crawler/run/report.py, statuses in
crawler/run/outcome.py) is the exit status, and a signal that stopped the run is remembered so
the status is 128 + its number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import signal
import time
from typing import Any

from scrapy import signals
from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.normalise.dates import VN_TZ
from crawler.run.contact import placeholder_problem
from crawler.run.outcome import (
    EXIT_CODE_KEY,
    SIGNAL_KEY,
    ExitStatus,
    exit_status,
    problems_of,
    signal_name,
)
from crawler.sources import COMMONCRAWL, WAYBACK
from crawler.store import lock as archive_lock
from crawler.store.folder import writing_problem
from spiders.baonamdinh import BaoNamDinhSpider
from spiders.options import CrawlOptions

logger = logging.getLogger(__name__)


class Command(ScrapyCrawl):
    """Scrapy's crawl, plus: -a checked up front, one run per archive, a meaningful exit status.

    Built on Scrapy's public API only (``create_crawler``, ``crawl``, ``start``, the
    ``engine_started`` signal): the crawler is created here, so that its stats can be read once
    the run is over, and the signal that stops a run is seen by wrapping the handler Scrapy has
    installed by the time the engine starts."""

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if len(args) != 1:
            raise UsageError("give one spider: scrapy crawl baonamdinh", print_help=False)
        if args[0] == BaoNamDinhSpider.name:
            try:
                options = CrawlOptions.parse(**opts.spargs)
            except ValueError as exc:
                raise UsageError(str(exc), print_help=False) from None
            problem = placeholder_problem(self.settings, _targets(self.settings, options.source))
            if problem:
                raise UsageError(problem, print_help=False)
        root = self.settings.get("ARCHIVE_DIR")
        problem = writing_problem(root)
        if problem:
            raise UsageError(f"ARCHIVE_DIR: {problem}", print_help=False)
        try:
            key = archive_lock.acquire(root, wait=self.settings.getfloat("ARCHIVE_LOCK_WAIT"))
        except archive_lock.ArchiveBusy as exc:
            logger.error("%s", exc)
            self.exitcode = int(ExitStatus.ARCHIVE_BUSY)
            return
        except OSError as exc:
            logger.error("STORAGE FAILURE: the archive %s cannot be opened for writing: %s",
                         root, exc)
            self.exitcode = int(ExitStatus.STORAGE_FAILURE)
            return
        # Log lines in Vietnam time, as every other time the archive shows (whatever the
        # machine's zone): the class attribute is Python's documented switch for all formatters.
        logging.Formatter.converter = staticmethod(_vietnam_time)  # type: ignore[assignment]
        assert self.crawler_process is not None
        crawler = self.crawler_process.create_crawler(args[0])
        crawler.signals.connect(lambda: _remember_signal(crawler), signal=signals.engine_started,
                                weak=False)
        try:
            self.crawler_process.crawl(crawler, **opts.spargs)
            self.crawler_process.start()
        finally:
            archive_lock.release(key)
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        stats = _stats_of(crawler)
        if stats is not None:
            # The report's verdict; a run that ended before its report may still have said why.
            code = stats.get_value(EXIT_CODE_KEY)
            if code is None:
                code = exit_status(problems_of(stats))
            if code:
                self.exitcode = int(code)


def _remember_signal(crawler: Any) -> None:
    """Wrap the handlers Scrapy installed for SIGINT and SIGTERM, so that the number of the
    signal that stops the run goes into its stats (the exit status is then 128 + it)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        original = signal.getsignal(signum)
        if not callable(original):  # not Scrapy's: the status is then 130 for any signal
            logger.debug("no handler for %s to wrap", signal_name(signum))
            continue

        def handler(number: int, frame: Any, original: Any = original) -> None:
            stats = _stats_of(crawler)
            if stats is not None and stats.get_value(SIGNAL_KEY) is None:
                stats.set_value(SIGNAL_KEY, number)
            original(number, frame)

        signal.signal(signum, handler)


def _vietnam_time(seconds: float | None) -> time.struct_time:
    """logging.Formatter's converter: a time stamp as Vietnam's wall clock."""
    return dt.datetime.fromtimestamp(time.time() if seconds is None else seconds,
                                     VN_TZ).timetuple()


def _targets(settings: Any, source: str) -> list[str]:
    """Return the base URLs a crawl from this source sends requests to."""
    if source == WAYBACK:
        return [settings.get("WAYBACK_URL")]
    if source == COMMONCRAWL:
        return [settings.get("COMMONCRAWL_INDEX_URL"), settings.get("COMMONCRAWL_DATA_URL")]
    return [settings.get("SITE_URL")]


def _stats_of(crawler: Any) -> Any:
    """Return a crawler's stats, or None before the crawl set them (it failed to start)."""
    try:
        return crawler.stats if crawler is not None else None
    except RuntimeError:
        return None
