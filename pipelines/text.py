"""TextCleanupPipeline: every text field of an article as clean NFC plain text (first, at 100).

The logic is in crawler/normalise/text.py;
this class wires it into Scrapy (settings, stats, drops).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler

from crawler.items import ArticleItem
from crawler.normalise.keys import fold
from crawler.normalise.text import clean_line, clean_text, clean_title

logger = logging.getLogger(__name__)

# Titles and kickers are one line; lead, body and byline keep their line and paragraph breaks.
_FIELDS = (
    ("title", clean_title),
    ("kicker", clean_line),
    ("section_name", clean_line),
    ("lead", clean_text),
    ("body", clean_text),
    ("byline", clean_text),
)


class TextCleanupPipeline:
    """Decode entities, strip markup, normalise Unicode and whitespace in every text field."""

    # Needs nothing but the item: a crawl may run it in a worker process
    # (crawler/process/workers.py).
    worker_safe = True

    def __init__(self, stats: Any) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TextCleanupPipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Clean an ArticleItem in place; pass anything else through untouched."""
        if not isinstance(item, ArticleItem):
            return item
        changed = 0
        for name, clean in _FIELDS:
            before = getattr(item, name)
            after = clean(before)
            changed += after != before
            setattr(item, name, after)
        item.images = [self._image(image) for image in item.images or []]
        item.authors = self._authors(item.authors)
        self.stats.inc_value("archive/text/items")
        if changed:
            self.stats.inc_value("archive/text/fields_changed", changed)
        if item.title is None:
            self.stats.inc_value("archive/text/title_empty")
            logger.debug("No title left after cleaning: %s", item.url)
        return item

    @staticmethod
    def _image(image: dict[str, Any]) -> dict[str, Any]:
        cleaned = dict(image)
        for key in ("caption", "alt"):
            if key in cleaned:
                value = cleaned[key]
                cleaned[key] = clean_line(value) if isinstance(value, str) else None
        return cleaned

    @staticmethod
    def _authors(authors: list[str] | None) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        for author in authors or []:
            name = clean_line(author) if isinstance(author, str) else None
            if name and fold(name) not in seen:
                seen.add(fold(name))
                out.append(name)
        return out
