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
import logging
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.run.contact import placeholder_problem
from crawler.run.outcome import EXIT_CODE_KEY, SIGNAL_KEY, ExitStatus, exit_status, problems_of
from crawler.sources import COMMONCRAWL, WAYBACK
from crawler.store import lock as archive_lock
from spiders.baonamdinh import BaoNamDinhSpider
from spiders.options import CrawlOptions

logger = logging.getLogger(__name__)


class Command(ScrapyCrawl):
    """Scrapy's crawl, plus: -a checked up front, one run per archive, a meaningful exit status."""

    def _create_crawler(self, spname: str) -> Any:
        self._crawler = super()._create_crawler(spname)
        return self._crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args and args[0] == BaoNamDinhSpider.name:
            try:
                options = CrawlOptions.parse(**opts.spargs)
            except ValueError as exc:
                raise UsageError(str(exc), print_help=False) from None
            problem = placeholder_problem(self.settings, _targets(self.settings, options.source))
            if problem:
                raise UsageError(problem, print_help=False)
        root = self.settings.get("ARCHIVE_DIR")
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
        try:
            self._remember_signal()
            super().run(args, opts)
        finally:
            archive_lock.release(key)
        stats = _stats_of(getattr(self, "_crawler", None))
        if stats is not None:
            # The report's verdict; a run that ended before its report may still have said why.
            code = stats.get_value(EXIT_CODE_KEY)
            if code is None:
                code = exit_status(problems_of(stats))
            if code:
                self.exitcode = int(code)

    def _remember_signal(self) -> None:
        """Put the number of a signal that stops the run into the stats, for the exit status."""
        process = self.crawler_process
        original = getattr(process, "_signal_shutdown", None)
        if original is None:  # another Scrapy: the status is then 130 for any signal
            return

        def shutdown(signum: int, frame: Any) -> None:
            stats = _stats_of(getattr(self, "_crawler", None))
            if stats is not None and stats.get_value(SIGNAL_KEY) is None:
                stats.set_value(SIGNAL_KEY, signum)
            original(signum, frame)

        process._signal_shutdown = shutdown  # read by CrawlerProcess.start() to install it


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
