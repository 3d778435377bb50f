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
bytes): verify a quiet archive.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.analysis.manifest import MANIFEST, archive_files, describe_file, read_manifest
from crawler.analysis.readonly import STATE_FILE, committed_sizes, jsonl_files, open_state
from crawler.schema.validation import problems as record_problems
from crawler.store.archive import content_hash, partition_of

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


@dataclass
class Latest:
    """The latest line seen of one article."""

    version: int
    file: str
    line: int
    content_hash: str | None


def verify(root: str | os.PathLike[str]) -> Report:
    """Check an archive's files, lines and state; return every problem found."""
    base = Path(root)
    report = Report()
    if not (base / "articles").is_dir():
        report.add(str(base), "not an archive: it has no articles/ folder")
        return report
    _check_manifest(base, report)
    latest = _check_lines(base, report)
    _check_state(base, latest, report)
    report.problems.sort()
    return report


# --- 1. files against the manifest ----------------------------------------------------------


def _check_manifest(base: Path, report: Report) -> None:
    files = archive_files(base)
    report.files = len(files)
    manifest = read_manifest(base)
    if manifest is None:
        what = "unreadable" if (base / MANIFEST).exists() else "missing"
        report.add(MANIFEST, f"{what}: nothing to check the files against (a crawl, reextract "
                   "or extract --archive-dir writes it)")
        return
    listed = {e.get("path"): e for e in manifest.get("files", [])}
    for rel in sorted(set(files) - set(listed)):
        report.add(rel, "not in the manifest (added after it was written, or a stray file)")
    for rel, entry in sorted(listed.items()):
        if rel not in files:
            report.add(rel, "listed in the manifest but missing")
            continue
        actual = describe_file(base, rel)
        for key in ("bytes", "lines", "sha256"):
            if entry.get(key) != actual[key]:
                report.add(rel, f"{key}: {actual[key]} on disk, {entry.get(key)} in the manifest")
        for key in ("months", "ids"):
            if key in actual and entry.get(key) != actual[key]:
                gone = sorted(set(entry.get(key) or []) - set(actual[key]))
                new = sorted(set(actual[key]) - set(entry.get(key) or []))
                report.add(rel, f"{key} differ from the manifest: missing {_few(gone)}, "
                           f"not listed {_few(new)}")


def _few(values: list[str], limit: int = 5) -> str:
    shown = ", ".join(values[:limit]) or "none"
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


# --- 2. every line against the schema -----------------------------------------------------


def _lines(base: Path, rel: str, report: Report) -> Any:
    data = (base / rel).read_bytes()
    if data and not data.endswith(b"\n"):
        report.add(rel, "ends without a newline: a torn last line",
                   line=data.count(b"\n") + 1)
    for number, raw in enumerate(data.split(b"\n"), start=1):
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


def _check_lines(base: Path, report: Report) -> dict[str, Latest]:
    seen: dict[tuple[str, int], tuple[str, int]] = {}
    versions: dict[str, list[int]] = defaultdict(list)
    latest: dict[str, Latest] = {}
    for rel in jsonl_files(base, "articles"):
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
            first = seen.setdefault((article_id, version), (rel, number))
            if first != (rel, number):
                report.add(rel, f"id {article_id} version {version} is also at "
                           f"{first[0]}:{first[1]}", line=number)
                continue
            versions[article_id].append(version)
            known = latest.get(article_id)
            if known is None or version > known.version:
                latest[article_id] = Latest(version, rel, number, record.get("content_hash"))
    for article_id, found in sorted(versions.items()):
        expected = list(range(1, max(found) + 1))
        if sorted(found) != expected:
            missing = sorted(set(expected) - set(found))
            report.add(latest[article_id].file, f"id {article_id}: versions "
                       f"{', '.join(map(str, missing))} missing (has {sorted(found)})",
                       line=latest[article_id].line)
    report.articles = len(latest)
    for rel in jsonl_files(base, "rejects"):
        for number, record in _lines(base, rel, report):
            report.reject_lines += 1
            absent = [key for key in REJECT_KEYS if not record.get(key)]
            if absent:
                report.add(rel, f"reject without {', '.join(absent)}", line=number)
    return latest


# --- 3. the state database against the files ----------------------------------------------


def _check_state(base: Path, latest: dict[str, Latest], report: Report) -> None:
    db = open_state(base)
    if db is None:
        report.add(STATE_FILE, "missing: the archive's state cannot be checked")
        return
    try:
        committed = committed_sizes(db)
        rows = db.execute("SELECT id, version, content_hash, file FROM articles").fetchall()
    finally:
        db.close()
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
    in_state = set()
    for article_id, version, chash, file in rows:
        in_state.add(article_id)
        line = latest.get(article_id)
        if line is None:
            report.add(STATE_FILE, f"id {article_id}: archived as version {version} in {file}, "
                       "but no line holds it")
            continue
        if version != line.version:
            report.add(line.file, f"id {article_id}: latest line is version {line.version}, the "
                       f"state says {version}", line=line.line)
        elif chash != line.content_hash:
            report.add(line.file, f"id {article_id}: content_hash differs from the state's "
                       f"{chash}", line=line.line)
        if file != line.file:
            report.add(line.file, f"id {article_id}: the state files it in {file}",
                       line=line.line)
    for article_id in sorted(set(latest) - in_state):
        line = latest[article_id]
        report.add(line.file, f"id {article_id} version {line.version} is not in the state "
                   "(not counted as archived)", line=line.line)
