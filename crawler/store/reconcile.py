"""The state follows the files: reconcile state.sqlite3 with the JSON Lines files it indexes.

The JSON Lines files are the archive of record. Before a run writes anything (and whenever an
Archive is opened), ``reconcile`` compares them with the state and makes the state true again:

* lines past a file's committed size (a run killed, or a commit that failed, after the write)
  are adopted, never written a second time;
* an article whose line is gone (a line or a whole month file deleted) is no longer archived: its
  row is forgotten, it is queued for a fetch by the next run (a retryable reject row, reason
  ``reconcile: ...``) and every listing is opened again, so the next nightly walks them to their
  end; an article whose newest version's line is gone falls back to the version still on disk
  and is queued the same way;
* a line that is not a whole JSON record (garbage, a torn tail) is moved, as it was, to
  ``quarantine/<kind>-<name>-<time>.jsonl`` with a WARNING that names both files; never fatal.

Reads only what changed. A file whose size and modification time are those the state recorded
at its last commit is not read. One whose size or time moved is checked against its own
committed state: the SHA-256 of its first ``committed_size`` bytes (the ``files`` table). When
they are still the bytes committed (a ``touch``, a copy or restore that dropped the times, lines
written after the last commit), only the lines after them are read. When they are not (a line
edited or deleted), that file alone is read again and its articles compared with theirs in the
state; only if one of them lost its line is every article file read (a full scan: the article
may have an older version elsewhere). A missing month file, or a state rebuilt, is a full scan.

Memory does not grow with the archive: files are read a line at a time, and what a scan learns
per article goes into temporary tables of the state's connection (which SQLite spills to a
temporary file), not into Python objects; a Reconciliation keeps counts and a few examples.

``plan`` only reads and returns what would change; ``apply`` does it. ``reconcile`` is both, or
with ``dry_run=True`` just the plan (for a read-only checker). ``open_archive_db`` opens the state
database (rebuilding a damaged one, crawler/store/statedb.py) and reconciles it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.items import record_key
from crawler.normalise.dates import VN_TZ
from crawler.store.lines import (
    QUARANTINE_DIR,
    BadLine,
    FileCheck,
    ends_with_newline,
    prefix_digest,
    quarantine,
    read_lines,
    rewrite_without,
)
from crawler.store.statedb import (
    DEFAULT_TIMEOUT,
    open_state,
    rebuild_rejects_and_runs,
    upsert_reject,
)

__all__ = ["QUARANTINE_DIR", "BadLine", "FileCheck", "Reconciliation", "apply", "open_archive_db",
           "plan", "reconcile", "settle_tail"]

logger = logging.getLogger(__name__)

KINDS = ("articles", "rejects")
RECONCILE_STAGE = "reconcile"
# Examples a Reconciliation keeps of each kind of change (the counts are whole).
EXAMPLES = 1000
ROW = "key, id, content_hash, version, published_date, url, file, archived_at"

SCRATCH = f"""
CREATE TEMP TABLE IF NOT EXISTS reconcile_lines ({ROW}, seq INTEGER, uncommitted INTEGER);
CREATE TEMP TABLE IF NOT EXISTS reconcile_rejects (record TEXT);
CREATE TEMP TABLE IF NOT EXISTS reconcile_rows ({ROW});
CREATE TEMP TABLE IF NOT EXISTS reconcile_lost (key TEXT, id TEXT, file TEXT, url TEXT,
                                                had INTEGER, on_disk INTEGER);
DELETE FROM reconcile_lines;
DELETE FROM reconcile_rejects;
DELETE FROM reconcile_rows;
DELETE FROM reconcile_lost;
"""


@dataclass
class Reconciliation:
    """What reconciling an archive changes (or, planned, would change) in its state and files."""

    deep: bool = False
    rebuilt_from: Path | None = None
    checks: list[FileCheck] = field(default_factory=list)
    # (file, key, version) of lines on disk the state did not know: the first EXAMPLES
    adopted: list[tuple[str, str, int]] = field(default_factory=list)
    adopted_count: int = 0
    # (key, file it was in, url) of archived articles with no line left on disk (examples)
    lost: list[tuple[str, str, str | None]] = field(default_factory=list)
    lost_count: int = 0
    # (key, version the state had, version on disk, url): the newest version's line is gone
    fallen_back: list[tuple[str, int, int, str | None]] = field(default_factory=list)
    fallen_back_count: int = 0
    missing_files: list[str] = field(default_factory=list)
    # article rows to write (adopted or corrected): how many (they wait in reconcile_rows)
    row_count: int = 0
    # committed size, modification time and committed SHA-256 to record, by file
    sizes: dict[str, tuple[int, int, str | None]] = field(default_factory=dict)
    duplicate_lines: int = 0
    # where applying moved damaged lines (relative to the archive)
    quarantine_files: list[str] = field(default_factory=list)
    # the state knew no file while article files exist: it was deleted (or is a new one)
    state_was_empty: bool = False
    # files whose committed bytes changed, read whole and compared (no full scan needed)
    changed_files: list[str] = field(default_factory=list)

    @property
    def bad_lines(self) -> list[BadLine]:
        return [bad for check in self.checks for bad in check.bad]

    @property
    def changed(self) -> bool:
        """True when applying this changes the state or a file."""
        return bool(self.row_count or self.lost_count or self.fallen_back_count or self.bad_lines
                    or self.missing_files or self.rebuilt_from or self.sizes)

    def summary(self) -> list[str]:
        """Return one line per change, for logs and checkers (empty when nothing changes)."""
        lines = []
        if self.rebuilt_from:
            lines.append(f"state rebuilt from the files (the damaged one is {self.rebuilt_from})")
        if self.adopted_count:
            lines.append(f"{self.adopted_count} line(s) on disk adopted into the state")
        if self.lost_count:
            lines.append(f"{self.lost_count} archived article(s) with no line on disk, to fetch "
                         "again: " + ", ".join(f"{k} ({f})" for k, f, _ in self.lost[:5])
                         + (" ..." if self.lost_count > 5 else ""))
        if self.fallen_back_count:
            lines.append(f"{self.fallen_back_count} article(s) whose newest version's line is "
                         "gone, back to the version on disk and to fetch again")
        if self.missing_files:
            lines.append(f"file(s) the state knew that are gone: {', '.join(self.missing_files)}")
        for bad in self.bad_lines:
            lines.append(f"{bad.file} line {bad.line_no} (offset {bad.offset}): {bad.reason}")
        if self.duplicate_lines:
            lines.append(f"{self.duplicate_lines} line(s) repeat an article version already "
                         "on disk (left as they are)")
        return lines


# --- reading ---------------------------------------------------------------------------------

def _files_on_disk(root: Path) -> dict[str, os.stat_result]:
    found = {}
    for kind in KINDS:
        folder = root / kind
        if folder.is_dir():
            for path in sorted(folder.glob("*.jsonl")):
                found[f"{kind}/{path.name}"] = path.stat()
    return found


def _article_row(record: dict[str, Any], rel: str) -> tuple[Any, ...]:
    return (record_key(record), record["id"], record["content_hash"], record.get("version") or 1,
            record.get("published_date"), record.get("url"), rel, record.get("fetched_at"))


class _Reader:
    """Reads files into the scratch tables, a line at a time, in order (``seq``)."""

    def __init__(self, root: Path, db: sqlite3.Connection, result: Reconciliation):
        self.root, self.db, self.result = root, db, result
        self.seq = 0

    def read(self, rel: str, start: int, *, uncommitted: bool, digest: Any = None) -> FileCheck:
        check = FileCheck(rel=rel, start=start, size=start, uncommitted=uncommitted)
        if digest is None and start == 0:
            digest = prefix_digest(self.root / rel, 0)
        article = rel.startswith("articles/")
        batch: list[tuple[Any, ...]] = []
        for _offset, record in read_lines(self.root, check, digest):
            if article:
                self.seq += 1
                batch.append((*_article_row(record, rel), self.seq, int(uncommitted)))
                if len(batch) >= 1000:
                    self._flush(batch)
            elif uncommitted:
                self.db.execute("INSERT INTO reconcile_rejects(record) VALUES(?)",
                                (json.dumps(record, ensure_ascii=False),))
        self._flush(batch)
        self.result.checks.append(check)
        return check

    def _flush(self, batch: list[tuple[Any, ...]]) -> None:
        if batch:
            self.db.executemany(f"INSERT INTO reconcile_lines({ROW}, seq, uncommitted)"
                                " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            batch.clear()


def plan(root: str | os.PathLike[str], db: sqlite3.Connection, *, deep: bool | None = None
         ) -> Reconciliation:
    """Return what reconciling the archive at ``root`` with its state ``db`` would change.

    Reads files and the database, changes neither (what it learns waits in temporary tables of
    ``db`` for ``apply``). ``deep=None`` scans every article file only when a file is gone or a
    changed file lost the line of an article; True always; False never."""
    root = Path(root)
    result = Reconciliation()
    db.executescript(SCRATCH)
    on_disk = _files_on_disk(root)
    recorded = {row[0]: (row[1], row[2], row[3]) for row in db.execute(
        "SELECT path, committed_size, mtime_ns, committed_sha256 FROM files")}
    article_files = {row[0] for row in db.execute("SELECT DISTINCT file FROM articles")}
    result.missing_files = sorted((set(recorded) | article_files) - set(on_disk))
    result.state_was_empty = not recorded and any(r.startswith("articles/") for r in on_disk)
    needs_deep = any(rel.startswith("articles/") for rel in result.missing_files)
    reader = _Reader(root, db, result)
    whole: list[str] = []
    for rel, st in on_disk.items():
        if rel not in recorded:
            # never committed: every line was written by an interrupted run
            reader.read(rel, 0, uncommitted=True)
            continue
        committed, mtime_ns, sha = recorded[rel]
        if st.st_size == committed and mtime_ns == st.st_mtime_ns:
            continue  # just as the last commit left it
        if mtime_ns is None or st.st_size < committed:
            whole.append(rel)  # shorter than committed, or from before times were recorded
            needs_deep = needs_deep or (mtime_ns is None and rel.startswith("articles/"))
            continue
        digest = prefix_digest(root / rel, committed)
        if sha is None and st.st_size == committed:
            whole.append(rel)  # touched, and no hash to tell: read it and compare
        elif sha is not None and digest.hexdigest() != sha:
            whole.append(rel)  # its committed bytes changed
        elif st.st_size == committed:
            result.sizes[rel] = (committed, st.st_mtime_ns, digest.hexdigest())
        elif sha is not None or ends_with_newline(root / rel, committed):
            # lines written after the last commit: read only those
            reader.read(rel, committed, uncommitted=True, digest=digest)
        else:
            whole.append(rel)
    result.deep = needs_deep if deep is None else deep
    tails = {check.rel for check in result.checks}
    if result.deep:
        result.checks = [c for c in result.checks if not c.rel.startswith("articles/")]
        db.execute("DELETE FROM reconcile_lines")
        whole = sorted(set(whole) | {rel for rel in on_disk if rel.startswith("articles/")})
    for rel in sorted(whole):
        reader.read(rel, 0, uncommitted=False)
    changed = sorted(rel for rel in whole if rel.startswith("articles/") and rel not in tails)
    db.execute("CREATE INDEX IF NOT EXISTS temp.reconcile_lines_key ON reconcile_lines(key,"
               " version)")
    if not result.deep and changed and deep is None and _lost_a_line(db, changed):
        # An article of a changed file lost its line: it may have an older version elsewhere.
        return plan(root, db, deep=True)
    if not result.deep:
        result.changed_files = changed
    for check in result.checks:
        if check.rel in on_disk and recorded.get(check.rel) != (
                check.kept_size, on_disk[check.rel].st_mtime_ns, check.sha256):
            result.sizes[check.rel] = (check.kept_size, on_disk[check.rel].st_mtime_ns,
                                       check.sha256)
    for rel in result.missing_files:
        result.sizes.pop(rel, None)
    _compare(result, db, changed)
    return result


def _lost_a_line(db: sqlite3.Connection, changed: list[str]) -> bool:
    """True when an article the state files in one of ``changed`` has no line of its version
    there any more."""
    marks = ",".join("?" * len(changed))
    return db.execute(
        f"SELECT 1 FROM articles a WHERE a.file IN ({marks}) AND NOT EXISTS (SELECT 1 FROM"
        " reconcile_lines l WHERE l.key = a.key AND l.version = a.version) LIMIT 1",
        changed).fetchone() is not None


def _compare(result: Reconciliation, db: sqlite3.Connection, changed: list[str]) -> None:
    """Fill reconcile_rows and reconcile_lost from the lines read, and the counts."""
    result.duplicate_lines = db.execute(
        "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM reconcile_lines"
        " GROUP BY key, version HAVING n > 1)").fetchone()[0]
    # Each key's newest line read (the last one read among equal versions).
    best = ("SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY key ORDER BY version DESC,"
            " seq DESC) AS rank FROM reconcile_lines {where}) WHERE rank = 1")
    if result.deep:
        db.execute(f"INSERT INTO reconcile_lost SELECT a.key, a.id, a.file, a.url, a.version,"
                   f" b.version FROM articles a LEFT JOIN ({best.format(where='')}) b"
                   f" ON b.key = a.key WHERE b.key IS NULL OR b.version < a.version")
        db.execute(f"INSERT INTO reconcile_rows SELECT {ROW} FROM ({best.format(where='')}) b"
                   " WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.key = b.key AND"
                   " a.content_hash = b.content_hash AND a.version = b.version"
                   " AND a.file = b.file)")
        adopted = ("SELECT file, key, version FROM ({best}) b WHERE NOT EXISTS (SELECT 1 FROM"
                   " articles a WHERE a.key = b.key) ORDER BY seq").format(
            best=best.format(where=""))
    else:
        # Lines after a commit add (a newer version wins); a changed file's lines correct the
        # rows of its articles (every one of which still has its line there: _lost_a_line).
        marks = ",".join("?" * len(changed))
        where = f"WHERE uncommitted = 1 OR file IN ({marks})" if changed else \
            "WHERE uncommitted = 1"
        db.execute(f"INSERT INTO reconcile_rows SELECT {ROW} FROM ({best.format(where=where)}) b"
                   " WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.key = b.key AND"
                   " (a.version > b.version OR (a.version = b.version AND"
                   " a.content_hash = b.content_hash AND a.file = b.file)))", changed)
        adopted = "SELECT file, key, version FROM reconcile_lines WHERE uncommitted = 1" \
            " ORDER BY seq"
    result.row_count = db.execute("SELECT COUNT(*) FROM reconcile_rows").fetchone()[0]
    if result.deep:
        result.adopted_count = db.execute(f"SELECT COUNT(*) FROM ({adopted})").fetchone()[0]
    else:
        result.adopted_count = db.execute(
            "SELECT COUNT(*) FROM reconcile_lines WHERE uncommitted = 1").fetchone()[0]
        if changed:  # a changed file's lines the state did not know at all
            marks = ",".join("?" * len(changed))
            result.adopted_count += db.execute(
                f"SELECT COUNT(*) FROM reconcile_rows r WHERE r.file IN ({marks}) AND NOT EXISTS"
                " (SELECT 1 FROM articles a WHERE a.key = r.key) AND NOT EXISTS (SELECT 1 FROM"
                " reconcile_lines l WHERE l.key = r.key AND l.uncommitted = 1)",
                changed).fetchone()[0]
    result.adopted = [tuple(row) for row in db.execute(f"{adopted} LIMIT {EXAMPLES}")]
    result.lost_count = db.execute(
        "SELECT COUNT(*) FROM reconcile_lost WHERE on_disk IS NULL").fetchone()[0]
    result.lost = [tuple(row) for row in db.execute(
        f"SELECT key, file, url FROM reconcile_lost WHERE on_disk IS NULL ORDER BY key"
        f" LIMIT {EXAMPLES}")]
    result.fallen_back_count = db.execute(
        "SELECT COUNT(*) FROM reconcile_lost WHERE on_disk IS NOT NULL").fetchone()[0]
    result.fallen_back = [tuple(row) for row in db.execute(
        f"SELECT key, had, on_disk, url FROM reconcile_lost WHERE on_disk IS NOT NULL"
        f" ORDER BY key LIMIT {EXAMPLES}")]


# --- applying --------------------------------------------------------------------------------

UPSERT_SET = (
    " ON CONFLICT(key) DO UPDATE SET id = excluded.id, content_hash = excluded.content_hash,"
    " version = excluded.version, published_date = excluded.published_date, url = excluded.url,"
    " file = excluded.file, archived_at = excluded.archived_at")
UPSERT_ARTICLE = f"INSERT INTO articles({ROW}) VALUES(?, ?, ?, ?, ?, ?, ?, ?)" + UPSERT_SET


def apply(root: str | os.PathLike[str], db: sqlite3.Connection, result: Reconciliation) -> None:
    """Make the planned changes: quarantine bad lines, then fix the state in one transaction."""
    root = Path(root)
    for check in result.checks:
        if not check.bad:
            continue
        where = quarantine(root, check.bad)
        result.quarantine_files.append(str(where.relative_to(root)))
        size = rewrite_without(root, check)
        result.sizes[check.rel] = (size, (root / check.rel).stat().st_mtime_ns, check.sha256)
        for bad in check.bad:
            logger.warning("%s line %s (offset %s) is damaged (%s): moved aside to %s",
                           bad.file, bad.line_no, bad.offset, bad.reason,
                           where.relative_to(root))
    now = dt.datetime.now(VN_TZ).isoformat(timespec="seconds")
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("DELETE FROM articles WHERE key IN (SELECT key FROM reconcile_lost"
                   " WHERE on_disk IS NULL)")
        # A full scan knows each article's newest line; lines adopted from a tail only add.
        guard = "" if result.deep else " WHERE excluded.version >= articles.version"
        db.execute(f"INSERT INTO articles({ROW}) SELECT {ROW} FROM reconcile_rows WHERE true"
                   + UPSERT_SET + guard)
        db.execute(
            "INSERT INTO rejects(url, id, key, reason, stage, retryable, last_at)"
            " SELECT url, id, key, CASE WHEN on_disk IS NULL"
            " THEN 'reconcile: its line is gone from ' || file"
            " ELSE 'reconcile: the line of its version ' || had || ' is gone' END, ?, 1, ?"
            " FROM reconcile_lost WHERE url IS NOT NULL ON CONFLICT(url) DO UPDATE SET"
            " reason = excluded.reason, stage = excluded.stage, retryable = 1,"
            " last_at = excluded.last_at, key = excluded.key", (RECONCILE_STAGE, now))
        if result.lost_count or result.fallen_back_count:
            # the next run fetches them again, as it does a retryable reject
            db.execute("UPDATE listings SET complete = 0")
        if not result.rebuilt_from:
            for (text,) in db.execute("SELECT record FROM reconcile_rejects").fetchall():
                upsert_reject(db, json.loads(text))
        for rel in result.missing_files:
            db.execute("DELETE FROM files WHERE path = ?", (rel,))
        for rel, (size, mtime_ns, sha) in result.sizes.items():
            _record_file(db, rel, size, mtime_ns, sha)
        if result.rebuilt_from:
            rebuild_rejects_and_runs(root, db)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    _log(result)


def _record_file(db: sqlite3.Connection, rel: str, size: int, mtime_ns: int | None,
                 sha: str | None) -> None:
    db.execute(
        "INSERT INTO files(path, committed_size, mtime_ns, committed_sha256) VALUES(?, ?, ?, ?)"
        " ON CONFLICT(path) DO UPDATE SET committed_size = excluded.committed_size,"
        " mtime_ns = excluded.mtime_ns, committed_sha256 = excluded.committed_sha256",
        (rel, size, mtime_ns, sha))


def _log(result: Reconciliation) -> None:
    if result.state_was_empty and not result.rebuilt_from:
        logger.warning("reconcile: the state was new or empty while the archive holds article "
                       "files: rebuilt from them (%s article line(s) adopted); every listing is "
                       "walked to its end", result.adopted_count)
    elif result.adopted_count and not result.rebuilt_from:
        logger.info("reconcile: adopted %s line(s) written before an interruption",
                    result.adopted_count)
    if result.rebuilt_from:
        logger.warning("reconcile: state rebuilt from the files: %s article(s) adopted",
                       result.adopted_count)
    for rel in result.changed_files:
        logger.warning("reconcile: %s changed since its last commit: read again and its "
                       "articles compared with the state", rel)
    for rel in result.missing_files:
        logger.warning("reconcile: %s is gone (the state knew it)", rel)
    if result.lost_count:
        logger.warning("reconcile: %s archived article(s) have no line on disk any more (%s); "
                       "they are fetched again by this run and every listing is walked to its "
                       "end", result.lost_count, ", ".join(k for k, _, _ in result.lost[:10]))
    if result.fallen_back_count:
        logger.warning("reconcile: %s article(s) lost their newest version's line; back to the "
                       "version on disk, fetched again", result.fallen_back_count)


def reconcile(root: str | os.PathLike[str], db: sqlite3.Connection, *, dry_run: bool = False,
              deep: bool | None = None) -> Reconciliation:
    """Reconcile the state with the files; with ``dry_run`` only return what would change."""
    result = plan(root, db, deep=deep)
    if not dry_run and result.changed:
        apply(root, db, result)
    return result


def open_archive_db(root: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT
                    ) -> tuple[sqlite3.Connection, Reconciliation]:
    """Open ARCHIVE_DIR's state (rebuilding a damaged one) and reconcile it with the files."""
    db, aside = open_state(root, timeout=timeout)
    try:
        result = plan(root, db, deep=True if aside else None)
        result.rebuilt_from = aside
        if result.changed:
            apply(root, db, result)
    except BaseException:
        db.close()
        raise
    return db, result


def settle_tail(root: str | os.PathLike[str], db: sqlite3.Connection, rel: str,
                committed: int) -> tuple[int, int]:
    """Inside the caller's transaction: adopt the whole records of ``rel`` past ``committed``.

    For a line written whose commit then failed (the database locked, a full disk): it is
    registered now instead of being written again. Lines that are not whole records are moved
    aside. Return the file's committed size and modification time, for the caller to record."""
    root = Path(root)
    check = FileCheck(rel=rel, start=committed, size=committed)
    records = list(read_lines(root, check))  # a tail: the few lines of a failed commit
    if check.bad:
        where = quarantine(root, check.bad)
        rewrite_without(root, check)
        logger.warning("%s: %s damaged line(s) past offset %s moved aside to %s", rel,
                       len(check.bad), committed, where.relative_to(root))
    for _offset, record in records:
        if rel.startswith("articles/"):
            db.execute(UPSERT_ARTICLE + " WHERE excluded.version >= articles.version",
                       _article_row(record, rel))
        else:
            upsert_reject(db, record)
    if records:
        logger.info("%s: adopted %s line(s) written before a failed commit", rel, len(records))
    st = (root / rel).stat()
    return st.st_size, st.st_mtime_ns
