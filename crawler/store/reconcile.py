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

Cheap when nothing changed: a file whose size and modification time are those the state recorded
at its last commit is not read. Any other difference (a file shorter than recorded, changed,
missing or unknown) makes a full scan of the article files, which rebuilds the article rows.

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

from crawler.normalise.dates import VN_TZ
from crawler.store.statedb import DEFAULT_TIMEOUT, open_state, register_reject

logger = logging.getLogger(__name__)

KINDS = ("articles", "rejects")
QUARANTINE_DIR = "quarantine"
RECONCILE_STAGE = "reconcile"


@dataclass
class BadLine:
    """A line that is not a whole record: where it was and why it is moved aside."""

    file: str
    line_no: int  # 1-based, in the file as it was
    offset: int
    reason: str
    data: bytes


@dataclass
class FileCheck:
    """What reading one file (whole, or from ``start``) found."""

    rel: str
    start: int  # 0 for a whole read; the committed size for a read of the tail only
    size: int
    uncommitted: bool = False  # everything read was written after the file's last commit
    records: list[dict[str, Any]] = field(default_factory=list)
    bad: list[BadLine] = field(default_factory=list)


@dataclass
class Reconciliation:
    """What reconciling an archive changes (or, planned, would change) in its state and files."""

    deep: bool = False
    rebuilt_from: Path | None = None
    checks: list[FileCheck] = field(default_factory=list)
    # (file, id, version) of lines on disk the state did not know
    adopted: list[tuple[str, str, int]] = field(default_factory=list)
    # (id, file it was in, url) of archived articles with no line left on disk
    lost: list[tuple[str, str, str | None]] = field(default_factory=list)
    # (id, version the state had, version on disk, url): the newest version's line is gone
    fallen_back: list[tuple[str, int, int, str | None]] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    # article rows to write (adopted or corrected), by id
    rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    # committed size and modification time to record, by file, where they change
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    duplicate_lines: int = 0
    # where applying moved damaged lines (relative to the archive)
    quarantine_files: list[str] = field(default_factory=list)
    # the state knew no file while article files exist: it was deleted (or is a new one)
    state_was_empty: bool = False

    @property
    def bad_lines(self) -> list[BadLine]:
        return [bad for check in self.checks for bad in check.bad]

    @property
    def changed(self) -> bool:
        """True when applying this changes the state or a file."""
        return bool(self.rows or self.lost or self.fallen_back or self.bad_lines
                    or self.missing_files or self.rebuilt_from or self.sizes)

    def summary(self) -> list[str]:
        """Return one line per change, for logs and checkers (empty when nothing changes)."""
        lines = []
        if self.rebuilt_from:
            lines.append(f"state rebuilt from the files (the damaged one is {self.rebuilt_from})")
        if self.adopted:
            lines.append(f"{len(self.adopted)} line(s) on disk adopted into the state")
        if self.lost:
            lines.append(f"{len(self.lost)} archived article(s) with no line on disk, to fetch "
                         "again: " + ", ".join(f"{i} ({f})" for i, f, _ in self.lost[:5])
                         + (" ..." if len(self.lost) > 5 else ""))
        if self.fallen_back:
            lines.append(f"{len(self.fallen_back)} article(s) whose newest version's line is "
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

def _check_line(kind: str, line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """Return (record, None) for a whole record, or (None, why not)."""
    try:
        record = json.loads(line)
    except ValueError as exc:
        return None, f"not JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(record, dict):
        return None, "not a JSON object"
    needed = ("id", "content_hash") if kind == "articles" else ("url", "reason")
    missing = [name for name in needed if not record.get(name)]
    if missing:
        return None, f"no {' or '.join(missing)}"
    return record, None


def read_file(root: Path, rel: str, start: int = 0) -> FileCheck:
    """Read a JSON Lines file from ``start``: its whole records, and the lines that are not."""
    kind = rel.split("/", 1)[0]
    with (root / rel).open("rb") as fh:
        fh.seek(start)
        data = fh.read()
    check = FileCheck(rel=rel, start=start, size=start + len(data))
    offset, line_no = start, 0
    for raw in data.splitlines(keepends=True):
        line_no += 1
        line = raw.rstrip(b"\r\n")
        if not raw.endswith(b"\n"):
            reason = "a torn last line (no newline): an interrupted write"
            record = None
        elif not line.strip():
            offset += len(raw)
            continue
        else:
            record, reason = _check_line(kind, line)
        if record is None:
            check.bad.append(BadLine(rel, line_no, offset, reason or "", raw))
        else:
            check.records.append(record)
        offset += len(raw)
    return check


def _ends_with_newline(path: Path, size: int) -> bool:
    if size == 0:
        return True
    with path.open("rb") as fh:
        fh.seek(size - 1)
        return fh.read(1) == b"\n"


def _files_on_disk(root: Path) -> dict[str, os.stat_result]:
    found = {}
    for kind in KINDS:
        folder = root / kind
        if folder.is_dir():
            for path in sorted(folder.glob("*.jsonl")):
                found[f"{kind}/{path.name}"] = path.stat()
    return found


def _article_row(record: dict[str, Any], rel: str) -> tuple[Any, ...]:
    return (record["id"], record["content_hash"], record.get("version") or 1,
            record.get("published_date"), record.get("url"), rel, record.get("fetched_at"))


def plan(root: str | os.PathLike[str], db: sqlite3.Connection, *, deep: bool | None = None
         ) -> Reconciliation:
    """Return what reconciling the archive at ``root`` with its state ``db`` would change.

    Reads files and the database, changes neither. ``deep=None`` scans every article file only
    when something differs from what the state recorded; True always; False never."""
    root = Path(root)
    result = Reconciliation()
    on_disk = _files_on_disk(root)
    recorded = {row[0]: (row[1], row[2]) for row in
                db.execute("SELECT path, committed_size, mtime_ns FROM files")}
    article_files = {row[0] for row in db.execute("SELECT DISTINCT file FROM articles")}
    result.missing_files = sorted((set(recorded) | article_files) - set(on_disk))
    result.state_was_empty = not recorded and any(r.startswith("articles/") for r in on_disk)
    needs_deep = any(rel.startswith("articles/") for rel in result.missing_files)
    tails: dict[str, int] = {}
    whole: set[str] = set()
    for rel, st in on_disk.items():
        if rel not in recorded:
            tails[rel] = 0  # never committed: every line was written by an interrupted run
            continue
        committed, mtime_ns = recorded[rel]
        if st.st_size == committed and mtime_ns == st.st_mtime_ns:
            continue  # just as the last commit left it
        if st.st_size > committed and mtime_ns is not None and \
                _ends_with_newline(root / rel, committed):
            tails[rel] = committed  # lines written after the last commit: read only those
            continue
        whole.add(rel)
        needs_deep = needs_deep or rel.startswith("articles/")
    result.deep = needs_deep if deep is None else deep
    if result.deep:
        whole |= {rel for rel in on_disk if rel.startswith("articles/")}
    for rel in sorted(whole):
        result.checks.append(read_file(root, rel))
    for rel, start in sorted(tails.items()):
        if rel not in whole:
            check = read_file(root, rel, start)
            check.uncommitted = True
            result.checks.append(check)
    for check in result.checks:
        size = check.size - sum(len(b.data) for b in check.bad)
        if recorded.get(check.rel) != (size, on_disk[check.rel].st_mtime_ns):
            result.sizes[check.rel] = (size, on_disk[check.rel].st_mtime_ns)
    for rel in result.missing_files:
        if rel in recorded:
            result.sizes.pop(rel, None)
    if result.deep:
        _plan_articles(result, db)
    else:
        for check in result.checks:
            if check.rel.startswith("articles/") and check.uncommitted:
                for record in check.records:
                    result.adopted.append((check.rel, record["id"], record.get("version") or 1))
                    row = _article_row(record, check.rel)
                    known = result.rows.get(record["id"])
                    if known is None or row[2] >= known[2]:
                        result.rows[record["id"]] = row
    return result


def _plan_articles(result: Reconciliation, db: sqlite3.Connection) -> None:
    """Compare every article line on disk with the article rows (a full scan)."""
    latest: dict[str, tuple[Any, ...]] = {}
    seen: set[tuple[str, int]] = set()
    for check in result.checks:
        if not check.rel.startswith("articles/"):
            continue
        for record in check.records:
            row = _article_row(record, check.rel)
            if (row[0], row[2]) in seen:
                result.duplicate_lines += 1
            seen.add((row[0], row[2]))
            known = latest.get(row[0])
            if known is None or row[2] >= known[2]:
                latest[row[0]] = row
    rows = {row[0]: row for row in db.execute(
        "SELECT id, content_hash, version, published_date, url, file, archived_at FROM articles")}
    for article_id, row in rows.items():
        on_disk = latest.get(article_id)
        if on_disk is None:
            result.lost.append((article_id, row[5], row[4]))
        elif on_disk[2] < row[2]:
            result.fallen_back.append((article_id, row[2], on_disk[2], row[4]))
    for article_id, row in latest.items():
        known = rows.get(article_id)
        if known is None:
            result.adopted.append((row[5], article_id, row[2]))
        if known is None or known[1:3] != row[1:3] or known[5] != row[5]:
            result.rows[article_id] = row


# --- applying --------------------------------------------------------------------------------

def quarantine(root: Path, bad: list[BadLine]) -> Path:
    """Append damaged lines, as they were, to a new quarantine file; return its path."""
    folder = root / QUARANTINE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(VN_TZ).strftime("%Y%m%dT%H%M%S")
    name = bad[0].file.replace("/", "-").removesuffix(".jsonl")
    path = folder / f"{name}-{stamp}.jsonl"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{name}-{stamp}-{n}.jsonl"
    with path.open("xb") as fh:
        for line in bad:
            fh.write(line.data if line.data.endswith(b"\n") else line.data + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    return path


def _rewrite_without(root: Path, check: FileCheck) -> int:
    """Remove a file's bad lines (from ``check.start`` on); return the file's new size."""
    path = root / check.rel
    drop = {(b.offset, len(b.data)) for b in check.bad}
    with path.open("rb") as fh:
        fh.seek(check.start)
        tail = fh.read(check.size - check.start)
    kept, offset = [], check.start
    for raw in tail.splitlines(keepends=True):
        if (offset, len(raw)) not in drop:
            kept.append(raw)
        offset += len(raw)
    body = b"".join(kept)
    if check.start == 0:
        tmp = path.with_name(path.name + ".reconcile-tmp")
        with tmp.open("wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    else:
        with path.open("rb+") as fh:
            fh.truncate(check.start)
            fh.seek(check.start)
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
    return check.start + len(body)


def apply(root: str | os.PathLike[str], db: sqlite3.Connection, result: Reconciliation) -> None:
    """Make the planned changes: quarantine bad lines, then fix the state in one transaction."""
    root = Path(root)
    for check in result.checks:
        if not check.bad:
            continue
        where = quarantine(root, check.bad)
        result.quarantine_files.append(str(where.relative_to(root)))
        size = _rewrite_without(root, check)
        result.sizes[check.rel] = (size, (root / check.rel).stat().st_mtime_ns)
        for bad in check.bad:
            logger.warning("%s line %s (offset %s) is damaged (%s): moved aside to %s",
                           bad.file, bad.line_no, bad.offset, bad.reason,
                           where.relative_to(root))
    now = dt.datetime.now(VN_TZ).isoformat(timespec="seconds")
    db.execute("BEGIN IMMEDIATE")
    try:
        for article_id, _, _ in result.lost:
            db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        # A full scan knows each article's newest line; lines adopted from a tail only add.
        guard = "" if result.deep else " WHERE excluded.version >= articles.version"
        for row in result.rows.values():
            db.execute(
                "INSERT INTO articles(id, content_hash, version, published_date, url, file,"
                " archived_at) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                " content_hash = excluded.content_hash, version = excluded.version,"
                " published_date = excluded.published_date, url = excluded.url,"
                " file = excluded.file, archived_at = excluded.archived_at" + guard, row)
        refetch = [(a, url, f"reconcile: its line is gone from {f}") for a, f, url in result.lost]
        refetch += [(a, url, f"reconcile: the line of its version {had} is gone")
                    for a, had, _, url in result.fallen_back]
        for article_id, url, reason in refetch:
            if url:  # the next run fetches it again, as it does a retryable reject
                db.execute(
                    "INSERT INTO rejects(url, id, reason, stage, retryable, last_at)"
                    " VALUES(?, ?, ?, ?, 1, ?) ON CONFLICT(url) DO UPDATE SET"
                    " reason = excluded.reason, stage = excluded.stage, retryable = 1,"
                    " last_at = excluded.last_at",
                    (url, article_id, reason, RECONCILE_STAGE, now))
        if refetch:
            db.execute("UPDATE listings SET complete = 0")
        if not result.rebuilt_from:
            for check in result.checks:
                if check.rel.startswith("rejects/") and check.uncommitted:
                    for record in check.records:
                        _upsert_reject(db, record)
        for rel in result.missing_files:
            db.execute("DELETE FROM files WHERE path = ?", (rel,))
        for rel, (size, mtime_ns) in result.sizes.items():
            db.execute(
                "INSERT INTO files(path, committed_size, mtime_ns) VALUES(?, ?, ?)"
                " ON CONFLICT(path) DO UPDATE SET committed_size = excluded.committed_size,"
                " mtime_ns = excluded.mtime_ns", (rel, size, mtime_ns))
        if result.rebuilt_from:
            _rebuild_rejects_and_runs(root, db)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    _log(result)


def _upsert_reject(db: sqlite3.Connection, record: dict[str, Any]) -> None:
    """Register a reject line written before an interruption, as put_reject would have."""
    archived = record.get("id") and db.execute(
        "SELECT 1 FROM articles WHERE id = ?", (record["id"],)).fetchone()
    if not archived:
        register_reject(db, record)


def _rebuild_rejects_and_runs(root: Path, db: sqlite3.Connection) -> None:
    """After a damaged state was set aside: rejects from the reject files, runs from reports."""
    for path in sorted((root / "rejects").glob("*.jsonl")) if (root / "rejects").is_dir() else []:
        for record in read_file(root, f"rejects/{path.name}").records:
            _upsert_reject(db, record)
    runs = root / "runs"
    for path in sorted(runs.glob("*.json")) if runs.is_dir() else []:
        try:
            report = json.loads(path.read_text("utf-8"))
            key = report["started_at"]
        except (ValueError, KeyError, TypeError, OSError):
            continue
        db.execute("INSERT OR IGNORE INTO runs(started_at, mode, report) VALUES(?, ?, ?)",
                   (key, report.get("mode"), json.dumps(report, ensure_ascii=False)))


def _log(result: Reconciliation) -> None:
    if result.state_was_empty and not result.rebuilt_from:
        logger.warning("reconcile: the state was new or empty while the archive holds article "
                       "files: rebuilt from them (%s article line(s) adopted); every listing is "
                       "walked to its end", len(result.adopted))
    elif result.adopted and not result.rebuilt_from:
        logger.info("reconcile: adopted %s line(s) written before an interruption",
                    len(result.adopted))
    if result.rebuilt_from:
        logger.warning("reconcile: state rebuilt from the files: %s article(s) adopted",
                       len(result.adopted))
    for rel in result.missing_files:
        logger.warning("reconcile: %s is gone (the state knew it)", rel)
    if result.lost:
        logger.warning("reconcile: %s archived article(s) have no line on disk any more (%s); "
                       "they are fetched again by this run and every listing is walked to its "
                       "end", len(result.lost), ", ".join(i for i, _, _ in result.lost[:10]))
    if result.fallen_back:
        logger.warning("reconcile: %s article(s) lost their newest version's line; back to the "
                       "version on disk, fetched again", len(result.fallen_back))


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
    check = read_file(root, rel, committed)
    if check.bad:
        where = quarantine(root, check.bad)
        _rewrite_without(root, check)
        logger.warning("%s: %s damaged line(s) past offset %s moved aside to %s", rel,
                       len(check.bad), committed, where.relative_to(root))
    for record in check.records:
        if rel.startswith("articles/"):
            row = _article_row(record, rel)
            db.execute(
                "INSERT INTO articles(id, content_hash, version, published_date, url, file,"
                " archived_at) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                " content_hash = excluded.content_hash, version = excluded.version,"
                " published_date = excluded.published_date, url = excluded.url,"
                " file = excluded.file, archived_at = excluded.archived_at"
                " WHERE excluded.version >= articles.version", row)
        else:
            _upsert_reject(db, record)
    if check.records:
        logger.info("%s: adopted %s line(s) written before a failed commit", rel,
                    len(check.records))
    st = (root / rel).stat()
    return st.st_size, st.st_mtime_ns
