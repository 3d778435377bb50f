"""Which lines of the archive an export writes: each article's latest version, or every line.

The latest version is the line with the highest ``version`` of each article, by its ``key`` (a
record written before schema 1.4.0 gets the key its ``cms`` and ``id`` give), a later line of the
same version winning. Which line that is, is remembered in a scratch database on disk
(crawler/store/scratch.py), not in memory: an export's memory does not grow with the archive.
Lines are read one at a time, in the archive's order (month file by month file, as written).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.items import record_key
from crawler.store.scratch import scratch_db


class ExportError(Exception):
    """The archive holds something the export cannot write faithfully."""


@dataclass
class Selection:
    """Which lines of the archive an export writes: every line, or (``chosen``, a scratch
    database) each article's latest."""

    files: list[str]
    lines_read: int = 0
    chosen: Any = None  # sqlite3.Connection with table chosen(file, line); None: every line
    # (section, section_name) of the lines read: what keys old records (analysis/sections.py).
    section_names: Counter[tuple[str, str]] = field(default_factory=Counter)

    def lines_of(self, file_index: int) -> set[int] | None:
        """Return the line numbers to write of the file at ``file_index`` (None: every line)."""
        if self.chosen is None:
            return None
        return {line for (line,) in self.chosen.execute(
            "SELECT line FROM latest WHERE file = ?", (file_index,))}


def _records(root: Path, rel: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with (root / rel).open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                yield number, json.loads(raw)
            except ValueError as exc:
                raise ExportError(f"{rel}:{number}: not a JSON record ({exc}); "
                                  f"run python -m crawler verify") from None


def select(root: str | os.PathLike[str], *, all_versions: bool = False) -> Selection:
    """Return the lines to export: each article's latest version, or every line."""
    base = Path(root)
    files = sorted(str(p.relative_to(base)) for p in (base / "articles").glob("*.jsonl"))
    selection = Selection(files)
    if all_versions:
        return selection
    db = scratch_db("CREATE TABLE latest (key TEXT PRIMARY KEY, version INTEGER, file INTEGER,"
                    " line INTEGER); CREATE INDEX latest_file ON latest(file);")
    for index, rel in enumerate(files):
        rows = []
        for number, record in _records(base, rel):
            selection.lines_read += 1
            if record.get("section_name") and record.get("section"):
                selection.section_names[record["section"].lower(), record["section_name"]] += 1
            rows.append((record_key(record), record.get("version") or 1, index, number))
        # A later line of the same version wins, as a later version does.
        db.executemany("INSERT INTO latest VALUES(?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                       " version = excluded.version, file = excluded.file, line = excluded.line"
                       " WHERE excluded.version >= latest.version", rows)
    selection.chosen = db
    return selection


def iter_selected(root: str | os.PathLike[str],
                  selection: Selection) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (``file:line``, record) of every selected line, in archive order."""
    base = Path(root)
    count_lines = selection.chosen is None
    for index, rel in enumerate(selection.files):
        wanted = selection.lines_of(index)
        if wanted is not None and not wanted:
            continue
        for number, record in _records(base, rel):
            if count_lines:
                selection.lines_read += 1
            if wanted is None or number in wanted:
                if "key" not in record and record.get("id"):
                    record = _with_key(record)
                yield f"{rel}:{number}", record


def _with_key(record: dict[str, Any]) -> dict[str, Any]:
    """A record written before schema 1.4.0 with the key that version gives it, in its place."""
    out: dict[str, Any] = {}
    for name, value in record.items():
        out[name] = value
        if name == "cms":
            out["key"] = record_key(record)
    out.setdefault("key", record_key(record))
    return out
