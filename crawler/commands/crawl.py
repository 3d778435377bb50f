"""``scrapy crawl`` for this project: bad spider arguments are a usage error (exit 2).

And a run report's alarm is a non-zero exit (crawler/run/report.py sets the status).
"""

from __future__ import annotations

import argparse
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from spiders.baonamdinh import BaoNamDinhSpider, CrawlOptions


class Command(ScrapyCrawl):
    """Scrapy's crawl, plus: -a values validated up front; exit 3 when the run report alarms."""

    def _create_crawler(self, spname: str) -> Any:
        self._crawler = super()._create_crawler(spname)
        return self._crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args and args[0] == BaoNamDinhSpider.name:
            known = {k: opts.spargs.get(k) for k in CrawlOptions.ARGUMENTS}
            try:
                CrawlOptions.parse(**known)
            except ValueError as exc:
                raise UsageError(str(exc), print_help=False) from None
        super().run(args, opts)
        crawler = getattr(self, "_crawler", None)
        if crawler is not None and self.exitcode == 0:
            self.exitcode = int(crawler.stats.get_value("archive/run/exit_code", 0) or 0)
