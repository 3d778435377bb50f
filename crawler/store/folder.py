"""Whether a folder given as ARCHIVE_DIR (``--archive-dir``, ``-s ARCHIVE_DIR=``) can be one.

A command that reads an archive needs one: a folder with ``articles/`` (every run that opens the
archive makes it). A command that writes one takes an archive, a new folder or an empty one; a
file, or a folder that holds other things and nothing of an archive (a typo such as ``~`` or a
source tree), is refused, so that nothing is written where it does not belong.
"""

from __future__ import annotations

import os
from pathlib import Path

# What any archive holds once a run has opened it (crawler/store/archive.py, statedb.py, lock.py,
# crawler/run/report.py, crawler/store/warc.py, crawler/analysis/manifest.py).
ARCHIVE_ENTRIES = ("articles", "rejects", "runs", "raw", "state.sqlite3", "manifest.json", "lock")


def reading_problem(root: str | os.PathLike[str]) -> str | None:
    """Return why an archive cannot be read from ``root`` (one line), or None when it can."""
    path = Path(root)
    if not path.exists():
        return f"{path} is not an archive: no such folder"
    if not path.is_dir():
        return f"{path} is not an archive: it is a file"
    if not (path / "articles").is_dir():
        return f"{path} is not an archive: it has no articles/ folder"
    return None


def writing_problem(root: str | os.PathLike[str]) -> str | None:
    """Return why ``root`` cannot take an archive (one line), or None: an archive, a new or an
    empty folder."""
    path = Path(root)
    if not path.exists():
        return None
    if not path.is_dir():
        return f"{path} cannot hold an archive: it is a file"
    try:
        entries = {entry.name for entry in path.iterdir()}
    except OSError as exc:
        return f"{path} cannot be read: {exc.strerror or exc}"
    if entries and not entries & set(ARCHIVE_ENTRIES):
        shown = ", ".join(sorted(entries)[:3]) + (", ..." if len(entries) > 3 else "")
        return (f"{path} is not an archive (no articles/ folder) and not empty ({shown}): give "
                "an archive or a new folder")
    return None
