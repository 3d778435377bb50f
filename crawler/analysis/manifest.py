"""The archive's manifest (``ARCHIVE_DIR/manifest.json``): what each file holds, after each run.

For every file under ``articles/``, ``rejects/``, ``runs/`` and ``raw/`` (paths relative to the
archive, so a copy elsewhere checks the same): its bytes, SHA-256 and lines; for a month file of
articles also the months, the article ids and the article keys (``old:<id>``, ``new:<id>``: ids
of the two CMS generations can be the same string) its records cover. Then totals and the schema
and extractor versions. One JSON document, with one file entry a line, so that it is written
and read (``iter_entries``) an entry at a time: at a quarter of a million articles it names as
many ids. ``python -m crawler verify`` checks an archive against it
(crawler/analysis/verify.py).

``write_manifest`` is the one writer. It runs when a crawl's engine has stopped (the
``ManifestWriter`` extension: by then the archive, the run report and the WARC index are closed),
and after ``reextract``, ``extract --archive-dir`` and ``import-text --archive-dir``. It writes a
temporary file and renames it, so a reader never sees half a manifest. A file whose size and
modification time are those the previous manifest recorded is not read again (its hash, lines and
ids are carried over): ``verify`` always reads everything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler import EXTRACTOR_VERSION
from crawler.items import SCHEMA_VERSION, record_key
from crawler.normalise.dates import VN_TZ
from crawler.run.outcome import is_storage_error
from crawler.store.archive import partition_of
from crawler.store.scratch import scratch_db

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
FOLDERS = ("articles", "rejects", "runs", "raw")
TEXT_SUFFIXES = (".jsonl", ".json", ".cdxj")
CHUNK = 1 << 20
# The line that opens the list of file entries, one entry a line after it.
FILES_START = b'"files": ['


def archive_files(root: str | os.PathLike[str]) -> list[str]:
    """Return every file the manifest covers, relative to the archive root, sorted."""
    base = Path(root)
    found = []
    for folder in FOLDERS:
        for path in (base / folder).rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                found.append(path.relative_to(base).as_posix())
    return sorted(found)


def describe_file(root: str | os.PathLike[str], rel: str) -> dict[str, Any]:
    """Return a file's manifest entry: bytes, SHA-256, lines (text files), months, ids, keys."""
    path = Path(root) / rel
    digest = hashlib.sha256()
    size = lines = 0
    text = rel.endswith(TEXT_SUFFIXES)
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if text:
                lines += chunk.count(b"\n")
    entry: dict[str, Any] = {"path": rel, "bytes": size, "sha256": digest.hexdigest(),
                             "lines": lines if text else None}
    if rel.startswith("articles/") and rel.endswith(".jsonl"):
        entry.update(covered(path))
    return entry


def covered(path: Path) -> dict[str, Any]:
    """Return the months, article ids and article keys the records of a JSON Lines file cover."""
    months: set[str] = set()
    ids: set[str] = set()
    keys: set[str] = set()
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                continue  # verify reports the line; the manifest describes the file as it is
            if isinstance(record, dict):
                month = partition_of(record)
                if month != "undated":
                    months.add(month)
                if isinstance(record.get("id"), str):
                    ids.add(record["id"])
                    keys.add(record_key(record))
    return {"months": sorted(months), "ids": sorted(ids), "keys": sorted(keys)}


class Totals:
    """The manifest's totals, added up entry by entry; the articles (distinct keys across the
    files) are counted in a scratch database, not in memory."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {"files": 0, "bytes": 0, "article_files": 0,
                                       "article_lines": 0, "articles": 0, "reject_lines": 0,
                                       "runs": 0, "months": 0, "first_month": None,
                                       "last_month": None}
        self.months: set[str] = set()
        self.keys = scratch_db("CREATE TABLE keys (key TEXT PRIMARY KEY) WITHOUT ROWID;")

    def add(self, entry: dict[str, Any]) -> None:
        """Count one file's entry."""
        v = self.values
        v["files"] += 1
        v["bytes"] += entry["bytes"]
        path = entry["path"]
        if path.startswith("articles/"):
            v["article_files"] += 1
            v["article_lines"] += entry["lines"] or 0
            self.months.update(entry.get("months", []))
            self.keys.executemany("INSERT OR IGNORE INTO keys VALUES(?)",
                                  ((key,) for key in entry.get("keys", [])))
        elif path.startswith("rejects/"):
            v["reject_lines"] += entry["lines"] or 0
        elif path.startswith("runs/"):
            v["runs"] += 1

    def result(self) -> dict[str, Any]:
        """Return the totals (and drop the scratch database)."""
        v = dict(self.values)
        v["articles"] = self.keys.execute("SELECT COUNT(*) FROM keys").fetchone()[0]
        self.keys.close()
        months = sorted(self.months)
        v.update(months=len(months), first_month=months[0] if months else None,
                 last_month=months[-1] if months else None)
        return v


def totals(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the manifest's totals over its file entries."""
    counting = Totals()
    for entry in entries:
        counting.add(entry)
    return counting.result()


def iter_entries(root: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield the file entries of the archive's manifest one by one, without reading it whole
    (a manifest written before entries went one a line is read whole); none when it has none.
    ValueError when it does not parse."""
    path = Path(root) / MANIFEST
    try:
        fh = path.open("rb")
    except OSError:
        return
    with fh:
        first = fh.readline()
        if first.strip() != b"{":
            yield from json.loads(first + fh.read()).get("files", [])
            return
        for raw in fh:
            if raw.rstrip() == FILES_START:
                break
            if raw.lstrip().startswith(b'"files"'):  # the layout before: the whole document
                fh.seek(0)
                yield from json.loads(fh.read()).get("files", [])
                return
        for raw in fh:
            line = raw.strip()
            if line.startswith(b"]"):
                return
            yield json.loads(line.rstrip(b","))


def read_manifest(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Return the archive's manifest, or None when it has none (or it does not parse)."""
    try:
        return json.loads((Path(root) / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def build_manifest(root: str | os.PathLike[str], out: IO[str],
                   previous: Iterator[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Write the manifest of an archive to ``out``, one file entry a line, reusing the entries
    of files unchanged since the ``previous`` ones (in path order); return its totals.

    Entries are written as they are made and never all held: a quarter of a million articles
    name as many ids."""
    base = Path(root)
    known = _Previous(previous if previous is not None else iter(()))
    counting = Totals()
    entries = tempfile.TemporaryFile("w+", encoding="utf-8")
    with entries:
        for rel in archive_files(base):
            stat = (base / rel).stat()
            old = known.get(rel)
            if old and old.get("bytes") == stat.st_size and \
                    old.get("mtime_ns") == stat.st_mtime_ns and \
                    ("keys" in old or not rel.startswith("articles/")):
                entry = old
            else:
                entry = describe_file(base, rel)
                entry["mtime_ns"] = stat.st_mtime_ns
            counting.add(entry)
            entries.write(json.dumps(entry, ensure_ascii=False) + ",\n")
        result = counting.result()
        head = {"manifest_version": MANIFEST_VERSION, "schema_version": SCHEMA_VERSION,
                "extractor_version": EXTRACTOR_VERSION,
                "written_at": dt.datetime.now(VN_TZ).replace(microsecond=0).isoformat(),
                "totals": result}
        out.write("{\n")
        for name, value in head.items():
            out.write(f"{json.dumps(name)}: {json.dumps(value, ensure_ascii=False)},\n")
        out.write(FILES_START.decode() + "\n")
        entries.seek(0)
        last = None
        for line in entries:
            if last is not None:
                out.write(last)
            last = line
        if last is not None:
            out.write(last.rstrip().rstrip(",") + "\n")
        out.write("]\n}\n")
    return result


class _Previous:
    """The previous manifest's entries, looked up in path order (both lists are sorted)."""

    def __init__(self, entries: Iterator[dict[str, Any]]):
        self._entries = entries
        self._next: dict[str, Any] | None = None

    def get(self, rel: str) -> dict[str, Any] | None:
        while True:
            if self._next is None:
                try:
                    self._next = next(self._entries)
                except (StopIteration, ValueError):
                    return None
            path = self._next.get("path", "")
            if path == rel:
                return self._next
            if path > rel:
                return None
            self._next = None


def write_manifest(root: str | os.PathLike[str]) -> Path:
    """Write ``ARCHIVE_DIR/manifest.json`` atomically (temporary file, fsync, rename)."""
    base = Path(root)
    started = time.monotonic()
    path = base / MANIFEST
    temporary = base / f".{MANIFEST}.tmp-{os.getpid()}"
    try:
        with temporary.open("w", encoding="utf-8") as fh:
            try:
                t = build_manifest(base, fh, iter_entries(base))
            except ValueError:  # a previous manifest that does not parse: describe everything
                fh.seek(0)
                fh.truncate()
                t = build_manifest(base, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    logger.info("manifest %s: %s files, %s article lines, %s articles (%.2f s)", path,
                t["files"], t["article_lines"], t["articles"], time.monotonic() - started)
    return path


class ManifestWriter:
    """Extension: writes the manifest once the engine has stopped (archive, report, WARC closed)."""

    def __init__(self, archive_dir: str):
        self.archive_dir = archive_dir

    @classmethod
    def from_crawler(cls, crawler: Any) -> ManifestWriter:
        if not crawler.settings.getbool("ARCHIVE_ENABLED"):
            raise NotConfigured("ARCHIVE_ENABLED is off")
        ext = cls(crawler.settings.get("ARCHIVE_DIR"))
        crawler.signals.connect(ext.engine_stopped, signal=signals.engine_stopped)
        return ext

    def engine_stopped(self) -> None:
        if not (Path(self.archive_dir) / "articles").is_dir():
            return
        try:
            write_manifest(self.archive_dir)
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            # The run's exit status is already set (a full disk is a storage failure there);
            # the previous manifest stays whole, and `verify` will say it is out of date.
            logger.error("manifest not written: %s", exc)
