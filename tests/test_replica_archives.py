"""The replica's sitemap and its web archives (tests/replica/archives.py), checked over real HTTP."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlencode

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.replica import Replica
from tests.replica.archives import ArchiveReplica
from tests.replica.captures import COMMONCRAWL, DEAD_FROM, TEMPLATE_2019_BEFORE, WAYBACK
from tests.replica.dataset import at_minute
from tests.test_replica import NOW, get

ARTICLES, SEED = 150, 4
UTC = timezone.utc


@pytest.fixture(scope="module")
def archives():
    with ArchiveReplica(ARTICLES, SEED, page_lines=10) as running:
        yield running


def cdx(archives: ArchiveReplica, **params: str | list[str]) -> tuple[int, list]:
    query = urlencode({"output": "json", **params}, doseq=True)
    status, _, body = get(f"{archives.settings()['WAYBACK_URL']}/cdx/search/cdx?{query}")
    return status, json.loads(body)


# --- the sitemap --------------------------------------------------------------------------------


def test_a_sitemap_only_when_asked_for():
    with Replica(articles=40, seed=2, now=NOW) as plain:
        assert b"Sitemap:" not in get(plain.url + "/robots.txt")[2]
        assert [get(plain.url + p)[0] for p in ("/sitemap.xml", "/rss", "/feed")] == [404] * 3
    with Replica(articles=40, seed=2, now=NOW, sitemap=True) as site:
        robots = get(site.url + "/robots.txt")[2].decode()
        assert f"Sitemap: {site.url}/sitemap.xml" in robots
        index = get(site.url + "/sitemap.xml")[2].decode()
        months = re.findall(r"<loc>[^<]*/sitemaps/(\d{4}-\d{2})\.xml</loc>", index)
        truth = site.truth()
        assert months == sorted({t["published_date"][:7] for t in truth})
        listed = []
        for month in months:
            status, _, body = get(f"{site.url}/sitemaps/{month}.xml")
            assert status == 200
            listed += re.findall(r"<loc>([^<]+)</loc>", body.decode())
        assert sorted(listed) == sorted(t["url"] for t in truth)
        rss = get(site.url + "/rss")[2].decode()
        assert rss.count("<item>") == 20 and "<pubDate>" in rss
        assert get(site.url + "/sitemaps/1999-01.xml")[0] == 404


def test_a_sitemaps_lastmod_moves_with_an_edit():
    with Replica(articles=200, seed=7, now=NOW, sitemap=True) as site:
        event = next(s for s in site.schedule() if s["edited_at"])
        edited = datetime.fromisoformat(event["edited_at"])
        month = event["published_at"][:7]

        def lastmod() -> str:
            body = get(f"{site.url}/sitemaps/{month}.xml")[2].decode()
            return re.search(rf"{event['id']}/</loc><lastmod>([^<]+)<", body)[1]

        site.set_now((edited - timedelta(minutes=1)).isoformat())
        assert lastmod() == event["published_at"]
        site.set_now((edited + timedelta(minutes=1)).isoformat())
        assert lastmod() == event["edited_at"]


def test_listings_that_show_only_recent_pages():
    with Replica(articles=300, seed=2, now=NOW, listing_pages=1) as site:
        status, _, body = get(site.url + "/channel/5083/")
        assert status == 200 and b'rel="next"' not in body
        assert get(site.url + "/channel/5083/?trang=2")[0] == 404


# --- what the archives hold ---------------------------------------------------------------------


def test_the_archives_hold_what_a_backfill_must_cope_with(archives):
    wayback = archives.snapshots(WAYBACK)
    kinds = Counter(s.kind for s in wayback)
    assert {"article", "duplicate", "redirect", "error", "parked", "page", "image",
            "robots"} <= set(kinds)
    assert {s.status for s in wayback} >= {200, 301, 404, 503}
    assert all(s.moment >= DEAD_FROM for s in wayback if s.kind == "parked")
    old_template = [s for s in wayback if s.kind == "article" and s.moment < TEMPLATE_2019_BEFORE
                    and b'<div id="content">' in s.body]
    assert old_template, "no capture in the 2019 markup"
    deleted = {m.id for m in archives.dataset.metas if m.deleted is not None}
    held = {t["id"] for t in archives.truth(WAYBACK)} | {t["id"] for t in archives.truth(COMMONCRAWL)}
    assert deleted & held, "the archives hold no article the site has since deleted"
    for snap in wayback:  # every article capture is from the article's life on the site
        meta = archives.dataset.by_id.get(snap.article or "")
        if meta is not None:
            assert meta.published <= snap.moment
            assert meta.deleted is None or snap.moment < at_minute(meta.deleted)


def test_the_archives_are_deterministic():
    one, two = ArchiveReplica(60, 9), ArchiveReplica(60, 9)
    for archive in (WAYBACK, COMMONCRAWL):
        assert [(s.url, s.timestamp, s.digest) for s in one.snapshots(archive)] == \
            [(s.url, s.timestamp, s.digest) for s in two.snapshots(archive)]
    assert one.holdings.files == two.holdings.files
    assert [s.timestamp for s in ArchiveReplica(60, 10).snapshots(WAYBACK)] != \
        [s.timestamp for s in one.snapshots(WAYBACK)]


def test_truth_is_the_newest_good_capture_as_of_its_day(archives):
    truth = archives.truth(WAYBACK)
    assert truth
    for record in truth:
        snaps = [s for s in archives.snapshots(WAYBACK) if s.article == record["id"]]
        assert record["captured_at"] in {s.timestamp for s in snaps}
        # Only a repeated answer (collapsed away by the index: the same content) may be newer.
        kept = next(s for s in snaps if s.timestamp == record["captured_at"])
        assert all(s.digest == kept.digest for s in snaps if s.timestamp > kept.timestamp
                   and s.status == 200 and s.article)
        meta = archives.dataset.by_id[record["id"]]
        captured = datetime.strptime(record["captured_at"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        assert record["edited"] == (meta.edited is not None and at_minute(meta.edited) <= captured)
        if record["date_line"][2] == ":" and record["cms"] == "old" and \
                "Cập nhật" not in record["date_line"]:
            assert record["published_at"] is None  # the page alone does not tell the time


# --- the Wayback Machine ------------------------------------------------------------------------


def test_cdx_prefix_query_with_filters(archives):
    status, rows = cdx(archives, url="baonamdinh.vn/", matchType="prefix",
                       filter=["statuscode:200", "mimetype:text/html"])
    assert status == 200 and rows[0] == ["urlkey", "timestamp", "original", "mimetype",
                                         "statuscode", "digest", "length"]
    assert rows[1:] and all(r[4] == "200" and r[3] == "text/html" for r in rows[1:])
    assert all(r[0].startswith("vn,baonamdinh)/") for r in rows[1:])
    hosts = {re.match(r"https?://([^/]+)/", r[2])[1] for r in rows[1:]}
    assert hosts == {"baonamdinh.vn", "www.baonamdinh.vn"}  # one key for both
    _, other = cdx(archives, url="baonamdinh.com.vn/*")
    assert all(r[0].startswith("vn,com,baonamdinh)/") for r in other[1:]) and other[1:]
    _, since = cdx(archives, url="baonamdinh.vn/", matchType="prefix", fl="timestamp",
                   **{"from": "2020"})
    assert since[1:] and all(r[0] >= "20200101000000" for r in since[1:])
    assert cdx(archives, url="nothing.example/", matchType="prefix")[1] == []


def test_collapse_by_digest_drops_repeated_answers(archives):
    _, everything = cdx(archives, url="baonamdinh.vn/", matchType="prefix", fl="urlkey,digest")
    _, collapsed = cdx(archives, url="baonamdinh.vn/", matchType="prefix", fl="urlkey,digest",
                       collapse="digest")
    pairs = [tuple(r) for r in everything[1:]]
    repeats = sum(1 for a, b in zip(pairs, pairs[1:], strict=False) if a == b)
    assert repeats > 0
    assert len(collapsed) == len(everything) - repeats
    _, by_url = cdx(archives, url="baonamdinh.vn/", matchType="prefix", collapse="urlkey",
                    fl="urlkey")
    keys = [r[0] for r in by_url[1:]]
    assert len(keys) == len(set(keys))


def test_resumption_keys_page_through_the_whole_answer(archives):
    query = {"url": "baonamdinh.vn/", "matchType": "prefix", "fl": "urlkey,timestamp,original"}
    _, whole = cdx(archives, **query)
    pages, key = [], None
    while True:
        extra = {"resumeKey": key} if key else {}
        status, rows = cdx(archives, limit="25", showResumeKey="true", **query, **extra)
        assert status == 200
        if len(rows) >= 2 and rows[-2] == []:
            key = rows[-1][0]
            pages.append(rows[1:-2])
        else:
            pages.append(rows[1:])
            break
    assert len(pages) > 2
    assert [r for page in pages for r in page] == whole[1:]


def test_replay_gives_the_capture_as_the_site_sent_it(archives):
    snap = next(s for s in archives.snapshots(WAYBACK) if s.kind == "article")
    base = archives.settings()["WAYBACK_URL"]
    status, headers, body = get(f"{base}/web/{snap.timestamp}id_/{snap.url}")
    assert (status, body) == (200, snap.body)
    assert headers["content-type"].startswith("text/html")
    nearby = str(int(snap.timestamp) - 1)
    status, headers, _ = get(f"{base}/web/{nearby}id_/{snap.url}")
    nearest = min((s for s in archives.snapshots(WAYBACK) if s.urlkey == snap.urlkey),
                  key=lambda s: abs(int(s.timestamp) - int(nearby)))
    assert status == 302 and headers["location"].endswith(f"/web/{nearest.timestamp}id_/{nearest.url}")
    redirect = next(s for s in archives.snapshots(WAYBACK) if s.kind == "redirect")
    status, headers, _ = get(f"{base}/web/{redirect.timestamp}id_/{redirect.url}")
    assert status == 301 and headers["location"].startswith("https://")
    assert get(f"{base}/web/2019id_/http://elsewhere.example/")[0] == 404


# --- Common Crawl -------------------------------------------------------------------------------


def index(archives: ArchiveReplica, crawl: str, **params: str) -> tuple[int, bytes]:
    query = urlencode({"url": "baonamdinh.vn/", "matchType": "prefix", "output": "json", **params})
    status, _, body = get(f"{archives.settings()['COMMONCRAWL_INDEX_URL']}/{crawl}-index?{query}")
    return status, body


def test_collinfo_lists_the_crawls_with_their_index(archives):
    status, _, body = get(archives.settings()["COMMONCRAWL_INDEX_URL"] + "/collinfo.json")
    crawls = json.loads(body)
    assert status == 200 and len(crawls) >= 10
    assert all({"id", "name", "cdx-api", "from", "to"} <= set(c) for c in crawls)
    assert crawls[0]["id"] > crawls[-1]["id"]  # newest first, as Common Crawl lists them


def test_index_pages_and_records_by_byte_range(archives):
    crawl = max(Counter(s.crawl for s in archives.snapshots(COMMONCRAWL) if s.crawl).items(),
                key=lambda kv: kv[1])[0]
    status, body = index(archives, crawl, showNumPages="true")
    pages = json.loads(body)["pages"]
    rows = []
    for page in range(pages):
        status, body = index(archives, crawl, page=str(page))
        assert status == 200
        rows += [json.loads(line) for line in body.decode().splitlines()]
    assert pages > 1 and len(rows) <= pages * archives.page_lines
    wanted = [s for s in archives.snapshots(COMMONCRAWL) if s.crawl == crawl
              and s.urlkey.startswith("vn,baonamdinh)/")]
    assert len(rows) == len(wanted)
    status, body = index(archives, crawl, filter="=status:200")
    assert all(json.loads(line)["status"] == "200" for line in body.decode().splitlines())
    row = next(r for r in rows if r["status"] == "200" and r["mime"] == "text/html")
    start, length = int(row["offset"]), int(row["length"])
    url = f"{archives.settings()['COMMONCRAWL_DATA_URL']}/{row['filename']}"
    status, headers, data = get_range(url, f"bytes={start}-{start + length - 1}")
    assert status == 206 and len(data) == length and data[:2] == b"\x1f\x8b"
    record = next(iter(ArchiveIterator(io.BytesIO(data))))
    assert record.rec_type == "response"
    assert record.rec_headers.get_header("WARC-Target-URI") == row["url"]
    assert record.http_headers.get_statuscode() == "200"
    assert get_range(url, "bytes=999999999-1000000000")[0] == 416
    assert index(archives, crawl, url="nothing.example/")[0] == 404


def get_range(url: str, byte_range: str) -> tuple[int, dict[str, str], bytes]:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request("GET", quote(parts.path), headers={"Range": byte_range})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_faults_are_429_with_retry_after_or_503():
    with ArchiveReplica(20, 1, fault_rate=1.0) as faulty:
        status, headers, _ = get(faulty.settings()["WAYBACK_URL"] + "/cdx/search/cdx?url=x")
        assert status in (429, 503)
        statuses = {get(faulty.settings()["COMMONCRAWL_INDEX_URL"] + f"/collinfo.json?n={i}")[0]
                    for i in range(12)}
        assert statuses == {429, 503}
        assert faulty.requests.statuses[200] == 0


def test_command_line_serves_until_stopped(tmp_path):
    import signal
    import subprocess
    import sys

    from tests.test_replica import ROOT

    proc = subprocess.Popen([sys.executable, "-m", "tests.replica.archives", "--port", "0",
                             "--articles", "30", "--truth", str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("archives: serving captures of 30 articles at http://127.0.0.1:")
        assert "-s WAYBACK_URL=http://127.0.0.1:" in line
        assert (tmp_path / "wayback.jsonl").stat().st_size > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
