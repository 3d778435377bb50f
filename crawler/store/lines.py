"""Reading and mending the archive's JSON Lines files, line by line, with the hash of what is kept.

The archive's files only ever grow by whole lines, and the state records, for each file, how far
it is committed and the SHA-256 of those committed bytes (crawler/store/statedb.py, ``files``).
So a file whose size or modification time moved is checked against its own committed state: the
hash of its first ``committed_size`` bytes says whether they are still the ones committed, and
only then are the lines after them read. This module reads a file that way, one line at a time
(a month file is never held whole, nor its records), says which lines are not whole records, and
moves those aside (``quarantine``) without losing a byte of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.normalise.dates import VN_TZ

QUARANTINE_DIR = "quarantine"
CHUNK = 1 << 20


@dataclass
class BadLine:
    """A line that is not a whole record: where it was and why it is moved aside."""

    file: str
    line_no: int  # 1-based, in the file as it was (from where it was read)
    offset: int
    reason: str
    data: bytes


@dataclass
class FileCheck:
    """What reading one file (whole, or from ``start``) found."""

    rel: str
    start: int  # 0 for a whole read; the committed size for a read of the tail only
    size: int  # where the read ended (the file's size then)
    uncommitted: bool = False  # everything read was written after the file's last commit
    records: int = 0  # whole records read
    bad: list[BadLine] = field(default_factory=list)
    # SHA-256 of the file's bytes from 0 to ``size`` without the bad lines: what its committed
    # hash is once they are moved aside.
    sha256: str | None = None

    @property
    def kept_size(self) -> int:
        """The file's size once its bad lines are moved aside."""
        return self.size - sum(len(bad.data) for bad in self.bad)


def check_line(kind: str, line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """Return (record, None) for a whole record of ``kind`` (articles, rejects), or (None, why)."""
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


def prefix_digest(path: Path, size: int) -> Any:
    """Return a SHA-256 object fed with the first ``size`` bytes of a file (fewer if shorter)."""
    digest = hashlib.sha256()
    if size <= 0:
        return digest
    with path.open("rb") as fh:
        left = size
        while left > 0 and (chunk := fh.read(min(CHUNK, left))):
            digest.update(chunk)
            left -= len(chunk)
    return digest


def read_lines(root: Path, check: FileCheck, digest: Any = None
               ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (offset, record) of each whole record of ``check.rel`` from ``check.start`` on.

    Fills ``check`` as it goes (records, bad lines, size) and, with ``digest`` (a SHA-256 of the
    bytes before ``check.start``), ``check.sha256``: the hash of the file without its bad lines.
    One line at a time: memory does not grow with the file."""
    kind = check.rel.split("/", 1)[0]
    offset, line_no = check.start, 0
    with (root / check.rel).open("rb") as fh:
        fh.seek(check.start)
        for raw in fh:
            line_no += 1
            line = raw.rstrip(b"\r\n")
            record, reason = None, None
            if not raw.endswith(b"\n"):
                reason = "a torn last line (no newline): an interrupted write"
            elif line.strip():
                record, reason = check_line(kind, line)
            if reason is not None:
                check.bad.append(BadLine(check.rel, line_no, offset, reason, raw))
            else:
                if digest is not None:
                    digest.update(raw)
                if record is not None:
                    check.records += 1
                    yield offset, record
            offset += len(raw)
    check.size = offset
    if digest is not None:
        check.sha256 = digest.hexdigest()


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


def rewrite_without(root: Path, check: FileCheck) -> int:
    """Remove a file's bad lines (from ``check.start`` on); return the file's new size.

    Streams: a whole file is copied line by line to a temporary file that replaces it; a tail
    is cut off and written back without them."""
    path = root / check.rel
    drop = {(b.offset, len(b.data)) for b in check.bad}
    if check.start == 0:
        tmp = path.with_name(path.name + ".reconcile-tmp")
        size = 0
        with path.open("rb") as src, tmp.open("wb") as out:
            offset = 0
            for raw in src:
                if offset >= check.size:
                    break
                if (offset, len(raw)) not in drop:
                    out.write(raw)
                    size += len(raw)
                offset += len(raw)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        return size
    with path.open("rb+") as fh:
        fh.seek(check.start)
        tail = fh.read(check.size - check.start)
        kept, offset = [], check.start
        for raw in tail.splitlines(keepends=True):
            if (offset, len(raw)) not in drop:
                kept.append(raw)
            offset += len(raw)
        body = b"".join(kept)
        fh.truncate(check.start)
        fh.seek(check.start)
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    return check.start + len(body)


def ends_with_newline(path: Path, size: int) -> bool:
    """True when the file's byte before ``size`` is a newline (or ``size`` is 0)."""
    if size == 0:
        return True
    with path.open("rb") as fh:
        fh.seek(size - 1)
        return fh.read(1) == b"\n"
