"""Reading WARC files, ours or another tool's: whole records with their offsets, damage reported.

A file that is truncated or holds garbage is read up to the damage. Without a ``damage`` list,
``iter_warc`` raises DamagedWarc naming the offset there. With one, it notes the damaged range
(file, offset, length, cause) and reads on from the next record that begins whole: each record
of a ``.warc.gz`` is its own gzip member, so the next member that decompresses to a WARC
header; in an uncompressed file, the next line ``WARC/1.0`` or ``WARC/1.1``. A file in which no
WARC record begins anywhere (a text file, an HTML page) is NotAWarc.
"""

from __future__ import annotations

import contextlib
import io
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.recordloader import ArcWarcRecord

from crawler.site.urls import host_of, parse_article_url


@dataclass(frozen=True)
class Location:
    """Where one WARC record is: file and offset of its gzip member (or of its plain record)."""

    path: Path
    offset: int


@dataclass
class Capture:
    """One HTTP response as captured: status, headers and body as received, and where it is kept."""

    url: str
    date: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    record_id: str
    location: Location
    length: int


class DamagedWarc(Exception):
    """A WARC file cannot be read past some offset."""

    def __init__(self, path: Path, offset: int, cause: str):
        super().__init__(f"{path}: damaged at offset {offset}: {cause}")
        self.path, self.offset, self.cause = path, offset, cause


class NotAWarc(Exception):
    """A file in which no WARC record begins: not a WARC file at all."""

    def __init__(self, path: Path, start: bytes):
        what = ("it is gzip data that holds none" if start.startswith(GZIP_MEMBER[:2])
                else f"it starts {plain(start[:40])!r}" if start else "it is empty")
        super().__init__(f"{path} is not a WARC file: no WARC record begins in it ({what})")
        self.path = path


@dataclass(frozen=True)
class Damage:
    """A damaged range of a WARC file, skipped: ``length`` bytes from ``offset``, and why."""

    path: Path
    offset: int
    length: int
    cause: str


# Where a record of each kind of file begins: a gzip member (RFC 1952, deflate), a WARC header.
GZIP_MEMBER = b"\x1f\x8b\x08"
WARC_LINE = b"WARC/1."
# How far a search for the next record reads at a time, and how much of a member it inflates.
SCAN_BLOCK = 1 << 20
PEEK = 4096
# Blank lines an uncompressed file may end with after its last record (CRLF CRLF, and some).
TRAILING = 64


def plain(data: bytes | str, limit: int = 120) -> str:
    """Return bytes or text as one printable ASCII line, at most ``limit`` characters: a cause
    quoted from a damaged file must not bring its garbage into the log."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    text = "".join(ch if " " <= ch <= "~" else "?" for ch in " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _begins_record(fh: io.BufferedReader, offset: int, gzipped: bool) -> bool:
    """True when a WARC record begins at ``offset``: a gzip member that inflates to a WARC
    header, or (uncompressed) a ``WARC/1.x`` line."""
    fh.seek(offset)
    head = fh.read(PEEK)
    if not gzipped:
        return head[:10] in (b"WARC/1.0\r\n", b"WARC/1.1\r\n", b"WARC/1.0\n", b"WARC/1.1\n")
    if not head.startswith(GZIP_MEMBER):
        return False
    try:
        inflated = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 16)
    except zlib.error:
        return False
    if len(inflated) < len(WARC_LINE) and len(head) < PEEK:
        return WARC_LINE.startswith(inflated)  # the file ends inside it: a record cut short
    return inflated.startswith(WARC_LINE)


def next_record(fh: io.BufferedReader, start: int, gzipped: bool) -> int | None:
    """Return the offset of the first WARC record that begins at or after ``start``, or None."""
    marker = GZIP_MEMBER if gzipped else b"\n" + WARC_LINE
    if not gzipped and start == 0 and _begins_record(fh, 0, gzipped):
        return 0
    position = start if gzipped else max(start - 1, 0)
    while True:
        fh.seek(position)
        block = fh.read(SCAN_BLOCK + len(marker))
        found = block.find(marker)
        while found >= 0:
            candidate = position + found + (0 if gzipped else 1)
            if candidate >= start and _begins_record(fh, candidate, gzipped):
                return candidate
            found = block.find(marker, found + 1)
        if len(block) <= len(marker):
            return None
        position += SCAN_BLOCK


def _gzipped(fh: io.BufferedReader) -> bool:
    fh.seek(0)
    return fh.read(2) == GZIP_MEMBER[:2]


def first_record(path: Path) -> int:
    """Return the offset of the first WARC record of a file (0 unless its start is damaged);
    NotAWarc when no WARC record begins anywhere in it."""
    with path.open("rb") as fh:
        first = next_record(fh, 0, _gzipped(fh))
        if first is None:
            fh.seek(0)
            raise NotAWarc(path, fh.read(64))
        return first


def iter_warc(path: Path, damage: list[Damage] | None = None
              ) -> Iterator[tuple[ArcWarcRecord, int, int, bytes]]:
    """Yield (record, offset, length, stored payload) per whole record, in file order.

    Without ``damage``: DamagedWarc at the first damage. With it: each damaged range is appended
    to it and reading goes on at the next record that begins whole; NotAWarc when no WARC
    record begins anywhere in the file."""
    with path.open("rb") as fh:
        gzipped = _gzipped(fh)
        offset = 0
        if damage is not None:
            first = next_record(fh, 0, gzipped)
            if first is None:
                fh.seek(0)
                raise NotAWarc(path, fh.read(64))
            if first > 0:
                damage.append(Damage(path, 0, first, "no WARC record begins here"))
            offset = first
        size = fh.seek(0, io.SEEK_END)
        while offset is not None and offset < size:
            fh.seek(offset)
            try:
                for record, at, length, payload in _records(path, fh, offset):
                    yield record, at, length, payload
                    offset = at + length
                fh.seek(offset)
                if fh.read(TRAILING + 1).strip():  # not only the blank lines after a record
                    raise DamagedWarc(path, offset, "the file ends inside a record, or holds "
                                      "bytes that are no record")
                return
            except DamagedWarc as exc:
                if damage is None:
                    raise
                resume = next_record(fh, exc.offset + 1, gzipped)
                end = size if resume is None else resume
                damage.append(Damage(path, exc.offset, end - exc.offset, exc.cause))
                offset = resume


def _records(path: Path, fh: io.BufferedReader, start: int
             ) -> Iterator[tuple[ArcWarcRecord, int, int, bytes]]:
    """Yield (record, offset, length, payload) from ``start`` on; DamagedWarc where one is not
    whole."""
    offset = start
    with contextlib.redirect_stderr(io.StringIO()):  # warcio's own warnings, said here instead
        # Digests checked where a record has them: a corrupted byte that the length and (in a
        # .warc.gz) gzip's CRC let through still shows.
        iterator = ArchiveIterator(fh, check_digests=True)
    try:
        while True:
            with contextlib.redirect_stderr(io.StringIO()):
                record = next(iterator, None)
                if record is None:
                    return
                # The payload first: asking warcio for the offset reads the record to its end.
                payload = record.raw_stream.read()
                missing = getattr(record.raw_stream, "limit", 0) or 0
                errors = iterator.err_count
                offset = iterator.get_record_offset()
                if record.rec_type is None or record.rec_headers is None \
                        or record.format not in ("warc", None):
                    raise DamagedWarc(path, offset, "a record's headers are cut off or garbled")
                if missing > 0:
                    raise DamagedWarc(path, offset, f"the {record.rec_type} record of "
                                      f"{record.rec_headers.get_header('WARC-Target-URI')} lacks "
                                      f"{missing} of its bytes")
                if record.digest_checker.passed is False:
                    raise DamagedWarc(path, offset, f"the {record.rec_type} record of "
                                      f"{record.rec_headers.get_header('WARC-Target-URI')} does "
                                      f"not match its digest")
                if iterator.err_count > errors:
                    raise DamagedWarc(path, offset, f"the {record.rec_type} record is not as long "
                                      f"as its Content-Length says")
                length = iterator.get_record_length()
            yield record, offset, length, payload
            offset += length
    except DamagedWarc:
        raise
    except Exception as exc:  # warcio raises several kinds on garbage; all mean "damaged here"
        message, _, first_line = str(exc).partition(", first line:")
        if first_line and plain(first_line) != " ".join(first_line.split()):
            message += ": its first line is not text"  # garbage quoted would be noise
        elif first_line:
            message += f", first line: {first_line}"
        raise DamagedWarc(path, offset, plain(f"{type(exc).__name__}: {message}")) from exc


def record_id(record: ArcWarcRecord) -> str:
    """Return a record's WARC-Record-ID without its angle brackets."""
    return (record.rec_headers.get_header("WARC-Record-ID") or "").strip().strip("<>")


def http_of(record: ArcWarcRecord) -> tuple[int | None, list[tuple[str, str]]]:
    """Return the HTTP status and headers of a response or request record (None, [] if absent)."""
    headers = record.http_headers
    if headers is None:
        return None, []
    try:
        status = int(headers.get_statuscode())
    except (TypeError, ValueError):
        status = None
    return status, list(headers.headers)


def undo_transfer_coding(body: bytes, headers: list[tuple[str, str]]
                          ) -> tuple[bytes, list[tuple[str, str]]]:
    """Return the body de-chunked (as the download handler does) and its Transfer-Encoding gone."""
    chunked = any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers)
    if chunked:
        body = ChunkedDataReader(io.BytesIO(body)).read()
    return body, [(k, v) for k, v in headers if k.lower() != "transfer-encoding"]


def captured_site(paths: list[Path], known_hosts: frozenset[str], *,
                  enough: int = 50) -> str | None:
    """Return the base URL (scheme://host[:port]) the article captures of WARC files were fetched
    from, when it is none of ``known_hosts`` (the site's own names); None when no article page
    was captured directly (a web archive's answers only) or the site is a known one."""
    found: Counter[str] = Counter()
    for path in paths:
        try:
            for record, _offset, _length, _payload in iter_warc(path):
                if record.rec_type != "response":
                    continue
                uri = (record.rec_headers.get_header("WARC-Target-URI") or "").strip("<>")
                if parse_article_url(uri) is None:
                    continue
                parts = urlsplit(uri)
                found[f"{parts.scheme}://{parts.netloc}"] += 1
                if sum(found.values()) >= enough:
                    break
        except (DamagedWarc, OSError):
            continue
        if sum(found.values()) >= enough:
            break
    if not found:
        return None
    base = found.most_common(1)[0][0]
    return None if host_of(base) in known_hosts else base
