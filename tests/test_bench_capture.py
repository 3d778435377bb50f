"""The benchmark's WARC-capture-alone figure times real captures: the exchanges it rebuilds
from a crawl's WARC are the ones the crawl captured."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bench import capture
from crawler.store.warc import CaptureWriter, Exchange


def _exchange(n: int, status: int = 200) -> Exchange:
    url = f"http://127.0.0.1:8080/xa-hoi/202101/bai-{n}-{n:07x}/"
    return Exchange(
        url=url, status=status, protocol="HTTP/1.1",
        headers=[(b"Content-Type", b"text/html; charset=utf-8"), (b"Set-Cookie", b"a=1"),
                 (b"Set-Cookie", b"b=2")],
        body=f"<html><body><p>bài {n}</p></body></html>".encode(), ip_address="127.0.0.1",
        request_url=url, method="GET",
        request_headers=[(b"Host", b"127.0.0.1:8080"), (b"Accept", b"text/html")],
        request_body=b"", fetched_at=f"2025-06-28T23:59:{n:02d}+07:00")


def test_exchanges_are_rebuilt_as_they_were_captured(tmp_path: Path) -> None:
    sent = [_exchange(n, 200 if n % 3 else 404) for n in range(12)]
    writer = CaptureWriter(tmp_path, max_size=1024 ** 3)
    for exchange in sent:
        writer.capture(exchange)
    writer.close()
    warcs = sorted((tmp_path / "raw").glob("*.warc.gz"))
    rebuilt = list(capture.exchanges_of(warcs))
    assert len(rebuilt) == len(sent)
    for got, want in zip(rebuilt, sent, strict=True):
        assert (got.url, got.status, got.protocol, got.body, got.ip_address, got.request_url,
                got.method, got.request_body) == (
                    want.url, want.status, want.protocol, want.body, want.ip_address,
                    want.request_url, want.method, want.request_body)
        assert got.headers == want.headers and got.request_headers == want.request_headers
        assert dt.datetime.fromisoformat(got.fetched_at) == dt.datetime.fromisoformat(
            want.fetched_at)


def test_capture_alone_times_every_exchange(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path, max_size=1024 ** 3)
    for n in range(5):
        writer.capture(_exchange(n))
    writer.close()
    result = capture.rate_on_warcs(sorted((tmp_path / "raw").glob("*.warc.gz")))
    assert result["responses"] == 5 and result["seconds"] > 0
