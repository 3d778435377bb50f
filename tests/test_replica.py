"""Tests of the local replica of baonamdinh.vn (tests/replica): a real HTTP server on loopback."""

from __future__ import annotations

import html
import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.replica import Replica
from tests.replica.dataset import CATEGORIES, CHANNELS

ROOT = Path(__file__).resolve().parent.parent
NOW = "2025-06-30T23:59:00+07:00"
ARTICLE_ID = re.compile(r"-(\d{5,9}|[0-9a-f]{7})(?:/|/index\.htm)?$", re.IGNORECASE)
ITEM = re.compile(r'<li class="item[^"]*">(.*?)</li>', re.DOTALL)
ITEM_TIME = re.compile(r"Cập nhật lúc: (\d\d):(\d\d) \|(\d\d)/(\d\d)/(\d{4})")
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
BUGGY = re.compile(r"^(\d\d):(\d\d), (\d\d)/(\d\d)/(\d{4})$")


def get(url: str, *, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` on loopback without following redirects; return status, headers, body."""
    parts = urlsplit(url)
    assert parts.hostname in ("127.0.0.1", "localhost"), url
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def page_text(body: bytes) -> str:
    """Return a page's markup as NFC text with entities resolved."""
    return html.unescape(unicodedata.normalize("NFC", body.decode("utf-8")))


def content_of(body: bytes) -> str:
    """Return the article body block (paragraphs, photos, byline) of an article page."""
    match = re.search(
        r'(?:class="(?:detail-content|article-content)"|id="content")>(.*?)</div>', body.decode(),
        re.S,
    )
    assert match, "no article body block"
    return match[1]


def listing_items(site: Replica, path: str, max_pages: int) -> list[tuple[str, datetime]]:
    """Follow a listing's rel=next links from ``path``; return (article id, item time) in order."""
    url, items = site.url + path, []
    for _ in range(max_pages):
        status, _, body = get(url)
        assert status == 200, url
        text = body.decode()
        for item in ITEM.findall(text):
            href = re.search(r'href="([^"]+)"', item)[1]
            hh, mm, dd, mo, yyyy = map(int, ITEM_TIME.search(item).groups())
            items.append(
                (ARTICLE_ID.search(html.unescape(href))[1], datetime(yyyy, mo, dd, hh, mm))
            )
        nxt = NEXT.search(text)
        if not nxt:
            return items
        url = urljoin(url, html.unescape(nxt[1]))
    raise AssertionError(f"{path}: more than {max_pages} pages")


def section_listing(section: str) -> str:
    return f"/channel/{section}/" if section in CHANNELS else f"/{section}/"


def naive(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=None)


@pytest.fixture(scope="module")
def site():
    with Replica(articles=300, seed=11, now=NOW) as running:
        yield running


@pytest.fixture(scope="module")
def truth(site):
    return site.truth()


# --- determinism --------------------------------------------------------------------------------


def test_same_seed_serves_identical_bytes_and_another_seed_differs():
    with Replica(articles=250, seed=3, now=NOW) as first:
        port = first.port
        paths = ["/", "/channel/5083/", "/chinh-tri/?trang=1", "/robots.txt"]
        paths += [urlsplit(r["url"]).path for r in first.truth()[::25]]
        paths += [urlsplit(r["images"][0]).path for r in first.truth() if r["images"]][:3]
        before = [get(first.url + p)[2] for p in paths]
        truth_before = first.truth()
    with Replica(articles=250, seed=3, now=NOW, port=port) as second:
        assert [get(second.url + p)[2] for p in paths] == before
        assert second.truth() == truth_before
    with Replica(articles=250, seed=4, now=NOW) as other:
        assert get(other.url + "/")[2] != before[0]


# --- URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cms", ["old", "new"])
def test_url_variants_serve_the_same_page(site, truth, cms):
    record = next(r for r in truth if r["cms"] == cms)
    canonical = record["url"]
    path = urlsplit(canonical).path
    slug_start = path.rindex("/", 0, len(path) - 1) + 1
    shouting = path[:slug_start] + path[slug_start:-9].upper() + path[-9:]
    variants = [
        canonical,
        canonical[:-1],
        canonical + "index.htm",
        site.url + shouting,
        site.alias_url + path,
        site.url + path[:slug_start] + "any-other-slug-" + record["id"] + "/",
    ]
    status, _, expected = get(canonical)
    assert status == 200
    for url in variants:
        status, _, body = get(url)
        assert (status, body) == (200, expected), url


def test_wrong_month_or_section_is_404(site, truth):
    old = next(r for r in truth if r["cms"] == "old")
    path = urlsplit(old["url"]).path
    _, _, section, month, rest = path.split("/", 4)
    other_channel = next(c for c in CHANNELS if c != section)
    wrong_month = f"{int(month) - 1 if month[-2:] != '01' else int(month) + 1}"
    assert get(f"{site.url}/channel/{other_channel}/{month}/{rest}")[0] == 404
    assert get(f"{site.url}/channel/{section}/{wrong_month}/{rest}")[0] == 404
    assert get(f"{site.url}/no/such/page")[0] == 404
    assert get(f"{site.url}/channel/5083/?trang=999")[0] == 404


def test_robots_and_images(site, truth):
    status, headers, body = get(site.url + "/robots.txt")
    assert status == 200 and b"Crawl-delay: 1\n" in body and b"Disallow: /search/" in body
    image = next(r["images"][0] for r in truth if r["images"])
    status, headers, body = get(image)
    assert status == 200 and headers["content-type"] == "image/jpeg"
    assert body[:2] == b"\xff\xd8" and body[-2:] == b"\xff\xd9"


# --- listings -----------------------------------------------------------------------------------


def test_home_links_every_listing_and_the_newest_articles(site, truth):
    status, _, body = get(site.url + "/")
    text = body.decode()
    assert status == 200
    for section in (*CHANNELS, *CATEGORIES):
        assert f'href="{section_listing(section)}"' in text
    linked = [
        ARTICLE_ID.search(html.unescape(h))[1]
        for h in re.findall(r'<h3 class="title"><a href="([^"]+)"', text)
    ]
    newest = [r["id"] for r in sorted(truth, key=lambda r: r["published_at"], reverse=True)[:20]]
    assert linked == newest


def test_listings_are_newest_first_paginated_and_cover_every_article(site, truth):
    by_id = {r["id"]: r for r in truth}
    seen: list[str] = []
    for section in (*CHANNELS, *CATEGORIES):
        items = listing_items(site, section_listing(section), max_pages=len(truth) // 20 + 2)
        times = [when for _, when in items]
        assert times == sorted(times, reverse=True), section
        for article_id, when in items:
            assert by_id[article_id]["section"] == section
            assert when == naive(by_id[article_id]["published_at"])
        seen += [article_id for article_id, _ in items]
    assert sorted(seen) == sorted(by_id)
    status, _, first = get(site.url + "/channel/5083/")
    assert '<div class="paging">' in first.decode() and 'rel="next"' in first.decode()


def test_listing_links_mix_url_variants(site):
    hrefs = []
    for section in CHANNELS:
        hrefs += re.findall(
            r'<h3 class="title"><a href="([^"]+)"',
            get(site.url + f"/channel/{section}/")[2].decode(),
        )
    assert any(h.startswith(site.alias_url) for h in hrefs)
    assert any(h.endswith("/index.htm") for h in hrefs)
    assert any(not h.endswith("/") and not h.endswith(".htm") for h in hrefs)
    assert all(get(urljoin(site.url + "/", html.unescape(h)))[0] == 200 for h in hrefs[:40])


# --- article pages against the truth -------------------------------------------------------------


def test_date_lines_follow_the_template_of_each_generation(site, truth):
    forms = set()
    for record in truth:
        body = get(record["url"])[2].decode()
        line = unicodedata.normalize(
            "NFC", re.search(r'(?:<span class="(?:date|article-time)">|<div class="date"><span>)'
                             r'([^<]+)</span>', body)[1]
        )
        assert line == record["date_line"]
        published = naive(record["published_at"])
        buggy = BUGGY.match(line)
        if record["cms"] == "new":
            forms.add("new")
            assert line == published.strftime("%H:%M, %d/%m/%Y")
            assert not (published.hour <= 12 and published.minute == published.month)
            assert f'content="{record["published_at"]}"' in body
            assert record["page_published_at"] == record["published_at"]
        elif buggy:
            forms.add("buggy")
            hh, mm, dd, mo, yyyy = map(int, buggy.groups())
            assert (yyyy, mo, dd) == (published.year, published.month, published.day)
            assert mm == published.month and hh == (published.hour % 12 or 12)
            assert record["page_published_at"] is None
        else:
            forms.add("older")
            assert line.startswith("Cập nhật lúc") and published.year < 2016
            assert published.strftime("%H:%M, ") in line and line.endswith("(GMT+7)")
            assert record["page_published_at"] == record["published_at"]
    assert forms == {"new", "buggy", "older"}


def test_article_pages_hold_the_truth_text(site, truth):
    for record in truth:
        body = get(record["url"])[2]
        text = page_text(body)
        assert record["title"] in text and record["lead"] in text
        paragraphs = record["body"].split("\n\n")
        assert paragraphs[0] == record["lead"] and "./." not in record["body"]
        for paragraph in paragraphs[1:-1]:
            assert f"<p>{paragraph}</p>" in text
        assert f"<p>{paragraphs[-1]}/.</p>" in text  # "...năm 2021./.": the truth keeps the "."
        for caption in record["captions"]:
            assert caption in text
        assert (record["byline"] or record["authors"][0]) in text
        if record["source"]:
            assert record["authors"] == [] and record["byline"] == "Theo TTXVN"
        assert record["body"] == unicodedata.normalize("NFC", record["body"])


def test_the_2019_markup_serves_part_of_the_old_cms_years(site, truth):
    templates = {r["template"] for r in truth}
    assert templates == {"old-cms", "docbao-2019", "new-cms"}
    for record in truth:
        year = int(record["published_date"][:4])
        if record["template"] == "docbao-2019":
            assert record["cms"] == "old" and 2017 <= year <= 2019 and record["kicker"] is None
        elif record["cms"] == "old" and 2017 <= year <= 2019:
            assert record["byline"] is None  # only leader articles keep the other template
    record = next(r for r in truth if r["template"] == "docbao-2019")
    page = page_text(get(record["url"])[2])
    content = re.search(r'<div id="content">\n<p>(.*?)</p>', page)
    assert content and content[1] == record["lead"]  # the sapo is #content's first <p>
    assert '<table class="image center"><tbody><tr><td><img' in page or "<table" not in page
    assert "</td></tr><tr><td><em>" in page or "<table" not in page
    assert "og:title" not in page and "application/ld+json" not in page
    assert "/common/v1/image/logo-namdinh.png" in page


def test_old_and_new_markup_differ(site, truth):
    old = get(next(r for r in truth if r["cms"] == "old")["url"])[2].decode()
    new = get(next(r for r in truth if r["cms"] == "new")["url"])[2].decode()
    assert 'id="title"' in old and "application/ld+json" not in old and "[links()]" in old
    assert '<div class="footer">' in old and "<p>BÁO NAM ĐỊNH ĐIỆN TỬ</p>" in old
    assert '"@type": "NewsArticle"' in new and 'id="content_detail"' in new
    assert "Thông tin bạn đọc" in new and '<footer class="site-footer">' in new


def test_some_pages_are_decomposed_unicode(site, truth):
    decomposed = [r for r in truth if r["nfd"]]
    assert decomposed
    for record in decomposed:
        raw = get(record["url"])[2].decode()
        assert raw == unicodedata.normalize("NFD", raw) != unicodedata.normalize("NFC", raw)


def test_truth_covers_the_byline_forms(truth):
    bylines = [r["byline"] or "" for r in truth]
    assert any(b.startswith("Bài và ảnh: ") for b in bylines)
    assert any(b == "Theo TTXVN" for b in bylines)
    assert any(" - " in b for b in bylines)
    assert any(r["byline"] is None and len(r["authors"]) == 1 for r in truth)  # leader, name on top


# --- the clock ----------------------------------------------------------------------------------


def test_future_article_appears_when_the_clock_reaches_it():
    with Replica(articles=300, seed=5, now="2025-06-20T23:00:00+07:00") as site:
        future = next(e for e in site.schedule() if e["published_at"] > "2025-06-21")
        listing = section_listing(future["section"])
        assert get(future["url"])[0] == 404
        assert future["id"] not in get(site.url + listing)[2].decode()
        assert future["id"] not in {r["id"] for r in site.truth()}
        site.set_now(future["published_at"])
        assert get(future["url"])[0] == 200
        assert listing_items(site, listing, 1)[0][0] == future["id"]
        assert future["id"] in {r["id"] for r in site.truth()}


def test_edited_article_changes_at_edited_at():
    with Replica(articles=300, seed=5, now=NOW) as site:
        event = next(e for e in site.schedule() if e["edited_at"])
        edited_at = datetime.fromisoformat(event["edited_at"])
        site.set_now(edited_at - timedelta(minutes=1))
        before = get(event["url"])[2]
        record = next(r for r in site.truth() if r["id"] == event["id"])
        assert record["edited"] is False
        site.set_now(edited_at)
        after = get(event["url"])[2]
        changed = next(r for r in site.truth() if r["id"] == event["id"])
        assert content_of(before) != content_of(after)
        assert changed["title"] == record["title"] and changed["body"] != record["body"]
        assert changed["edited"] is True and changed["version_date"] == edited_at.date().isoformat()


def test_deleted_article_becomes_404_and_leaves_the_listing():
    with Replica(articles=300, seed=5, now=NOW) as site:
        event = next(e for e in site.schedule() if e["deleted_at"])
        deleted_at = datetime.fromisoformat(event["deleted_at"])
        listing = section_listing(event["section"])
        site.set_now(deleted_at - timedelta(minutes=1))
        assert get(event["url"])[0] == 200
        assert event["id"] in [i for i, _ in listing_items(site, listing, 30)]
        site.set_now(deleted_at)
        assert get(event["url"])[0] == 404
        assert event["id"] not in [i for i, _ in listing_items(site, listing, 30)]
        assert event["id"] not in {r["id"] for r in site.truth()}


def test_masthead_shows_the_editor_at_fetch_time():
    with Replica(articles=100, seed=2, now="2025-04-14T12:00:00+07:00") as site:
        url = site.truth()[0]["url"]
        assert "Tổng biên tập: Phạm Văn Trường" in get(url)[2].decode()
        site.set_now("2025-04-15T08:00:00+07:00")
        assert "Tổng biên tập: Hoàng Thị Hoài Phương" in get(url)[2].decode()


def test_now_without_offset_is_refused():
    with pytest.raises(ValueError, match="offset"):
        Replica(articles=10, now="2025-06-20T23:00:00")


# --- faults -------------------------------------------------------------------------------------


def outcome(url: str) -> tuple[str, dict[str, str]]:
    """Fetch ``url`` once; return ok, 404, 500, 503, redirect, truncated, drop or timeout."""
    try:
        status, headers, body = get(url)
    except http.client.IncompleteRead:
        return "drop", {}
    except http.client.RemoteDisconnected:
        return "timeout", {}
    if status == 200:
        ok = (
            body.rstrip().endswith(b"</html>")
            or headers["content-type"] != "text/html; charset=utf-8"
        )
        return ("ok" if ok else "truncated"), headers
    return {301: "redirect"}.get(status, str(status)), headers


def test_every_fault_kind_appears_at_full_rate():
    with Replica(articles=120, seed=8, now=NOW, fault_rate=1.0, hang_seconds=0.1) as site:
        seen: dict[str, dict[str, str]] = {}
        for record in site.truth()[:60]:
            kind, headers = outcome(record["url"])
            seen.setdefault(kind, headers)
            if kind == "redirect":
                path = urlsplit(record["url"]).path
                assert headers["location"] == f"{site.alias_url}{path}"
        assert set(seen) == {"500", "503", "timeout", "drop", "truncated", "redirect"}
        assert seen["503"]["retry-after"] == "1"
        assert all(outcome(site.url + "/robots.txt")[0] == "ok" for _ in range(10))
        assert all(outcome(site.url + "/nothing-here")[0] == "404" for _ in range(10))
        assert sum(site.requests.faults().values()) == 60


def test_retried_requests_succeed_at_a_moderate_rate():
    with Replica(articles=120, seed=8, now=NOW, fault_rate=0.3, hang_seconds=0.1) as site:
        faults = 0
        for record in site.truth()[:30]:
            for _ in range(15):
                kind, _ = outcome(record["url"])
                if kind == "ok":
                    break
                faults += 1
            else:
                raise AssertionError(f"{record['url']} never succeeded")
        assert faults > 0


def test_faults_are_decided_by_seed_path_and_attempt():
    def plan(seed: int) -> list[str | None]:
        replica = Replica(articles=50, seed=seed, fault_rate=0.5)
        try:
            page = replica.site.respond("/")
            return [replica.site.fault_for(p, page) for p in ("/", "/a", "/", "/b", "/") * 6]
        finally:
            replica.close()

    assert plan(1) == plan(1) != plan(2)


def test_request_counter_counts_each_kind():
    with Replica(articles=60, seed=9, now=NOW) as site:
        record = site.truth()[0]
        for url in (
            site.url + "/",
            site.url + "/robots.txt",
            site.url + "/channel/5083/",
            record["url"],
            site.url + "/x",
        ):
            get(url)
        assert site.requests.snapshot() == {
            "total": 5, "article": 1, "listing": 1, "home": 1, "robots": 1, "image": 0,
            "sitemap": 0, "other": 1,
        }  # fmt: skip
        assert site.requests["article"] == 1 and site.requests.by_status()[404] == 1


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_cli_writes_the_truth_serves_and_stops_cleanly(tmp_path, signum):
    truth_file = tmp_path / "truth.jsonl"
    now = "2025-06-25T12:00:00+07:00"
    command = [sys.executable, "-m", "tests.replica", "--port", "0", "--articles", "150",
               "--seed", "21", "--now", now, "--truth", str(truth_file)]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    killer = threading.Timer(30, proc.kill)
    killer.start()
    try:
        line = proc.stdout.readline()
        match = re.fullmatch(
            r"replica: serving 150 articles at (http://127\.0\.0\.1:(\d+))/\n", line
        )
        assert match, line
        base, port = match[1], int(match[2])
        assert get(base + "/")[0] == 200
        records = [json.loads(x) for x in truth_file.read_text(encoding="utf-8").splitlines()]
        assert all(r["published_at"] <= now for r in records)
        assert get(records[-1]["url"])[0] == 200
        proc.send_signal(signum)
        assert proc.wait(timeout=10) == 0
    finally:
        killer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        proc.stdout.close()
    assert "\\u" not in truth_file.read_text(encoding="utf-8")  # Vietnamese written as is
    with Replica(articles=150, seed=21, now=now, port=port) as same:
        assert same.truth() == records
