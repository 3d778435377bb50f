"""``python -m crawler verify``: is this archive whole and sound? Read-only; repairs nothing.

Three checks, each problem reported as ``PLACE: what is wrong`` (PLACE is ``file`` or
``file:line``, relative to the archive root, so a copy on another machine reads the same):

1. files against the manifest (crawler/analysis/manifest.py): every file it lists is there with the
   same bytes, SHA-256, lines, months and ids; no file is there that it does not list;
2. every line against the schema: each article line parses, passes the record's JSON Schema and
   text rules (crawler/schema/validation.py), has the content hash of its content, sits in the
   month file of its publication date, and each article's versions run 1, 2, ... once each; each
   reject line parses and says url, reason, stage and fetched_at;
3. the state database against the files (read through a read-only connection): every archived id,
   its version, content hash and file agree with the latest line of that article, no article is in
   the files but not in the state, and each file's committed size is its size on disk.

A crawl that is running while ``verify`` reads shows up as differences (new lines, uncommitted
bytes): verify a quiet archive. Articles are told apart by their key (CMS generation and id);
what is remembered of each line waits in a scratch database on disk, so verifying a quarter of a
million articles needs no more memory than 25,000.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.analysis.manifest import MANIFEST, archive_files, describe_file, iter_entries
from crawler.analysis.readonly import (
    STATE_FILE,
    article_rows,
    committed_sizes,
    jsonl_files,
    open_state,
)
from crawler.items import record_key
from crawler.schema.validation import problems as record_problems
from crawler.store.archive import content_hash, partition_of
from crawler.store.scratch import scratch_db

REJECT_KEYS = ("url", "reason", "stage", "fetched_at")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the archive, and where."""

    place: str
    line: int
    what: str

    def __str__(self) -> str:
        where = f"{self.place}:{self.line}" if self.line else self.place
        return f"{where}: {self.what}"


@dataclass
class Report:
    """What verify found."""

    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    article_lines: int = 0
    articles: int = 0
    reject_lines: int = 0

    def add(self, place: str, what: str, line: int = 0) -> None:
        """Record a problem."""
        self.problems.append(Problem(place, line, what))

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def summary(self) -> str:
        """Return the one-line verdict."""
        what = (f"{self.files} files, {self.article_lines} article lines ({self.articles} "
                f"articles), {self.reject_lines} reject lines")
        if self.ok:
            return f"verify: OK: {what}"
        return f"verify: {len(self.problems)} problem(s) in {what}"


def verify(root: str | os.PathLike[str]) -> Report:
    """Check an archive's files, lines and state; return every problem found."""
    base = Path(root)
    report = Report()
    if not (base / "articles").is_dir():
        report.add(str(base), "not an archive: it has no articles/ folder")
        return report
    _check_manifest(base, report)
    # What is remembered per line and per article waits in a scratch database on disk.
    db = scratch_db(LINES_SCHEMA)
    try:
        _check_lines(base, report, db)
        _check_state(base, db, report)
    finally:
        db.close()
    report.problems.sort()
    return report


LINES_SCHEMA = """
CREATE TABLE lines (seq INTEGER PRIMARY KEY, key TEXT, id TEXT, version INTEGER, file TEXT,
                    line INTEGER, content_hash TEXT);
CREATE INDEX lines_key ON lines(key, version, seq);
CREATE TABLE state (key TEXT, id TEXT, version INTEGER, content_hash TEXT, file TEXT);
"""


# --- 1. files against the manifest ----------------------------------------------------------


def _check_manifest(base: Path, report: Report) -> None:
    files = set(archive_files(base))
    report.files = len(files)
    if not (base / MANIFEST).is_file():
        report.add(MANIFEST, "missing: nothing to check the files against (a crawl, reextract "
                   "or extract --archive-dir writes it)")
        return
    listed: set[str] = set()
    try:
        for entry in iter_entries(base):
            rel = entry.get("path")
            listed.add(rel)
            if rel not in files:
                report.add(rel, "listed in the manifest but missing")
                continue
            _compare_entry(base, rel, entry, report)
    except ValueError:
        report.add(MANIFEST, "unreadable: nothing to check the files against (a crawl, "
                   "reextract or extract --archive-dir writes it)")
        return
    for rel in sorted(files - listed):
        report.add(rel, "not in the manifest (added after it was written, or a stray file)")


def _compare_entry(base: Path, rel: str, entry: dict[str, Any], report: Report) -> None:
    actual = describe_file(base, rel)
    for key in ("bytes", "lines", "sha256"):
        if entry.get(key) != actual[key]:
            report.add(rel, f"{key}: {actual[key]} on disk, {entry.get(key)} in the manifest")
    for key in ("months", "ids", "keys"):
        # "keys" only where the manifest has them (one written before schema 1.4.0 has none)
        if key in actual and (key != "keys" or key in entry) and entry.get(key) != actual[key]:
            gone = sorted(set(entry.get(key) or []) - set(actual[key]))
            new = sorted(set(actual[key]) - set(entry.get(key) or []))
            report.add(rel, f"{key} differ from the manifest: missing {_few(gone)}, "
                       f"not listed {_few(new)}")


def _few(values: list[str], limit: int = 5) -> str:
    shown = ", ".join(values[:limit]) or "none"
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


# --- 2. every line against the schema -----------------------------------------------------


def _lines(base: Path, rel: str, report: Report) -> Any:
    number = 0
    with (base / rel).open("rb") as fh:
        for raw in fh:
            number += 1
            if not raw.endswith(b"\n"):
                report.add(rel, "ends without a newline: a torn last line", line=number)
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError as exc:
                report.add(rel, f"not JSON: {exc}", line=number)
                continue
            if not isinstance(record, dict):
                report.add(rel, "not a JSON object", line=number)
                continue
            yield number, record


def _check_lines(base: Path, report: Report, db: sqlite3.Connection) -> None:
    for rel in jsonl_files(base, "articles"):
        batch = []
        for number, record in _lines(base, rel, report):
            report.article_lines += 1
            for problem in record_problems(record):
                report.add(rel, problem, line=number)
            article_id, version = record.get("id"), record.get("version")
            if not isinstance(article_id, str) or not isinstance(version, int):
                continue
            if record.get("content_hash") != content_hash(record):
                report.add(rel, f"content_hash does not match the record's content (id "
                           f"{article_id}, version {version})", line=number)
            month = partition_of(record)
            if rel != f"articles/{month}.jsonl":
                report.add(rel, f"id {article_id} is published in {month} but filed here",
                           line=number)
            batch.append((record_key(record), article_id, version, rel, number,
                          record.get("content_hash")))
        db.executemany("INSERT INTO lines(key, id, version, file, line, content_hash)"
                       " VALUES(?, ?, ?, ?, ?, ?)", batch)
    # The first line of each (article, version); any other line of it is a duplicate.
    db.execute("CREATE TABLE firsts AS SELECT * FROM lines WHERE seq IN"
               " (SELECT MIN(seq) FROM lines GROUP BY key, version)")
    db.execute("CREATE INDEX firsts_key ON firsts(key, version)")
    for rel, number, article_id, version, first_file, first_line in db.execute(
            "SELECT l.file, l.line, l.id, l.version, f.file, f.line FROM lines l JOIN firsts f"
            " ON f.key = l.key AND f.version = l.version AND f.seq != l.seq"):
        report.add(rel, f"id {article_id} version {version} is also at {first_file}:"
                   f"{first_line}", line=number)
    db.execute("CREATE TABLE latest AS SELECT f.* FROM firsts f JOIN (SELECT key,"
               " MAX(version) AS version FROM firsts GROUP BY key) m"
               " ON m.key = f.key AND m.version = f.version")
    db.execute("CREATE INDEX latest_key ON latest(key)")
    for key, article_id, rel, number in db.execute(
            "SELECT l.key, l.id, l.file, l.line FROM latest l JOIN (SELECT key FROM firsts"
            " GROUP BY key HAVING MIN(version) != 1 OR MAX(version) != COUNT(*)) g"
            " ON g.key = l.key").fetchall():
        found = [v for (v,) in db.execute("SELECT version FROM firsts WHERE key = ? ORDER BY"
                                          " version", (key,))]
        missing = sorted(set(range(1, max(found) + 1)) - set(found))
        report.add(rel, f"id {article_id}: versions {', '.join(map(str, missing))} missing (has "
                   f"{found})", line=number)
    report.articles = db.execute("SELECT COUNT(*) FROM latest").fetchone()[0]
    for rel in jsonl_files(base, "rejects"):
        for number, record in _lines(base, rel, report):
            report.reject_lines += 1
            absent = [key for key in REJECT_KEYS if not record.get(key)]
            if absent:
                report.add(rel, f"reject without {', '.join(absent)}", line=number)


# --- 3. the state database against the files ----------------------------------------------


def _check_state(base: Path, db: sqlite3.Connection, report: Report) -> None:
    state = open_state(base)
    if state is None:
        report.add(STATE_FILE, "missing: the archive's state cannot be checked")
        return
    try:
        committed = committed_sizes(state)
        for rows in article_rows(state):
            db.executemany("INSERT INTO state VALUES(?, ?, ?, ?, ?)", rows)
    finally:
        state.close()
    on_disk = {rel: (base / rel).stat().st_size for rel in
               jsonl_files(base, "articles") + jsonl_files(base, "rejects")}
    for rel, size in sorted(on_disk.items()):
        if rel not in committed:
            report.add(rel, f"not in the state's files table ({size} bytes on disk)")
        elif committed[rel] != size:
            how = "past" if size > committed[rel] else "short of"
            gap = abs(size - committed[rel])
            report.add(rel, f"{gap} byte{'s' if gap != 1 else ''} {how} the committed size "
                       f"{committed[rel]} (state.sqlite3 files table)")
    for rel in sorted(set(committed) - set(on_disk)):
        report.add(rel, f"in the state's files table (committed {committed[rel]} bytes) but "
                   "missing on disk")
    for article_id, version, chash, file, line_version, line_file, line, line_hash in db.execute(
            "SELECT s.id, s.version, s.content_hash, s.file, l.version, l.file, l.line,"
            " l.content_hash FROM state s LEFT JOIN latest l ON l.key = s.key"):
        if line_version is None:
            report.add(STATE_FILE, f"id {article_id}: archived as version {version} in {file}, "
                       "but no line holds it")
            continue
        if version != line_version:
            report.add(line_file, f"id {article_id}: latest line is version {line_version}, the "
                       f"state says {version}", line=line)
        elif chash != line_hash:
            report.add(line_file, f"id {article_id}: content_hash differs from the state's "
                       f"{chash}", line=line)
        if file != line_file:
            report.add(line_file, f"id {article_id}: the state files it in {file}", line=line)
    db.execute("CREATE INDEX state_key ON state(key)")
    for article_id, version, line_file, line in db.execute(
            "SELECT l.id, l.version, l.file, l.line FROM latest l WHERE NOT EXISTS"
            " (SELECT 1 FROM state s WHERE s.key = l.key)"):
        report.add(line_file, f"id {article_id} version {version} is not in the state "
                   "(not counted as archived)", line=line)
