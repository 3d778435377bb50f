"""BylinePipeline: the byline out of the body tail, parsed into authors and source (at 400).

The logic is in crawler/normalise/bylines.py;
this class wires it into Scrapy (settings, stats, drops).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler

from crawler.items import ArticleItem
from crawler.normalise.bylines import parse_byline, remove_byline_copy, split_byline
from crawler.normalise.keys import fold

logger = logging.getLogger(__name__)


class BylinePipeline:
    """Take the byline after the end mark (or trust the extractor's) and credit its authors."""

    # Needs nothing but the item: a crawl may run it in a worker process
    # (crawler/process/workers.py).
    worker_safe = True

    def __init__(self, stats: Any) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BylinePipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Set body, byline, authors and source of an ArticleItem; pass anything else through."""
        if not isinstance(item, ArticleItem):
            return item
        if item.byline is None:
            if item.body:
                body, byline = split_byline(item.body)
                item.body = body or None
                if byline is not None:
                    item.byline = byline
                    item.provenance.setdefault("byline", "body")
        elif item.body:
            item.body = remove_byline_copy(item.body, item.byline) or None

        if item.byline is None:
            self.stats.inc_value("archive/bylines/missing")
            logger.debug("No byline: %s", item.url)
            return item

        parsed = parse_byline(item.byline)
        had_authors = bool(item.authors)
        seen = {fold(a) for a in item.authors}
        for author in parsed.authors:
            if fold(author) not in seen:
                seen.add(fold(author))
                item.authors.append(author)
        if item.authors and not had_authors:
            item.provenance["authors"] = "byline"
        if parsed.source and item.source is None:
            item.source = parsed.source
            item.provenance.setdefault("source", "byline")

        if parsed.authors:
            self.stats.inc_value("archive/bylines/found")
        elif parsed.source:
            self.stats.inc_value("archive/bylines/source_only")
        else:
            self.stats.inc_value("archive/bylines/unparsed")
            logger.info("Byline not understood on %s: %r", item.url, item.byline)
        return item
