"""SectionPipeline: learns which old channel is which new slug, and keys each record by it (650).

The logic is crawler/normalise/sections.py (keys, pairing by printed name) and
crawler/store/sections.py (what has been learnt, in the archive's state). For each article this
pipeline notes what the page printed (its navigation links to section listings, its own section's
name), fills in a section name the page did not print from what the site printed elsewhere (the
listing's title, links to it), and sets ``section_key``: for an old-CMS record the slug its
channel pairs with, once the site's names tell it; before that, the slug of the name printed.
The spider notes the home and listing pages' links and titles into the same table.

It needs the archive's state, so it runs in the crawl's own process after validation (the
pipelines before it may run in worker processes). Learning is best-effort: when the state cannot
be read or written, it says so once and keys records from what their own pages print.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy.exceptions import NotConfigured

from crawler.items import ArticleItem
from crawler.normalise.sections import FROM_LINKS, is_channel, section_key
from crawler.run.outcome import is_storage_error
from crawler.store.sections import LINK, PAGE, TITLE, SectionBook
from crawler.store.statedb import STATE_NAME, connect

logger = logging.getLogger(__name__)


class SectionPipeline:
    """Give each record its section's name (when the page printed none) and its section_key."""

    def __init__(self, archive_dir: str | None, *, timeout: float, stats: Any):
        self.archive_dir = archive_dir
        self.timeout = timeout
        self.stats = stats
        self.book: SectionBook | None = None
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> SectionPipeline:
        settings = crawler.settings
        if not settings.getbool("ARCHIVE_ENABLED"):
            raise NotConfigured("ARCHIVE_ENABLED is off: no state to learn sections in")
        return cls(settings.get("ARCHIVE_DIR"), timeout=settings.getfloat("ARCHIVE_DB_TIMEOUT"),
                   stats=crawler.stats)

    def _open(self) -> SectionBook | None:
        # Opened at the first item, once the archive pipeline has opened (and, if need be,
        # set aside and rebuilt) the state database.
        if self.book is None and not self.failed and self.archive_dir:
            try:
                self.book = SectionBook(connect(Path(self.archive_dir) / STATE_NAME,
                                                timeout=self.timeout))
            except Exception as exc:
                self._give_up(exc)
        return self.book

    def _give_up(self, exc: BaseException) -> None:
        if not is_storage_error(exc):
            raise exc
        self.failed = True
        logger.warning("sections: cannot use the archive's state (%s); records are keyed by "
                       "what their own pages print until the next run", exc)
        if self.book is not None and self.book.db is not None:
            self.book.db.close()
        self.book = None

    def close_spider(self) -> None:
        if self.book is None:
            return
        self._say_what_is_known(self.book)
        try:
            self.book.flush()
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            logger.warning("sections: the counts of this run were not written: %s", exc)
        if self.book.db is not None:
            self.book.db.close()
        self.book = None

    def process_item(self, item: Any) -> Any:
        """Set the article's section_key (and a missing section_name); pass the rest through."""
        if not isinstance(item, ArticleItem):
            return item
        channels: dict[str, str] = {}
        book = self._open()
        if book is not None:
            try:
                channels = self._learn(book, item)
            except Exception as exc:
                self._give_up(exc)
                channels = {}
        key, how = section_key(item.section, item.cms, item.section_name, channels)
        item.section_key = key
        if how:
            item.provenance["section_key"] = how
            self.stats.inc_value(f"archive/sections/key/{how}")
        return item

    def _learn(self, book: SectionBook, item: ArticleItem) -> dict[str, str]:
        """Note what the page printed; return the channels whose slug is known."""
        code = _code(item.section)
        book.note(item.section_links, LINK, item.fetched_at)
        if code and item.section_name:
            book.note([(code, item.section_name)], PAGE, item.fetched_at)
        channels = book.channels()
        if is_channel(code) and code not in channels and book.reload():
            channels = book.channels()  # the spider may have read a page that tells
        if code and not item.section_name:
            found = book.name_of(code)
            if found:
                item.section_name = found[0]
                item.provenance["section_name"] = "listing" if found[1] == TITLE else FROM_LINKS
                self.stats.inc_value("archive/sections/name_learnt")
        return channels

    def _say_what_is_known(self, book: SectionBook) -> None:
        """Log, once a run, which old channels have a new slug and which not (yet)."""
        channels = book.channels()
        names = book.names()
        alone = [f"{code} {names[code].most_common(1)[0][0]!r}" for code in sorted(names)
                 if is_channel(code) and code not in channels]
        self.stats.set_value("archive/sections/paired", len(channels))
        if channels or alone:
            logger.info("sections: old channels with the new CMS's slug (the site prints the "
                        "same name for both): %s; without one, keyed by their name's slug: %s",
                        ", ".join(f"{c}={s}" for c, s in sorted(channels.items())) or "none",
                        ", ".join(alone) or "none")


def _code(section: str | None) -> str | None:
    """Return the code a record's section has in the book: a channel id, or a lower-case slug."""
    return section.lower() if section else None
