"""Tests of raw captures (crawler/store/warc.py) and re-extraction (crawler/process/reextract.py): crawl, WARC, records again."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import gzip
import io
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.process.forked import LogKeeper
from crawler.process.processing import project_settings
from crawler.process.reextract import reextract
from crawler.run import capture
from crawler.run.capture import WarcCaptureMiddleware
from crawler.run.outcome import PROBLEMS_KEY, ExitStatus
from crawler.site.urls import parse_article_url
from crawler.sources.warc_reader import DamagedWarc, iter_warc
from crawler.store import warc
from crawler.store.warc import fetched_at_of, surt
from tests.crawling import archive_lines
from tests.replica import Replica

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "warc"
WGET_SITE = "http://127.0.0.1:8765"  # the replica wget captured (tests/fixtures/warc/README.md)


def _lines(archive: Path, kind: str = "articles") -> list[str]:
    return sorted(line for path in (archive / kind).glob("*.jsonl")
                  for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def _settings(archive: Path, site_url: str, **extra: Any) -> Any:
    return project_settings({"SITE_URL": site_url, "SITE_HOST_ALIASES": "localhost",
                             "ARCHIVE_DIR": str(archive), "ARCHIVE_ENABLED": True,
                             "ARCHIVE_FSYNC": False, **extra})


# --- the middleware, in memory -------------------------------------------------------------

def _middleware(tmp_path: Path, **settings: Any) -> WarcCaptureMiddleware:
    crawler = get_crawler(settings_dict={"ARCHIVE_DIR": str(tmp_path), "WARC_ENABLED": True,
                                         "WARC_MAX_SIZE": 10**9, "WARC_CAPTURE_PROCESS": False,
                                         **settings})
    crawler._apply_settings()
    return WarcCaptureMiddleware.from_crawler(crawler)


def _through(middleware: WarcCaptureMiddleware, exchanges: list[tuple[Request, Response]]
             ) -> list[Response]:
    """Open the middleware, pass each response through it, close it: in one event loop."""
    async def run() -> list[Response]:
        await middleware.spider_opened()
        try:
            return [await middleware.process_response(request, response)
                    for request, response in exchanges]
        finally:
            await middleware.spider_closed()

    return asyncio.run(run())


# Capture in the crawl's own process, and in the capture process (crawler/process/forked.py).
WHERE = pytest.mark.parametrize("where", [False, True], ids=["here", "capture-process"])


def _read(path: Path) -> list[tuple[str, Any, bytes]]:
    with path.open("rb") as fh:
        return [(r.rec_type, r, r.content_stream().read()) for r in ArchiveIterator(fh)]


def test_middleware_is_off_when_disabled(tmp_path: Path) -> None:
    with pytest.raises(NotConfigured):
        _middleware(tmp_path, WARC_ENABLED=False)


@WHERE
@pytest.mark.parametrize("status", [200, 301, 404, 503])
def test_every_status_is_captured_with_its_request(tmp_path: Path, status: int,
                                                   where: bool) -> None:
    middleware = _middleware(tmp_path, WARC_CAPTURE_PROCESS=where)
    request = Request("http://127.0.0.1:1/channel/5084/", headers={"Referer": "http://x/"})
    body = "<html><p>Nam Định</p></html>".encode()
    response = HtmlResponse(url=request.url, status=status, body=body, request=request,
                            headers={"Content-Type": "text/html; charset=utf-8"})
    assert _through(middleware, [(request, response)]) == [response]
    capture = request.meta["archive_capture"]
    assert capture["status"] == status and capture["warc_file"].startswith("raw/baonamdinh-")
    records = _read(tmp_path / capture["warc_file"])
    assert [kind for kind, _, _ in records] == ["warcinfo", "response", "request"]
    _, resp, payload = records[1]
    assert payload == body and resp.http_headers.get_statuscode() == str(status)
    assert resp.rec_headers.get_header("WARC-Record-ID") == f"<{capture['record_id']}>"
    assert fetched_at_of(resp.rec_headers.get_header("WARC-Date")) == capture["fetched_at"]
    assert records[2][1].rec_headers.get_header("WARC-Concurrent-To") == f"<{capture['record_id']}>"
    assert records[2][1].http_headers.get_header("Referer") == "http://x/"
    with (tmp_path / capture["warc_file"]).open("rb") as fh:  # the pointer is a record's start
        fh.seek(capture["offset"])
        assert len(fh.read(capture["length"])) == capture["length"]
        fh.seek(capture["offset"])
        assert next(iter(ArchiveIterator(fh))).rec_type == "response"
    key, stamp, fields = (tmp_path / "raw" / "index.cdxj").read_text().split(" ", 2)
    assert key == "1,0,0,127:1)/channel/5084" and len(stamp) == 14
    assert json.loads(fields)["offset"] == str(capture["offset"])


def test_images_are_skipped_unless_asked_for(tmp_path: Path) -> None:
    def capture(middleware: WarcCaptureMiddleware) -> dict | None:
        request = Request("http://127.0.0.1:1/file/a.jpg")
        _through(middleware, [(request, Response(
            url=request.url, body=b"\xff\xd8", headers={"Content-Type": "image/jpeg"}))])
        return request.meta.get("archive_capture")

    assert capture(_middleware(tmp_path / "off")) is None
    assert capture(_middleware(tmp_path / "on", WARC_CAPTURE_IMAGES=True)) is not None


@WHERE
def test_a_full_disk_stops_the_run_and_the_response_goes_no_further(
        tmp_path: Path, where: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fh: Any, data: bytes, offset: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device (injected)")

    # Patched before the capture process is forked, so there too.
    monkeypatch.setattr(warc, "_write_whole", full)
    middleware = _middleware(tmp_path, WARC_CAPTURE_PROCESS=where)
    request = Request("http://127.0.0.1:1/channel/5084/")
    with pytest.raises(IgnoreRequest, match="No space left"):
        _through(middleware, [(request, HtmlResponse(url=request.url, body=b"<p>x</p>"))])
    assert middleware.failed and "archive_capture" not in request.meta
    (problem,) = middleware.crawler.stats.get_value(PROBLEMS_KEY)
    assert problem["status"] == ExitStatus.STORAGE_FAILURE and "5084" in problem["message"]


def test_the_index_gives_the_last_content_type_as_scrapy_does(tmp_path: Path) -> None:
    request = Request("http://127.0.0.1:1/p/")
    response = HtmlResponse(url=request.url, body=b"x", headers={
        "Content-Type": ["text/plain", "text/html; charset=utf-8"]})
    assert response.headers.get("Content-Type") == b"text/html; charset=utf-8"
    _through(_middleware(tmp_path), [(request, response)])
    line = (tmp_path / "raw" / "index.cdxj").read_text()
    assert json.loads(line.split(" ", 2)[2])["mime"] == "text/html"


@pytest.mark.parametrize("crawl_alive", [True, False])
def test_the_capture_process_sorts_the_index_only_when_the_crawl_closes_it(
        tmp_path: Path, crawl_alive: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = warc.CaptureWriter(tmp_path, max_size=10**9)
    monkeypatch.setattr(capture, "_helper", {"writer": writer, "log": LogKeeper(),
                                          "crawl": os.getppid() if crawl_alive else -1})
    for path in ("/z/", "/a/"):  # captured out of SURT order
        request = Request(f"http://127.0.0.1:1{path}")
        capture._capture_here(warc.Exchange.of(request, HtmlResponse(url=request.url, body=b"x"),
                                            warc.dt.datetime.now(warc.VN_TZ)))
    capture._end_capture()  # what the capture process does as it ends
    keys = [line.split(" ")[0] for line in
            (tmp_path / "raw" / "index.cdxj").read_text().splitlines()]
    # A killed crawl's index is left as appended (its archive is free at once), as before.
    assert keys == (["1,0,0,127:1)/a", "1,0,0,127:1)/z"] if crawl_alive else
                    ["1,0,0,127:1)/z", "1,0,0,127:1)/a"])


@WHERE
def test_files_roll_over_at_the_size_limit(tmp_path: Path, where: bool) -> None:
    middleware = _middleware(tmp_path, WARC_MAX_SIZE=2000, WARC_CAPTURE_PROCESS=where)
    requests = [Request(f"http://127.0.0.1:1/p{n}/") for n in range(6)]
    _through(middleware, [(request, HtmlResponse(url=request.url, body=os.urandom(1500)))
                          for request in requests])
    names = sorted(p.name for p in (tmp_path / "raw").glob("*.warc.gz"))
    assert len(names) == 6 and names[0].endswith("-00000.warc.gz")
    assert len((tmp_path / "raw" / "index.cdxj").read_text().splitlines()) == 6


@pytest.mark.parametrize("url, key", [
    ("https://www.baonamdinh.vn/channel/5084/", "vn,baonamdinh)/channel/5084"),
    ("http://BaoNamDinh.com.vn:8080/A/?b=2&a=1", "vn,com,baonamdinh:8080)/a?a=1&b=2"),
    ("http://127.0.0.1:8765/", "1,0,0,127:8765)/"),
    ("http://localhost:8765/channel/5084/201109/A-2136862/", "localhost:8765)/channel/5084/201109/a-2136862"),
])
def test_surt(url: str, key: str) -> None:
    assert surt(url) == key


# --- a crawl of the replica, then its re-extraction ---------------------------------------

def _crawl(archive: Path, *, settings: tuple[str, ...] = (), **replica: Any) -> dict[str, Any]:
    """Crawl a replica into an archive with its WARCs; return where and what."""
    with Replica(crawl_delay=0, **replica) as site:
        command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh",
                   "-s", f"SITE_URL={site.url}", "-s", "SITE_HOST_ALIASES=localhost",
                   "-s", f"ARCHIVE_DIR={archive}", "-s", "DOWNLOAD_DELAY=0",
                   "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "ROBOTSTXT_OBEY=True",
                   "-s", "ARCHIVE_FSYNC=False", "-s", "REPORT_PROGRESS_INTERVAL=0"]
        for setting in settings:
            command += ["-s", setting]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return {"archive": archive, "site_url": site.url,
                "warcs": sorted((archive / "raw").glob("*.warc.gz"))}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A crawl of a 150-article replica without faults."""
    return _crawl(tmp_path_factory.mktemp("crawl") / "archive", articles=150, seed=11,
                  fault_rate=0.0)


def _reextract_cli(crawl: dict[str, Any], fresh: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler", "reextract", *map(str, crawl["warcs"]),
         "--archive-dir", str(fresh), "-s", f"SITE_URL={crawl['site_url']}",
         "-s", "SITE_HOST_ALIASES=localhost", "-s", "ARCHIVE_FSYNC=False"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_reextract_takes_the_site_from_the_captures_when_site_url_is_not_given(
        crawled: dict[str, Any], tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    done = subprocess.run([sys.executable, "-m", "crawler", "reextract",
                           *map(str, crawled["warcs"]), "--archive-dir", str(fresh),
                           # the replica's other name, as the crawl was told
                           "-s", "SITE_HOST_ALIASES=localhost", "-s", "ARCHIVE_FSYNC=False"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"SITE_URL {crawled['site_url']}, the host of the captured articles" in done.stderr
    assert _lines(fresh) == _lines(crawled["archive"])
    assert _lines(fresh, "rejects") == _lines(crawled["archive"], "rejects")


def test_warc_file_names_are_in_vietnam_time(tmp_path: Path) -> None:
    """As the run reports and every other name: a WARC started 23:30 UTC is named the next day."""
    files = warc.WarcWriterFiles(tmp_path, max_size=10**9, started=dt.datetime(
        2026, 3, 1, 23, 30, 5, tzinfo=dt.timezone.utc))
    try:
        files._open_next()
        assert files.path is not None and files.path.name.startswith(
            f"{warc.WARC_PREFIX}-20260302T063005-")
    finally:
        files.close()
    now = warc.WarcWriterFiles(tmp_path / "now", max_size=10**9)
    now.close()
    stamp = dt.datetime.strptime(now.stamp, "%Y%m%dT%H%M%S")
    wall = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).replace(tzinfo=None)
    assert abs((wall - stamp).total_seconds()) < 60


@pytest.mark.slow
def test_a_crawl_with_faults_reextracts_to_identical_records(tmp_path: Path) -> None:
    crawl = _crawl(tmp_path / "crawl", articles=200, seed=5, fault_rate=0.1, hang_seconds=2.0,
                   settings=("DOWNLOAD_TIMEOUT=1", "RETRY_TIMES=3"))
    statuses = {json.loads(line.split(" ", 2)[2])["status"]
                for line in (crawl["archive"] / "raw" / "index.cdxj").read_text().splitlines()}
    assert {"200", "301"} <= statuses and statuses & {"500", "503"}  # captured before retry
    done = _reextract_cli(crawl, tmp_path / "fresh")
    assert done.returncode == 0, done.stderr
    assert "http-5xx" in done.stderr and "http-3xx" in done.stderr
    assert _lines(tmp_path / "fresh") == _lines(crawl["archive"])
    assert _lines(tmp_path / "fresh", "rejects") == _lines(crawl["archive"], "rejects")


@pytest.mark.slow
def test_reextracting_a_crawl_gives_identical_records(crawled: dict[str, Any],
                                                      tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    done = _reextract_cli(crawled, fresh)
    assert done.returncode == 0, done.stderr
    original = _lines(crawled["archive"])
    assert len(original) > 100
    assert _lines(fresh) == original
    assert _lines(fresh, "rejects") == _lines(crawled["archive"], "rejects")
    assert f"articles {len(original)} new" in done.stderr and "damaged: none" in done.stderr


@pytest.mark.slow
def test_every_record_points_at_its_capture(crawled: dict[str, Any]) -> None:
    archive = crawled["archive"]
    for line in _lines(archive):
        record = json.loads(line)
        capture = record["capture"]
        assert capture["fetched_at"] == record["fetched_at"] and capture["status"] == 200
        with (archive / capture["warc_file"]).open("rb") as fh:
            fh.seek(capture["offset"])
            warc = next(iter(ArchiveIterator(fh)))
            assert warc.rec_headers.get_header("WARC-Record-ID") == f"<{capture['record_id']}>"
            ref = parse_article_url(warc.rec_headers.get_header("WARC-Target-URI"))
            assert ref is not None and ref.id == record["id"]


@pytest.mark.slow
def test_a_truncated_warc_is_read_up_to_the_damage(crawled: dict[str, Any], tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    records = [json.loads(line) for line in _lines(crawled["archive"])]
    captures = sorted(r["capture"]["offset"] + r["capture"]["length"] for r in records)
    cut_in = min((r["capture"] for r in records if r["capture"]["offset"] > captures[40]),
                 key=lambda c: c["offset"])
    cut = cut_in["offset"] + cut_in["length"] // 2  # the middle of an article's record
    damaged = tmp_path / "raw" / Path(cut_in["warc_file"]).name
    damaged.parent.mkdir()
    damaged.write_bytes((crawled["archive"] / cut_in["warc_file"]).read_bytes()[:cut])

    with caplog.at_level(logging.WARNING, logger="crawler.process.reextract"):
        summary = reextract([damaged], _settings(tmp_path / "fresh", crawled["site_url"]))
    assert [(d.path, d.offset, d.length) for d in summary.damaged] == [
        (damaged, cut_in["offset"], cut - cut_in["offset"])]  # from the cut record to the end
    assert any(str(damaged) in m and f"offset {cut_in['offset']}" in m for m in caplog.messages)
    assert f"damaged: 1 range(s), {cut - cut_in['offset']} bytes in 1 file(s)" in summary.line()
    assert summary.damage_lines() == [
        f"damaged: {damaged}: offset {cut_in['offset']}, {cut - cut_in['offset']} bytes skipped "
        f"(bytes {cut_in['offset']}-{cut - 1}): {summary.damaged[0].cause}"]
    whole = sorted(line for line in _lines(crawled["archive"])
                   if json.loads(line)["capture"]["offset"] < cut_in["offset"])
    assert len(whole) > 30 and _lines(tmp_path / "fresh") == whole


# --- WARCs written by others ----------------------------------------------------------------

def test_a_wget_warc_is_ingested(tmp_path: Path) -> None:
    warcs = [FIXTURES / "replica-wget-1.warc.gz", FIXTURES / "replica-wget-2.warc.gz"]
    summary = reextract(warcs, _settings(tmp_path, WGET_SITE))
    assert (summary.articles["new"], summary.articles["unchanged"]) == (4, 1)
    assert summary.revisits == 1 and summary.rejected == 0 and not summary.damaged
    assert summary.skipped == {"listing": 3, "not-article": 1}  # home, listing, 404 page; image
    records = {json.loads(line)["id"]: json.loads(line) for line in _lines(tmp_path)}
    assert sorted(records) == ["2136862", "2548246", "6a74315", "c466a55"]
    # The time of day comes from the captured listing, as in a crawl.
    assert records["2548246"]["listing_raw"] == "Cập nhật lúc: 15:59 |24/12/2021"
    assert records["2548246"]["published_at"] == "2021-12-24T15:59:00+07:00"
    assert all(r["capture"]["warc_file"].endswith("replica-wget-1.warc.gz")
               for r in records.values())


def test_a_revisit_is_its_original_at_the_revisit_time(tmp_path: Path) -> None:
    original = FIXTURES / "replica-wget-1.warc.gz"
    with original.open("rb") as fh:
        response = next(r for r in ArchiveIterator(fh) if r.rec_type == "response"
                        and "2548246" in r.rec_headers.get_header("WARC-Target-URI"))
        uri = response.rec_headers.get_header("WARC-Target-URI").strip("<>")
        date = response.rec_headers.get_header("WARC-Date")
        digest = response.rec_headers.get_header("WARC-Payload-Digest")
        http_headers = response.http_headers
    revisit_file = tmp_path / "revisit.warc.gz"
    with revisit_file.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        writer.write_record(writer.create_revisit_record(
            uri, digest, uri, date,
            http_headers=StatusAndHeaders("200 OK", http_headers.headers, protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": "2025-07-02T01:00:00Z"}))
    # The revisit is read first, so it makes the record; its original only resolves it.
    summary = reextract([revisit_file, original], _settings(tmp_path / "a", WGET_SITE))
    assert summary.revisits == 1
    record = next(json.loads(line) for line in _lines(tmp_path / "a") if "2548246" in line)
    assert record["fetched_at"] == "2025-07-02T08:00:00+07:00"
    assert record["capture"]["warc_file"].endswith("revisit.warc.gz")
    assert record["title"]


def test_a_revisit_without_its_original_is_skipped(tmp_path: Path) -> None:
    summary = reextract([FIXTURES / "replica-wget-2.warc.gz"], _settings(tmp_path, WGET_SITE))
    assert summary.skipped == {"revisit-unresolved": 1} and summary.extracted == 0


def test_captures_of_another_site_are_offsite(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        summary = reextract([FIXTURES / "replica-wget-1.warc.gz"],
                            _settings(tmp_path, "https://baonamdinh.vn"))
    assert summary.extracted == 0 and summary.skipped["offsite"] == 8
    assert any("SITE_URL" in m for m in caplog.messages)


# --- a killed writer ------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import io, os, sys
    from warcio.warcwriter import WARCWriter
    from crawler.store.warc import WarcWriterFiles
    files = WarcWriterFiles(sys.argv[1], max_size=10**12)
    writer = WARCWriter(None, gzip=True, warc_version="1.1")
    n = 0
    while True:
        body = os.urandom(200_000)
        record = writer.create_warc_record(f"http://127.0.0.1:1/p{n}/", "resource",
                                           payload=io.BytesIO(body), length=len(body))
        files.write_pair(record, None)
        n += 1
        if n == 20:
            print("ready", flush=True)
""")


def test_a_killed_writer_leaves_whole_records(tmp_path: Path) -> None:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.2)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    (path,) = (tmp_path / "raw").glob("*.warc.gz")
    # A kill can land inside the one write of a record (Linux stops a write to a file between
    # pages on SIGKILL), so the promise is: every record whole, but possibly the last one, and
    # a torn last one is reported as damage at its own offset, with nothing after it.
    records, end, damage = [], 0, None
    try:
        for record, offset, length, payload in iter_warc(path):
            assert offset == end
            records.append((record.rec_type, len(payload)))
            end = offset + length
    except DamagedWarc as exc:
        damage = exc
    assert records[0][0] == "warcinfo" and len(records) > 20
    assert all(size == 200_000 for _, size in records[1:])
    size = path.stat().st_size
    if damage is None:
        assert end == size
    else:
        assert damage.offset == end and 0 < size - end < 200_000 + 2_000, damage
    with path.open("rb") as fh:  # plain warcio reads the same whole records (and the torn one)
        assert sum(1 for _ in ArchiveIterator(fh)) >= len(records)


def test_iter_warc_reports_garbage(tmp_path: Path) -> None:
    path = tmp_path / "x.warc.gz"
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True, warc_version="1.1")
    writer.write_record(writer.create_warc_record("http://a/", "resource",
                                                  payload=io.BytesIO(b"abc"), length=3))
    good = buffer.getvalue()
    path.write_bytes(good + b"not a warc record at all\r\n\r\n" * 3)
    with pytest.raises(Exception) as info:
        list(iter_warc(path))
    assert getattr(info.value, "offset", None) == len(good)


def test_chunked_and_gzipped_bodies_are_decoded_as_a_crawl_decodes_them(tmp_path: Path) -> None:
    with (FIXTURES / "replica-wget-1.warc.gz").open("rb") as fh:
        response = next(r for r in ArchiveIterator(fh) if r.rec_type == "response"
                         and "c466a55" in r.rec_headers.get_header("WARC-Target-URI"))
        uri = response.rec_headers.get_header("WARC-Target-URI").strip("<>")
        date = response.rec_headers.get_header("WARC-Date")
        headers = [(k, v) for k, v in response.http_headers.headers
                   if k.lower() != "content-length"]
        body = response.content_stream().read()
    packed = gzip.compress(body)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                       for part in (packed[:500], packed[500:])) + b"0\r\n\r\n"
    path = tmp_path / "chunked.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        writer.write_record(writer.create_warc_record(
            uri, "response", payload=io.BytesIO(chunked), length=len(chunked),
            http_headers=StatusAndHeaders("200 OK", headers + [
                ("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")],
                protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": date}))
    plain = reextract([FIXTURES / "replica-wget-1.warc.gz"], _settings(tmp_path / "a", WGET_SITE))
    coded = reextract([path], _settings(tmp_path / "b", WGET_SITE))
    assert plain.articles["new"] == 4 and coded.articles["new"] == 1

    def content(archive: Path) -> dict[str, Any]:
        record = next(json.loads(line) for line in _lines(archive) if "c466a55" in line)
        # No listing in the chunked file: what a listing gives is left out of the comparison.
        return {k: v for k, v in record.items() if k not in ("capture", "listing_raw")}

    assert content(tmp_path / "b") == content(tmp_path / "a")


def test_the_benchmarks_extraction_alone_runs_on_a_crawls_warcs(crawled):
    # `make bench` times extraction + normalisation alone, then the pipelines that need the
    # archive (sections, the archive), on a crawl's WARCs: every article page is one record.
    from bench.extraction import rate_on_warcs

    result = rate_on_warcs(crawled["warcs"], site_url=crawled["site_url"])
    records = len(archive_lines(crawled["archive"]))
    assert result["pages"] >= result["articles"] == records > 0
    assert result["seconds"] > 0 and result["archive_seconds"] > 0
