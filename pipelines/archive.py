"""ArchivePipeline: writes each new or changed article once, and each reject, into ARCHIVE_DIR.

The logic is in crawler/store/archive.py and crawler/store/exporter.py;
this class wires it into Scrapy (settings, stats, drops).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import DropItem, NotConfigured

from crawler.items import ArticleItem, RejectItem
from crawler.store.archive import NEW, UNCHANGED, Archive, content_hash

logger = logging.getLogger(__name__)


class ArchivePipeline:
    """The last pipeline: exactly-once JSON Lines writes, unchanged articles dropped and counted."""

    def __init__(self, archive_dir: str, *, fsync: bool, stats: Any):
        self.archive_dir = archive_dir
        self.fsync = fsync
        self.stats = stats
        self.archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchivePipeline:
        settings = crawler.settings
        if not settings.getbool("ARCHIVE_ENABLED"):
            raise NotConfigured("ARCHIVE_ENABLED is off")
        return cls(settings.get("ARCHIVE_DIR"), fsync=settings.getbool("ARCHIVE_FSYNC"),
                   stats=crawler.stats)

    def open_spider(self) -> None:
        self.archive = Archive(self.archive_dir, fsync=self.fsync)
        logger.info("archive %s holds %s articles", self.archive_dir, self.archive.count())

    def close_spider(self) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None

    def process_item(self, item: Any) -> Any:
        """Archive the item; raise DropItem for an article whose content is already archived."""
        assert self.archive is not None, "open_spider() was not called"
        if isinstance(item, RejectItem):
            self.archive.put_reject(item.to_record())
            self.stats.inc_value("archive/rejected")
            self.stats.inc_value(f"archive/rejected/{item.stage}")
            return item
        if not isinstance(item, ArticleItem):
            return item
        record = item.to_record()
        item.content_hash = record["content_hash"] = content_hash(record)
        status, item.version = self.archive.classify(record)
        if status == UNCHANGED:
            self.stats.inc_value("archive/articles/unchanged")
            raise DropItem(
                f"unchanged: article {item.id} is archived with the same content", log_level="DEBUG"
            )
        self.archive.put_article(item.to_record())
        self.stats.inc_value(f"archive/articles/{status}")
        if status != NEW:
            logger.info("article %s changed: version %s archived", item.id, item.version)
        return item
