"""The archive on disk: month-partitioned JSON Lines, rejects, and the SQLite state of its content.

Layout under ARCHIVE_DIR:
    articles/YYYY-MM.jsonl   one record a line, partitioned by publication month
    rejects/YYYY-MM-DD.jsonl pages that could not become a record, by fetch date, with the reason
    state.sqlite3            what is archived (id, content hash, version) and how far each file
                             is known to be whole

A record counts as archived only once its line is on disk (flushed, fsynced) and the state says
so in the same SQLite transaction that advances the file's committed size. On open, anything past
a file's committed size is reconciled: whole lines are adopted (the process died between the write
and the commit), a torn last line is cut off. So a SIGKILL at any moment loses and duplicates
nothing, and no reader ever sees a torn line once the archive has been reopened.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from crawler.store.exporter import ArchiveItemExporter

logger = logging.getLogger(__name__)

# Fields that make up an article's content: a change in any of them is a new version.
# Fetch time, capture pointers, origin, provenance and the (listing-dependent) time of day are
# not content.
CONTENT_FIELDS = ("title", "kicker", "lead", "body", "authors", "byline", "source", "images",
                  "published_date")
# An image's content is its URL and caption; where it is mirrored (mirror_url) changes with
# the mirrors, not with the article.
IMAGE_CONTENT_KEYS = ("url", "caption")

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"

STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    published_date TEXT,
    url TEXT,
    file TEXT NOT NULL,
    archived_at TEXT
);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published_date);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    committed_size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rejects (
    url TEXT PRIMARY KEY,
    id TEXT,
    reason TEXT NOT NULL,
    stage TEXT,
    retryable INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    last_at TEXT
);
"""


def content_hash(record: dict[str, Any]) -> str:
    """Return a stable hash of a record's content fields."""
    content = {name: record.get(name) for name in CONTENT_FIELDS}
    if isinstance(content["images"], list):
        content["images"] = [{key: image.get(key) for key in IMAGE_CONTENT_KEYS}
                             if isinstance(image, dict) else image for image in content["images"]]
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def partition_of(record: dict[str, Any]) -> str:
    """Return the month partition (``YYYY-MM``) of a record by its publication date."""
    date = record.get("published_date") or ""
    return date[:7] if len(date) >= 7 else "undated"


class Archive:
    """Exactly-once writer and reader of an archive directory."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True, max_open: int = 16):
        self.root = Path(root)
        self.articles_dir = self.root / "articles"
        self.rejects_dir = self.root / "rejects"
        self.fsync = fsync
        self.max_open = max_open
        # Exporters serialise, the archive decides where a line goes and when it counts.
        self.exporter = ArchiveItemExporter()
        self._files: OrderedDict[Path, BinaryIO] = OrderedDict()
        self.articles_dir.mkdir(parents=True, exist_ok=True)
        self.rejects_dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.root / "state.sqlite3", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(STATE_SCHEMA)
        self.reconcile()

    # --- opening ---------------------------------------------------------------------------

    def reconcile(self) -> None:
        """Adopt whole lines written past the committed size of each file; cut torn tails."""
        committed = dict(self.db.execute("SELECT path, committed_size FROM files"))
        for directory in (self.articles_dir, self.rejects_dir):
            for path in sorted(directory.glob("*.jsonl")):
                rel = str(path.relative_to(self.root))
                self._reconcile_file(path, rel, committed.get(rel, 0))

    def _reconcile_file(self, path: Path, rel: str, committed: int) -> None:
        size = path.stat().st_size
        if size == committed:
            return
        if size < committed:
            logger.warning("%s is shorter (%s) than its committed size (%s)", rel, size, committed)
            self._commit_size(rel, size)
            return
        with path.open("rb+") as fh:
            fh.seek(committed)
            tail = fh.read()
            whole_end = tail.rfind(b"\n") + 1
            if whole_end < len(tail):
                logger.warning("%s: cutting a torn last line of %s bytes left by an interrupted "
                               "write", rel, len(tail) - whole_end)
                fh.truncate(committed + whole_end)
        adopted = 0
        for line in tail[:whole_end].splitlines():
            if line.strip() and rel.startswith("articles/"):
                self._register(json.loads(line), rel)
                adopted += 1
        if adopted:
            logger.info("%s: adopted %s record(s) written before an interruption", rel, adopted)
        self._commit_size(rel, committed + whole_end)

    def _commit_size(self, rel: str, size: int) -> None:
        self.db.execute(
            "INSERT INTO files(path, committed_size) VALUES(?, ?) "
            "ON CONFLICT(path) DO UPDATE SET committed_size = excluded.committed_size",
            (rel, size),
        )

    def _register(self, record: dict[str, Any], rel: str) -> None:
        self.db.execute(
            "INSERT INTO articles(id, content_hash, version, published_date, url, file,"
            " archived_at) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
            " content_hash = excluded.content_hash, version = excluded.version,"
            " published_date = excluded.published_date, url = excluded.url, file = excluded.file,"
            " archived_at = excluded.archived_at WHERE excluded.version >= articles.version",
            (record["id"], record["content_hash"], record.get("version") or 1,
             record.get("published_date"), record.get("url"), rel, record.get("fetched_at")),
        )

    # --- writing ---------------------------------------------------------------------------

    def _handle(self, path: Path) -> BinaryIO:
        fh = self._files.get(path)
        if fh is None:
            if len(self._files) >= self.max_open:
                _, oldest = self._files.popitem(last=False)
                oldest.close()
            fh = path.open("ab")
            self._files[path] = fh
        else:
            self._files.move_to_end(path)
        return fh

    def _append(self, path: Path, record: dict[str, Any]) -> tuple[str, int]:
        data = self.exporter.serialize_item(record)
        fh = self._handle(path)
        offset = fh.tell()
        fh.write(data)  # one write of one whole line
        fh.flush()
        if self.fsync:
            os.fsync(fh.fileno())
        return str(path.relative_to(self.root)), offset + len(data)

    def lookup(self, article_id: str) -> tuple[str, int] | None:
        """Return (content_hash, version) of the archived article, or None."""
        row = self.db.execute(
            "SELECT content_hash, version FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def classify(self, record: dict[str, Any]) -> tuple[str, int]:
        """Return whether a record is new, updated or unchanged, and the version it would get."""
        known = self.lookup(record["id"])
        if known is None:
            return NEW, 1
        if known[0] == record["content_hash"]:
            return UNCHANGED, known[1]
        return UPDATED, known[1] + 1

    def put_article(self, record: dict[str, Any]) -> str:
        """Write a record (content_hash and version already set) and mark it archived."""
        path = self.articles_dir / f"{partition_of(record)}.jsonl"
        rel, size = self._append(path, record)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self._register(record, rel)
            self._commit_size(rel, size)
            # Rejects of every URL variant of the article, and of the canonical URL, are done with.
            self.db.execute("DELETE FROM rejects WHERE id = ? OR url = ?",
                            (record["id"], record.get("url")))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return rel

    def put_reject(self, record: dict[str, Any]) -> str:
        """Append a reject record with its reason, and remember it for a retry when retryable.

        A reject of a web archive's capture (with an ``origin``) is written but not remembered:
        the rejects table decides what the live crawl retries or skips, and an archive's bad copy
        says nothing about the page on the site."""
        day = (record.get("fetched_at") or "undated")[:10]
        rel, size = self._append(self.rejects_dir / f"{day}.jsonl", record)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self._commit_size(rel, size)
            if record.get("origin"):
                self.db.execute("COMMIT")
                return rel
            self.db.execute(
                "INSERT INTO rejects(url, id, reason, stage, retryable, last_at)"
                " VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET"
                " reason = excluded.reason, stage = excluded.stage,"
                " retryable = excluded.retryable, count = rejects.count + 1,"
                " last_at = excluded.last_at",
                (record["url"], record.get("id"), record["reason"], record.get("stage"),
                 int(bool(record.get("retryable"))), record.get("fetched_at")),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return rel

    def count(self) -> int:
        """Return the number of distinct articles archived."""
        return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def close(self) -> None:
        """Close every open file and the state database."""
        for fh in self._files.values():
            fh.close()
        self._files.clear()
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_records(root: str | os.PathLike[str], kind: str = "articles") -> Iterator[dict[str, Any]]:
    """Yield every record of an archive directory (``articles`` or ``rejects``), file by file."""
    for path in sorted((Path(root) / kind).glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


def latest_records(root: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Return the latest version of every archived article, by id."""
    latest: dict[str, dict[str, Any]] = {}
    for record in iter_records(root):
        known = latest.get(record["id"])
        if known is None or (record.get("version") or 1) >= (known.get("version") or 1):
            latest[record["id"]] = record
    return latest
