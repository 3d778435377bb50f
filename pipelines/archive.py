"""ArchivePipeline: writes each new or changed article once, and each reject, into ARCHIVE_DIR.

The logic is in crawler/store/archive.py and crawler/store/exporter.py;
this class wires it into Scrapy (settings, stats, drops). A storage failure (a full disk, an
I/O or permission error, the state database locked past ARCHIVE_DB_TIMEOUT) stops the run at
once with its own exit status (crawler/run/outcome.py); items still in flight are then not
written, and the next run fetches them again.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import CloseSpider, DropItem, NotConfigured

from crawler.items import ArticleItem, RejectItem
from crawler.run.outcome import ExitStatus, is_storage_error, report_problem, stop_for_storage
from crawler.store.archive import COLLISION, NEW, UNCHANGED, Archive, content_hash
from crawler.store.lock import ArchiveBusy

logger = logging.getLogger(__name__)


class ArchivePipeline:
    """The last pipeline: exactly-once JSON Lines writes, unchanged articles dropped and counted."""

    def __init__(self, archive_dir: str, *, fsync: bool, timeout: float, lock_wait: float = 0.0,
                 crawler: Any = None, stats: Any = None):
        self.archive_dir = archive_dir
        self.fsync = fsync
        self.timeout = timeout
        self.lock_wait = lock_wait
        self.crawler = crawler
        self.stats = stats if stats is not None else crawler.stats
        self.archive: Archive | None = None
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchivePipeline:
        settings = crawler.settings
        if not settings.getbool("ARCHIVE_ENABLED"):
            raise NotConfigured("ARCHIVE_ENABLED is off")
        return cls(settings.get("ARCHIVE_DIR"), fsync=settings.getbool("ARCHIVE_FSYNC"),
                   timeout=settings.getfloat("ARCHIVE_DB_TIMEOUT"),
                   lock_wait=settings.getfloat("ARCHIVE_LOCK_WAIT"), crawler=crawler)

    def open_spider(self) -> None:
        try:
            self.archive = Archive(self.archive_dir, fsync=self.fsync, timeout=self.timeout,
                                   lock_wait=self.lock_wait)
        except ArchiveBusy as exc:
            report_problem(self.stats, ExitStatus.ARCHIVE_BUSY, str(exc))
            raise CloseSpider("archive_busy") from exc
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            self._failed(exc, f"opening the archive {self.archive_dir}")
            raise CloseSpider("storage_failure") from exc
        logger.info("archive %s holds %s articles", self.archive_dir, self.archive.count())

    def close_spider(self) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None

    def _failed(self, exc: BaseException, what: str) -> None:
        self.failed = True
        if self.crawler is not None:
            stop_for_storage(self.crawler, exc, what)
        else:
            report_problem(self.stats, ExitStatus.STORAGE_FAILURE, f"{what}: {exc}")
            logger.error("STORAGE FAILURE %s: %s", what, exc)

    def process_item(self, item: Any) -> Any:
        """Archive the item; raise DropItem for an article whose content is already archived."""
        if not isinstance(item, (ArticleItem, RejectItem)):
            return item
        if self.failed or self.archive is None:
            # Not written, so not archived: the next run fetches it again.
            self.stats.inc_value("archive/storage/not_written")
            raise DropItem("not written: the archive's storage failed earlier in this run",
                           log_level="DEBUG")
        try:
            return self._archive(item)
        except DropItem:
            raise
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            what = f"writing {'reject' if isinstance(item, RejectItem) else 'article'} " \
                   f"{item.id or item.url}"
            self._failed(exc, what)
            self.stats.inc_value("archive/storage/not_written")
            raise DropItem(f"not written: {exc}", log_level="DEBUG") from exc

    def _archive(self, item: ArticleItem | RejectItem) -> Any:
        assert self.archive is not None
        if isinstance(item, RejectItem):
            self.archive.put_reject(item.to_record())
            self.stats.inc_value("archive/rejected")
            self.stats.inc_value(f"archive/rejected/{item.stage}")
            if item.retryable:
                # Left for the next run (crawler/run/undone.py counts them against a threshold).
                self.stats.inc_value("archive/rejected/retryable")
            return item
        record = item.to_record()
        item.content_hash = record["content_hash"] = content_hash(record)
        status, item.version = self.archive.store_article(record)
        if status == COLLISION:
            return self._collision(item, record)
        if status == UNCHANGED:
            self.stats.inc_value("archive/articles/unchanged")
            raise DropItem(
                f"unchanged: article {item.id} is archived with the same content", log_level="DEBUG"
            )
        self.stats.inc_value(f"archive/articles/{status}")
        if status != NEW:
            logger.info("article %s changed: version %s archived", item.id, item.version)
        return item

    def _collision(self, item: ArticleItem, record: dict[str, Any]) -> RejectItem:
        """Reject a record whose key another archived article holds: the crawler cannot tell
        which of the two the key means, so it keeps the one it has and says so."""
        assert self.archive is not None
        holder = self.archive.holder(record["key"])
        reject = RejectItem.from_article(
            item, stage="archive", reason=f"id collision: {record['key']} is already the key of "
            f"{holder}, another article (its URL gives another month); this one cannot be "
            "told apart from it and is not archived")
        self.archive.put_reject(reject.to_record())
        self.stats.inc_value("archive/rejected")
        self.stats.inc_value("archive/rejected/archive")
        self.stats.inc_value("archive/articles/collisions")
        logger.warning("article %s (%s): %s", item.id, item.url, reject.reason)
        return reject
