"""The archive's manifest (``ARCHIVE_DIR/manifest.json``): what each file holds, after each run.

For every file under ``articles/``, ``rejects/``, ``runs/`` and ``raw/`` (paths relative to the
archive, so a copy elsewhere checks the same): its bytes, SHA-256 and lines; for a month file of
articles also the months and the article ids its records cover. Then totals and the schema and
extractor versions. ``python -m crawler verify`` checks an archive against it
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
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler import EXTRACTOR_VERSION
from crawler.items import SCHEMA_VERSION
from crawler.normalise.dates import VN_TZ
from crawler.run.outcome import is_storage_error
from crawler.store.archive import partition_of

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
FOLDERS = ("articles", "rejects", "runs", "raw")
TEXT_SUFFIXES = (".jsonl", ".json", ".cdxj")
CHUNK = 1 << 20


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
    """Return a file's manifest entry: bytes, SHA-256, lines (text files), months and ids."""
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
    """Return the months and article ids the records of a JSON Lines file cover."""
    months: set[str] = set()
    ids: set[str] = set()
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
    return {"months": sorted(months), "ids": sorted(ids)}


def totals(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the manifest's totals over its file entries."""
    articles = [e for e in entries if e["path"].startswith("articles/")]
    months = sorted({m for e in articles for m in e.get("months", [])})
    return {
        "files": len(entries),
        "bytes": sum(e["bytes"] for e in entries),
        "article_files": len(articles),
        "article_lines": sum(e["lines"] or 0 for e in articles),
        "articles": len({i for e in articles for i in e.get("ids", [])}),
        "reject_lines": sum(e["lines"] or 0 for e in entries if e["path"].startswith("rejects/")),
        "runs": sum(1 for e in entries if e["path"].startswith("runs/")),
        "months": len(months),
        "first_month": months[0] if months else None,
        "last_month": months[-1] if months else None,
    }


def read_manifest(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Return the archive's manifest, or None when it has none (or it does not parse)."""
    try:
        return json.loads((Path(root) / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def build_manifest(root: str | os.PathLike[str],
                   previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the manifest of an archive, reusing entries of files unchanged since ``previous``."""
    base = Path(root)
    known = {e["path"]: e for e in (previous or {}).get("files", [])}
    entries = []
    for rel in archive_files(base):
        stat = (base / rel).stat()
        old = known.get(rel)
        if old and old.get("bytes") == stat.st_size and old.get("mtime_ns") == stat.st_mtime_ns:
            entries.append(old)
            continue
        entry = describe_file(base, rel)
        entry["mtime_ns"] = stat.st_mtime_ns
        entries.append(entry)
    return {
        "manifest_version": MANIFEST_VERSION,
        "schema_version": SCHEMA_VERSION,
        "extractor_version": EXTRACTOR_VERSION,
        "written_at": dt.datetime.now(VN_TZ).replace(microsecond=0).isoformat(),
        "totals": totals(entries),
        "files": entries,
    }


def write_manifest(root: str | os.PathLike[str]) -> Path:
    """Write ``ARCHIVE_DIR/manifest.json`` atomically (temporary file, fsync, rename)."""
    base = Path(root)
    manifest = build_manifest(base, read_manifest(base))
    path = base / MANIFEST
    temporary = base / f".{MANIFEST}.tmp-{os.getpid()}"
    try:
        with temporary.open("w", encoding="utf-8") as fh:
            json.dump(manifest, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    t = manifest["totals"]
    logger.info("manifest %s: %s files, %s article lines, %s articles", path, t["files"],
                t["article_lines"], t["articles"])
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
