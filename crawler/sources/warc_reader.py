"""Reading WARC files, ours or another tool's: whole records with their offsets, damage reported.

A file that is truncated or holds garbage is read up to the damage, which is raised as
DamagedWarc naming the offset; crawler/process/reextract.py decides what to do with it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.recordloader import ArcWarcRecord


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


def iter_warc(path: Path) -> Iterator[tuple[ArcWarcRecord, int, int, bytes]]:
    """Yield (record, offset, length, stored payload) per whole record; DamagedWarc at damage."""
    with path.open("rb") as fh:
        iterator = ArchiveIterator(fh)
        offset = 0
        try:
            for record in iterator:
                # The payload first: asking warcio for the offset reads the record to its end.
                payload = record.raw_stream.read()
                missing = getattr(record.raw_stream, "limit", 0) or 0
                offset = iterator.get_record_offset()
                if record.rec_type is None or record.rec_headers is None:
                    raise DamagedWarc(path, offset, "a record's headers are cut off")
                if missing > 0:
                    raise DamagedWarc(path, offset, f"the {record.rec_type} record of "
                                      f"{record.rec_headers.get_header('WARC-Target-URI')} lacks "
                                      f"{missing} of its bytes")
                length = iterator.get_record_length()
                yield record, offset, length, payload
                offset += length
        except DamagedWarc:
            raise
        except Exception as exc:  # warcio raises several kinds on garbage; all mean "damaged here"
            raise DamagedWarc(path, offset, f"{type(exc).__name__}: {exc}") from exc


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
