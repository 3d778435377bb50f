"""Keeping ``raw/index.cdxj`` sorted without holding it in memory.

A crawl appends one CDXJ line per response while it runs (a killed crawl leaves them there,
unsorted), and sorts the file when it ends, so that pywb and ``python -m crawler report`` can
binary-search it. The file grows with every capture the archive ever made, so it is never read
whole: its sorted beginning (what earlier runs sorted) stays where it is, the lines after it are
sorted in runs of ``chunk_lines`` into temporary files, and all of them are merged, one line at a
time, into a new file that replaces the old one. Lines compare as bytes (``LC_ALL=C sort``);
a line that appears twice is written once, empty lines not at all.
"""

from __future__ import annotations

import heapq
import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

# Lines sorted in memory at a time: about 400 bytes each, so a few MB.
CHUNK_LINES = 20_000


def _lines(fh: IO[bytes], end: int | None = None) -> Iterator[bytes]:
    """Yield the newline-terminated, non-empty lines of ``fh`` from where it is (up to ``end``)."""
    for line in fh:
        if end is not None:
            if end <= 0:
                return
            end -= len(line)
        if not line.endswith(b"\n"):
            line += b"\n"
        if line.strip():
            yield line


def _sorted_prefix(path: Path) -> tuple[int, bool]:
    """Return how many bytes at the start of the file are sorted lines, and whether that is all."""
    size = 0
    previous = b""
    with path.open("rb") as fh:
        for line in fh:
            if not line.endswith(b"\n") or line <= previous or not line.strip():
                return size, False
            previous = line
            size += len(line)
    return size, True


def sort_index(path: Path, *, chunk_lines: int = CHUNK_LINES) -> bool:
    """Sort a CDXJ file in place, holding at most ``chunk_lines`` lines in memory; return True
    when it had to be rewritten. Raises OSError (the file is then left as it was)."""
    prefix, whole = _sorted_prefix(path)
    if whole:
        return False
    folder = path.parent
    runs: list[IO[bytes]] = []
    tmp = folder / f".{path.name}.sorting-{os.getpid()}"
    try:
        with path.open("rb") as fh:
            fh.seek(prefix)
            tail = _lines(fh)
            while chunk := list(itertools.islice(tail, chunk_lines)):
                chunk.sort()
                run = tempfile.TemporaryFile(dir=folder, prefix=".cdxj-run-")
                run.writelines(chunk)
                run.seek(0)
                runs.append(run)
        with path.open("rb") as head, tmp.open("wb") as out:
            previous = None
            for line in heapq.merge(_lines(head, prefix), *(_lines(run) for run in runs)):
                if line != previous:
                    out.write(line)
                previous = line
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        for run in runs:
            run.close()
        tmp.unlink(missing_ok=True)
    return True
