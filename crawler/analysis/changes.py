"""``python -m crawler changes``: every record added or updated since a cursor, safe during a crawl.

The archive only ever appends to its month files, and a line counts as archived only once the
state's ``files`` table has advanced that file's committed size past it (crawler/store/archive.py).
So a cursor is, per month file, the committed size already read: a pull reads each file from the
cursor's offset up to the committed size the state gives at that moment, and never past it. Bytes
a running crawl has written but not yet committed are left for the next pull; month files that
appear later start at offset 0. Nothing is missed, nothing is read twice.

Each position also carries a fingerprint (SHA-256) of the file's bytes before it. If a file no
longer matches (it was rewritten or cut by a repair, or the cursor belongs to another archive),
that file is sent again from its start with a warning: a consumer may then see records twice,
never lose one. Checking it reads what was read before once more: a pull reads the whole archive
(about a second for 200 MB).

The cursor is text: ``c1.`` then the positions as zlib-compressed JSON in URL-safe base64
(``{"articles/2022-01.jsonl": [offset, fingerprint], ...}``). The state is read through a read-only
connection; without a state database (a bare copy of the files) each file is read up to its last
whole line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from crawler.analysis.readonly import committed_sizes, jsonl_files, open_state

PREFIX = "c1."
CHUNK = 1 << 20


class CursorError(ValueError):
    """A --since value that is not a cursor this command printed."""


def prefix_digest(fh: BinaryIO, offset: int) -> Any:
    """Return a SHA-256 object fed with the first ``offset`` bytes of an open binary file."""
    digest = hashlib.sha256()
    fh.seek(0)
    left = offset
    while left > 0 and (chunk := fh.read(min(CHUNK, left))):
        digest.update(chunk)
        left -= len(chunk)
    return digest


def mark(digest: Any) -> str:
    """Return the fingerprint a cursor keeps of a digest."""
    return digest.hexdigest()[:20]


@dataclass
class Cursor:
    """How far each month file has been read: path -> (offset, fingerprint)."""

    positions: dict[str, tuple[int, str]] = field(default_factory=dict)

    def encode(self) -> str:
        """Return the cursor as one line of text."""
        data = json.dumps({k: list(v) for k, v in sorted(self.positions.items())},
                          separators=(",", ":")).encode()
        return PREFIX + base64.urlsafe_b64encode(zlib.compress(data, 9)).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Parse a cursor printed by ``changes``; CursorError when it is not one."""
        text = text.strip()
        if not text.startswith(PREFIX):
            raise CursorError(f"not a cursor of this archive's changes command: {text[:40]!r}")
        body = text[len(PREFIX):]
        try:
            raw = zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            positions = {str(k): (int(v[0]), str(v[1])) for k, v in json.loads(raw).items()}
        except (binascii.Error, zlib.error, ValueError, TypeError, IndexError,
                AttributeError) as exc:
            raise CursorError(f"damaged cursor ({exc})") from None
        return cls(positions)


@dataclass
class Pull:
    """The outcome of one pull: the new cursor, and what to tell the user."""

    cursor: Cursor
    records: int = 0
    files: int = 0
    warnings: list[str] = field(default_factory=list)


def _readable_ends(root: Path) -> tuple[dict[str, int], bool]:
    """Return how far each article file may be read, and whether the state said so."""
    db = open_state(root)
    if db is None:
        return {rel: _last_line_end(root / rel) for rel in jsonl_files(root)}, False
    try:
        # One statement: one consistent snapshot of every file's committed size.
        sizes = committed_sizes(db)
    finally:
        db.close()
    return {rel: size for rel, size in sizes.items() if rel.startswith("articles/")}, True


def pull(root: str | os.PathLike[str],
         since: Cursor | None = None) -> tuple[Iterator[bytes], Pull]:
    """Return (lines added after ``since``, the pull); the pull is complete once lines are read."""
    located, outcome = pull_located(root, since)
    return (line for _rel, _offset, line in located), outcome


def pull_located(root: str | os.PathLike[str], since: Cursor | None = None
                 ) -> tuple[Iterator[tuple[str, int, bytes]], Pull]:
    """Return pull()'s lines as (file relative to the archive, byte offset, line), and the pull."""
    base = Path(root)
    since = since or Cursor()
    outcome = Pull(Cursor(dict(since.positions)))
    if not (base / "articles").is_dir():
        outcome.warnings.append(f"{base} holds no articles/ folder yet: nothing to send")
        return iter(()), outcome
    ends, from_state = _readable_ends(base)
    if not from_state:
        outcome.warnings.append("no state.sqlite3: reading each file up to its last whole line")
    for rel in sorted(set(since.positions) - set(ends)):
        outcome.warnings.append(f"{rel}: in the cursor but no longer in the archive")

    def lines() -> Iterator[tuple[str, int, bytes]]:
        for rel in sorted(ends):
            end = ends[rel]
            path = base / rel
            if not path.is_file():
                outcome.warnings.append(f"{rel}: committed in the state but missing on disk")
                continue
            with path.open("rb") as fh:
                start, digest = _start(fh, rel, since.positions.get(rel), end, outcome)
                if end > start:
                    fh.seek(start)
                    # A line at a time up to the committed size, which always ends a line; a
                    # short read means the file shrank, and the last whole line is the end.
                    read = start
                    for line in fh:
                        if read + len(line) > end or not line.endswith(b"\n"):
                            break
                        at, read = read, read + len(line)
                        digest.update(line)
                        if line.strip():
                            outcome.records += 1
                            yield rel, at, line
                    end = read
                    outcome.files += 1
                outcome.cursor.positions[rel] = (end, mark(digest))
    return lines(), outcome


def _last_line_end(path: Path) -> int:
    """Return the offset just past the file's last newline (0 if none), reading from its end."""
    with path.open("rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        while end > 0:
            start = max(0, end - CHUNK)
            fh.seek(start)
            found = fh.read(end - start).rfind(b"\n")
            if found >= 0:
                return start + found + 1
            end = start
    return 0


def _start(fh: BinaryIO, rel: str, position: tuple[int, str] | None, end: int,
           outcome: Pull) -> tuple[int, Any]:
    """Return where to resume a file (0 if the cursor no longer holds) and the digest up to it."""
    if position is None:
        return 0, hashlib.sha256()
    offset, fingerprint = position
    if offset > end:
        outcome.warnings.append(f"{rel}: the cursor is at byte {offset} but only {end} bytes are "
                                f"committed (the file was cut): sending it again from its start")
        return 0, hashlib.sha256()
    digest = prefix_digest(fh, offset)
    if mark(digest) != fingerprint:
        outcome.warnings.append(f"{rel}: its bytes before the cursor changed (rewritten or "
                                f"repaired): sending it again from its start")
        return 0, hashlib.sha256()
    return offset, digest
