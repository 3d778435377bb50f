"""The archive on disk: month-partitioned JSON Lines, rejects, and the SQLite state of its content.

Layout under ARCHIVE_DIR:
    articles/YYYY-MM.jsonl   one record a line, partitioned by publication month
    rejects/YYYY-MM-DD.jsonl pages that could not become a record, by fetch date, with the reason
    state.sqlite3            what is archived (id, content hash, version) and how far each file
                             is known to be whole (crawler/store/statedb.py)
    quarantine/              damaged lines moved aside (crawler/store/reconcile.py)
    lock                     held by the one process writing the archive (crawler/store/lock.py)

A record counts as archived only once its line is on disk (written, fsynced) and the state says
so in the same SQLite transaction that advances the file's committed size. The transaction is
opened before the line is written, so the state's write lock is held first: a database locked
from outside fails the write before anything reaches the file. A write that fails (a full disk,
an I/O error) cuts the file back to where the line began, so no torn line is left; a line whose
commit then failed is adopted by the next write to that file or the next start, never written
twice. On open the state is reconciled with the files (crawler/store/reconcile.py), and only one
process at a time opens an archive for writing. So a SIGKILL at any moment loses and duplicates
nothing, and no reader ever sees a torn line once the archive has been reopened.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crawler.items import record_key
from crawler.site.urls import parse_article_url
from crawler.store import lock as archive_lock
from crawler.store.exporter import ArchiveItemExporter
from crawler.store.lines import prefix_digest
from crawler.store.reconcile import Reconciliation, open_archive_db, settle_tail
from crawler.store.statedb import DEFAULT_TIMEOUT, SCHEMA, register_reject

logger = logging.getLogger(__name__)

# Fields that make up an article's content: a change in any of them is a new version.
# Fetch time, capture pointers, origin, provenance and the (listing-dependent) time of day are
# not content; nor is published_month, derived from published_date or the URL: counting it would
# make every article archived before it existed a new version on its next fetch.
CONTENT_FIELDS = ("title", "kicker", "lead", "body", "authors", "byline", "source", "images",
                  "published_date")
# An image's content is its URL and caption; where it is mirrored (mirror_url) changes with
# the mirrors, not with the article.
IMAGE_CONTENT_KEYS = ("url", "caption")

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"
# Another article already holds the record's key (same CMS generation and id, another month in
# its URL): the crawler cannot tell them apart, so the record is not archived (a reject says so).
COLLISION = "collision"

# The state's tables (kept under this name for older imports).
STATE_SCHEMA = SCHEMA


def content_hash(record: dict[str, Any]) -> str:
    """Return a stable hash of a record's content fields."""
    content = {name: record.get(name) for name in CONTENT_FIELDS}
    if isinstance(content["images"], list):
        content["images"] = [{key: image.get(key) for key in IMAGE_CONTENT_KEYS}
                             if isinstance(image, dict) else image for image in content["images"]]
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def partition_of(record: dict[str, Any]) -> str:
    """Return the month partition (``YYYY-MM``) of a record by its month of publication."""
    # Records of schema 1.0.0 have no published_month; their published_date tells it.
    month = record.get("published_month") or (record.get("published_date") or "")[:7]
    return month if len(month) == 7 else "undated"


class Archive:
    """Exactly-once writer and reader of an archive directory (one writing process at a time)."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True, max_open: int = 16,
                 timeout: float = DEFAULT_TIMEOUT, lock_wait: float = 0.0):
        self.root = Path(root)
        self.articles_dir = self.root / "articles"
        self.rejects_dir = self.root / "rejects"
        self.fsync = fsync
        self.max_open = max_open
        # Exporters serialise, the archive decides where a line goes and when it counts.
        self.exporter = ArchiveItemExporter()
        self._fds: OrderedDict[str, int] = OrderedDict()
        # Per file written in this process: the committed size its SHA-256 object has read up
        # to (the state keeps each file's committed hash: crawler/store/lines.py).
        self._digests: dict[str, tuple[int, Any]] = {}
        self.articles_dir.mkdir(parents=True, exist_ok=True)
        self.rejects_dir.mkdir(parents=True, exist_ok=True)
        self._lock = archive_lock.acquire(self.root, wait=lock_wait)
        try:
            self.db, self.reconciliation = open_archive_db(self.root, timeout=timeout)
        except BaseException:
            archive_lock.release(self._lock)
            raise

    def reconcile(self) -> Reconciliation:
        """Reconcile the state with the files again (crawler/store/reconcile.py)."""
        from crawler.store.reconcile import reconcile

        return reconcile(self.root, self.db)

    # --- state rows ------------------------------------------------------------------------

    def _commit_size(self, rel: str, size: int, mtime_ns: int | None) -> None:
        cached = self._digests.get(rel)
        sha = cached[1].hexdigest() if cached and cached[0] == size else None
        self.db.execute(
            "INSERT INTO files(path, committed_size, mtime_ns, committed_sha256) VALUES(?, ?, ?, ?)"
            " ON CONFLICT(path) DO UPDATE SET committed_size = excluded.committed_size,"
            " mtime_ns = excluded.mtime_ns, committed_sha256 = excluded.committed_sha256",
            (rel, size, mtime_ns, sha),
        )

    def _register(self, record: dict[str, Any], rel: str) -> None:
        self.db.execute(
            "INSERT INTO articles(key, id, content_hash, version, published_date, url, file,"
            " archived_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
            " id = excluded.id, content_hash = excluded.content_hash,"
            " version = excluded.version, published_date = excluded.published_date,"
            " url = excluded.url, file = excluded.file, archived_at = excluded.archived_at"
            " WHERE excluded.version >= articles.version",
            (record_key(record), record["id"], record["content_hash"],
             record.get("version") or 1, record.get("published_date"), record.get("url"), rel,
             record.get("fetched_at")),
        )

    # --- writing ---------------------------------------------------------------------------

    def _fd(self, rel: str) -> int:
        fd = self._fds.get(rel)
        if fd is None:
            if len(self._fds) >= self.max_open:
                _, oldest = self._fds.popitem(last=False)
                os.close(oldest)
            fd = os.open(self.root / rel, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._fds[rel] = fd
        else:
            self._fds.move_to_end(rel)
        return fd

    def _settle(self, rel: str) -> None:
        """In the open transaction: adopt lines of ``rel`` written past its committed size, and
        know the SHA-256 of its committed bytes (read once per file and process, checked
        against the one the state recorded)."""
        row = self.db.execute("SELECT committed_size, committed_sha256 FROM files WHERE path = ?",
                              (rel,)).fetchone()
        committed, sha = row if row else (0, None)
        path = self.root / rel
        size = path.stat().st_size if path.exists() else 0
        if size < committed:
            raise OSError(errno.EIO, f"{rel} is {size} bytes, shorter than the {committed} bytes "
                          "committed: it was changed behind the archive's back")
        cached = self._digests.get(rel)
        if cached is None or cached[0] != committed:
            digest = prefix_digest(path, committed)
            if sha is not None and digest.hexdigest() != sha:
                raise OSError(errno.EIO, f"{rel}: its first {committed} bytes are not the ones "
                              "committed: it was changed behind the archive's back")
            self._digests[rel] = (committed, digest)
        if size > committed:
            size, mtime_ns = settle_tail(self.root, self.db, rel, committed)
            self._digests[rel] = (size, prefix_digest(path, size))
            self._commit_size(rel, size, mtime_ns)

    def _append(self, rel: str, data: bytes) -> tuple[int, int]:
        """Append one whole line; return the file's size and mtime. A failed write leaves none."""
        fd = self._fd(rel)
        start = os.fstat(fd).st_size
        try:
            view, done = memoryview(data), 0
            while done < len(data):
                done += os.write(fd, view[done:])
            if self.fsync:
                os.fsync(fd)
        except BaseException:
            self._cut(rel, fd, start)
            raise
        st = os.fstat(fd)
        cached = self._digests.get(rel)
        if cached is not None and cached[0] == start and st.st_size == start + len(data):
            cached[1].update(data)
            self._digests[rel] = (st.st_size, cached[1])
        else:  # read again from the file when next needed
            self._digests.pop(rel, None)
        return st.st_size, st.st_mtime_ns

    def _cut(self, rel: str, fd: int, size: int) -> None:
        """Cut a file back to ``size`` after a failed write, so no part of the line stays."""
        try:
            os.ftruncate(fd, size)
            if self.fsync:
                os.fsync(fd)
        except OSError as exc:
            logger.error("%s: could not cut back a partial line at offset %s (%s); the next "
                         "start moves it aside", rel, size, exc)

    def _transaction(self, work: Any) -> Any:
        """Run ``work()`` in one IMMEDIATE transaction (the state's write lock taken first)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            result = work()
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                try:
                    self.db.execute("ROLLBACK")
                except sqlite3.Error as exc:
                    logger.error("state rollback failed: %s", exc)
            raise
        return result

    def lookup(self, key: str) -> tuple[str, int] | None:
        """Return (content_hash, version) of the archived article with this key, or None."""
        row = self.db.execute(
            "SELECT content_hash, version FROM articles WHERE key = ?", (key,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def classify(self, record: dict[str, Any]) -> tuple[str, int]:
        """Return whether a record is new, updated, unchanged or a collision (another article
        holds its key), and the version it would get."""
        row = self.db.execute("SELECT content_hash, version, url FROM articles WHERE key = ?",
                              (record_key(record),)).fetchone()
        if row is None:
            return NEW, 1
        if _other_article(row[2], record.get("url")):
            return COLLISION, 0
        if row[0] == record["content_hash"]:
            return UNCHANGED, row[1]
        return UPDATED, row[1] + 1

    def holder(self, key: str) -> str | None:
        """Return the URL of the archived article with this key, or None."""
        row = self.db.execute("SELECT url FROM articles WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _write_article(self, record: dict[str, Any], rel: str) -> None:
        size, mtime_ns = self._append(rel, self.exporter.serialize_item(record))
        self._register(record, rel)
        self._commit_size(rel, size, mtime_ns)
        self._forget_rejects(record)

    def _forget_rejects(self, record: dict[str, Any]) -> None:
        # Rejects of every URL variant of the article, and of the canonical URL, are done with.
        self.db.execute("DELETE FROM rejects WHERE key = ? OR url = ?",
                        (record_key(record), record.get("url")))

    def store_article(self, record: dict[str, Any]) -> tuple[str, int]:
        """Archive a record (content_hash set) unless held unchanged; set and return its version.

        Returns (new | updated | unchanged | collision, version). Classifying and writing happen
        in one transaction, after lines left uncommitted in the file are adopted, so an article
        is never written twice. A collision (another article holds the record's key) writes
        nothing: the caller rejects the record."""
        rel = f"articles/{partition_of(record)}.jsonl"

        def work() -> tuple[str, int]:
            self._settle(rel)
            status, version = self.classify(record)
            if status == COLLISION:
                return status, version
            record["version"] = version
            if status != UNCHANGED:
                self._write_article(record, rel)
            else:  # fetched and archived as it is: whatever made it a reject has passed
                self._forget_rejects(record)
            return status, version

        return self._transaction(work)

    def put_article(self, record: dict[str, Any]) -> str:
        """Write a record (content_hash and version already set) and mark it archived."""
        rel = f"articles/{partition_of(record)}.jsonl"

        def work() -> str:
            self._settle(rel)
            self._write_article(record, rel)
            return rel

        return self._transaction(work)

    def put_reject(self, record: dict[str, Any]) -> str:
        """Append a reject record with its reason, and remember it for a retry when retryable.

        A reject of a web archive's capture (with an ``origin``) is written but not remembered:
        the rejects table decides what the live crawl retries or skips, and an archive's bad copy
        says nothing about the page on the site."""
        day = (record.get("fetched_at") or "undated")[:10]
        rel = f"rejects/{day}.jsonl"

        def work() -> str:
            self._settle(rel)
            size, mtime_ns = self._append(rel, self.exporter.serialize_item(record))
            self._commit_size(rel, size, mtime_ns)
            register_reject(self.db, record)
            return rel

        return self._transaction(work)

    def count(self) -> int:
        """Return the number of distinct articles archived."""
        return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def close(self) -> None:
        """Close every open file and the state database, and let go of the archive's lock."""
        try:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()
            self.db.close()
        finally:
            archive_lock.release(self._lock)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _other_article(archived_url: str | None, url: str | None) -> bool:
    """True when two URLs with one key are two articles: their URLs give other months.

    The URL's month is the month of publication, fixed for an article; its slug (a retitled
    article) and section may change. URLs that are not article URLs (a text dump) tell nothing."""
    before = parse_article_url(archived_url) if archived_url else None
    now = parse_article_url(url) if url else None
    return before is not None and now is not None and before.month != now.month


def iter_records(root: str | os.PathLike[str], kind: str = "articles") -> Iterator[dict[str, Any]]:
    """Yield every record of an archive directory (``articles`` or ``rejects``), file by file."""
    for path in sorted((Path(root) / kind).glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError as exc:
                        raise ValueError(f"{path} line {number}: not a JSON record ({exc}); "
                                         "opening the archive moves it aside") from None


def latest_records(root: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Return the latest version of every archived article, by key (for tests and small
    archives: it holds every record)."""
    latest: dict[str, dict[str, Any]] = {}
    for record in iter_records(root):
        key = record_key(record)
        known = latest.get(key)
        if known is None or (record.get("version") or 1) >= (known.get("version") or 1):
            latest[key] = record
    return latest
