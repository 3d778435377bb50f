"""WARC capture alone: what the crawl's capture process does per response, timed on its own.

``rate_on_warcs`` rebuilds the exchanges a crawl captured (each response record and the request
record written after it) and times ``CaptureWriter.capture`` on each, in this one process, into a
scratch folder: the response and request records built with warcio, written gzipped, the index
line appended. Only the calls are timed, not reading the crawl's WARC. It is the third part a
crawl with WARC capture on (the default) must do besides fetching and extraction, so
``make bench`` adds it to what the machine's cores must hold (bench/run.py, the CPU budget).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def exchanges_of(warcs: list[Path]) -> Iterator[Any]:
    """Yield an ``Exchange`` per response record of ``warcs`` that has its request record."""
    from crawler.sources.warc_reader import http_of, iter_warc, record_id
    from crawler.store.warc import Exchange

    def raw(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]

    for warc in warcs:
        response: tuple[Any, bytes] | None = None
        for record, _offset, _length, payload in iter_warc(warc):
            if record.rec_type == "response":
                response = (record, payload)
                continue
            if record.rec_type != "request" or response is None:
                continue
            got, body = response
            response = None
            concurrent = (record.rec_headers.get_header("WARC-Concurrent-To") or "").strip("<>")
            if concurrent != record_id(got):
                continue
            status, headers = http_of(got)
            _none, request_headers = http_of(record)
            request_line = record.http_headers.protocol.split() if record.http_headers else []
            date = got.rec_headers.get_header("WARC-Date") or ""
            yield Exchange(
                url=got.rec_headers.get_header("WARC-Target-URI") or "",
                status=status or 0, protocol=got.http_headers.protocol or "HTTP/1.1",
                headers=raw(headers), body=body,
                ip_address=got.rec_headers.get_header("WARC-IP-Address"),
                request_url=record.rec_headers.get_header("WARC-Target-URI") or "",
                method=request_line[0] if request_line else "GET",
                request_headers=raw(request_headers), request_body=payload,
                fetched_at=date.replace("Z", "+00:00"))


def rate_on_warcs(warcs: list[Path]) -> dict[str, Any]:
    """Time ``CaptureWriter.capture`` on every exchange of ``warcs``."""
    from crawler.store.warc import CaptureWriter

    exchanges = list(exchanges_of(warcs))
    scratch = Path(tempfile.mkdtemp(prefix="bench-capture-"))
    try:
        writer = CaptureWriter(scratch, max_size=1024 ** 3)
        seconds = 0.0
        for exchange in exchanges:
            started = time.perf_counter()
            writer.capture(exchange)
            seconds += time.perf_counter() - started
        writer.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"responses": len(exchanges), "seconds": seconds,
            "per_second": len(exchanges) / seconds if seconds else None}
