"""The sources' pure functions: request URLs built, and archive answers, sitemaps and feeds read."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.http import HtmlResponse, Response
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.schema.validation import problems
from crawler.site.urls import parse_article_url
from crawler.sources import (
    Capture,
    CapturePicker,
    commoncrawl,
    fetched_at_of,
    origin_of,
    query_prefixes,
    sitemaps,
    timestamp_time,
    wayback,
)
from crawler.sources.pages import capture_of_answer, page_of

HOSTS = frozenset({"baonamdinh.vn", "baonamdinh.com.vn", "beta.baonamdinh.vn"})
OLD = "/channel/5083/201905/mot-bai-bao-2531234/"
NEW = "/van-hoa-nghe-thuat/202402/bai-moi-8fb6d67/"


def capture(ts: str, url: str = f"http://baonamdinh.vn{OLD}", source: str = "wayback") -> Capture:
    ref = parse_article_url(url)
    assert ref is not None
    return Capture(source=source, timestamp=ts, original_url=url, ref=ref)


# --- shared -------------------------------------------------------------------------------------

def test_one_prefix_per_bare_host_or_per_chosen_section():
    hosts = {"baonamdinh.vn", "www.baonamdinh.vn", "beta.baonamdinh.vn"}
    assert query_prefixes(hosts, None) == ["baonamdinh.vn/", "beta.baonamdinh.vn/"]
    assert query_prefixes({"baonamdinh.vn"}, frozenset({"5083", "van-hoa-nghe-thuat"})) == [
        "baonamdinh.vn/channel/5083/", "baonamdinh.vn/van-hoa-nghe-thuat/"]


def test_capture_time_is_the_fetch_time_in_vietnam():
    assert fetched_at_of(capture("20190514173000")) == "2019-05-15T00:30:00+07:00"
    assert timestamp_time("2019").isoformat() == "2019-01-01T07:00:00+07:00"
    with pytest.raises(ValueError):
        timestamp_time("2019-05-14")


def test_picker_keeps_the_newest_first_across_url_variants():
    picker = CapturePicker("newest", keep=2)
    assert picker.add(capture("20190601000000"))
    assert not picker.add(capture("20200101000000", f"https://www.baonamdinh.vn{OLD[:-1]}"))
    assert not picker.add(capture("20180101000000", f"http://baonamdinh.com.vn{OLD}index.htm"))
    assert not picker.add(capture("20190601000000"))  # the same capture twice
    ranked = picker.ranked("old:2531234")
    assert [c.timestamp for c in ranked] == ["20200101000000", "20190601000000"]
    oldest = CapturePicker("oldest", keep=3)
    for ts in ("20200101000000", "20180101000000", "20190601000000"):
        oldest.add(capture(ts))
    assert [c.timestamp for c in oldest.ranked("old:2531234")] == [
        "20180101000000", "20190601000000", "20200101000000"]
    with pytest.raises(ValueError):
        CapturePicker("best")


def test_a_page_under_several_articles_urls_is_no_article():
    picker = CapturePicker("newest", keep=3)
    other = f"http://baonamdinh.vn{NEW}"
    for ts, url, digest in [("20190601000000", f"http://baonamdinh.vn{OLD}", "GOOD"),
                            ("20251001000000", f"http://baonamdinh.vn{OLD}", "PARKED"),
                            ("20251002000000", other, "PARKED"),
                            ("20251003000000", other, "PARKED2")]:
        picker.add(dataclasses.replace(capture(ts, url), digest=digest))
    assert [c.digest for c in picker.ranked("old:2531234")] == ["GOOD"]
    assert [c.digest for c in picker.ranked("new:8fb6d67")] == ["PARKED2"]  # seen under one URL
    assert picker.skipped == 2 and picker.ids() == ["old:2531234", "new:8fb6d67"]


def test_origin_is_valid_in_a_record():
    record = {"id": "2531234", "url": f"https://baonamdinh.vn{OLD}", "title": "T", "body": "B",
              "authors": [], "images": [], "published_date": "2019-05-14", "published_at": None,
              "published_month": "2019-05",
              "published_precision": "day", "published_raw": "05:05, 14/05/2019",
              "fetched_at": "2019-05-15T00:30:00+07:00", "provenance": {},
              "schema_version": "1.3.0", "extractor_version": "1",
              "origin": origin_of(capture("20190514173000"), "https://web.archive.org/web/x")}
    assert problems(record) == []
    record["origin"] = dict(record["origin"], source="elsewhere")
    assert problems(record)


# --- Wayback --------------------------------------------------------------------------------------

def test_cdx_query_asks_for_200_html_captures_from_since_with_a_resume_key():
    url = wayback.cdx_url("https://web.archive.org/", "baonamdinh.vn/",
                          since=dt.date(2015, 3, 1), limit=500)
    parts = urlsplit(url)
    assert parts.netloc == "web.archive.org" and parts.path == "/cdx/search/cdx"
    query = parse_qs(parts.query)
    assert query["url"] == ["baonamdinh.vn/"] and query["matchType"] == ["prefix"]
    assert query["output"] == ["json"] and query["collapse"] == ["digest"]
    assert query["filter"] == ["statuscode:200", "mimetype:text/html"]
    assert query["from"] == ["20150301"] and "to" not in query
    assert query["limit"] == ["500"] and query["showResumeKey"] == ["true"]
    resumed = wayback.cdx_url("https://web.archive.org", "baonamdinh.vn/", since=None, limit=5,
                              resume_key="vn%2Cbaonamdinh%29%2F+20190101000000%21")
    assert resumed.endswith("&resumeKey=vn%2Cbaonamdinh%29%2F+20190101000000%21")
    with pytest.raises(ValueError):
        wayback.cdx_url("https://web.archive.org", "x/", since=None, limit=5, collapse="month")
    until = parse_qs(urlsplit(wayback.cdx_url("https://web.archive.org", "x/", since=None,
                                              limit=5, captured_until=dt.date(2025, 6, 30))).query)
    assert until["to"] == ["20250630"] and "from" not in until


CDX_ROWS = [
    list(wayback.CDX_FIELDS),
    ["vn,baonamdinh)/channel/5083/201905/mot-bai-bao-2531234", "20190514173000",
     f"http://baonamdinh.vn:80{OLD}", "text/html", "200", "AAAA", "9000"],
    ["vn,baonamdinh)/", "20190514173000", "http://baonamdinh.vn/", "text/html", "200", "B", "1"],
    ["vn,baonamdinh)/file/x.jpg", "20190514173000", "http://baonamdinh.vn/file/x.jpg",
     "image/jpeg", "200", "C", "1"],
    ["vn,baonamdinh)/van-hoa-nghe-thuat/202402/bai-moi-8fb6d67", "20240301000000",
     f"https://baonamdinh.vn{NEW}", "text/html", "301", "D", "1"],
]


def test_cdx_json_with_a_resume_key():
    page = wayback.parse_cdx_json(json.dumps(CDX_ROWS + [[], ["KEY%21"]]).encode())
    assert page.resume_key == "KEY%21" and len(page.rows) == 4
    captures, skipped = wayback.captures_of(page.rows, HOSTS)
    assert [(c.ref.id, c.timestamp) for c in captures] == [("2531234", "20190514173000")]
    assert skipped == {"not-article": 1, "not-html": 1, "not-200": 1}


@pytest.mark.parametrize("body", [b"", b"[]", b"  \n"])
def test_an_empty_cdx_answer_is_no_captures(body):
    page = wayback.parse_cdx_json(body)
    assert page.rows == [] and page.resume_key is None


@pytest.mark.parametrize("body", [b"<html>Service Unavailable</html>", b'{"error": 1}'])
def test_a_cdx_answer_that_is_not_rows_is_an_error(body):
    with pytest.raises(ValueError, match="CDX answer"):
        wayback.parse_cdx_json(body)


def test_replay_urls():
    c = capture("20190514173000")
    url = wayback.replay_url("https://web.archive.org", c)
    assert url == f"https://web.archive.org/web/20190514173000id_/http://baonamdinh.vn{OLD}"
    assert wayback.parse_replay_url(url) == ("20190514173000", f"http://baonamdinh.vn{OLD}")
    moved = f"https://web.archive.org/web/20190601000000id_/http:/baonamdinh.vn{OLD}"
    assert wayback.parse_replay_url(moved) == ("20190601000000", f"http://baonamdinh.vn{OLD}")
    assert wayback.parse_replay_url(f"https://baonamdinh.vn{OLD}") is None


# --- Common Crawl ---------------------------------------------------------------------------------

COLLINFO = [
    {"id": "CC-MAIN-2024-10", "name": "February/March 2024 Index",
     "cdx-api": "https://index.commoncrawl.org/CC-MAIN-2024-10-index",
     "from": "2024-02-20T21:10:55", "to": "2024-03-05T15:40:45"},
    {"id": "CC-MAIN-2015-14", "cdx-api": "/CC-MAIN-2015-14-index",
     "from": "2015-03-26T00:00:00", "to": "2015-04-02T00:00:00"},
    {"id": "CC-MAIN-2012", "cdx-api": "https://index.commoncrawl.org/CC-MAIN-2012-index"},
    {"name": "no id"},
]


def test_crawls_that_cover_the_range_oldest_first():
    crawls = commoncrawl.parse_collinfo(json.dumps(COLLINFO).encode(), "http://127.0.0.1:9/cc")
    assert [c.id for c in crawls] == ["CC-MAIN-2024-10", "CC-MAIN-2015-14", "CC-MAIN-2012"]
    assert crawls[1].cdx_api == "http://127.0.0.1:9/CC-MAIN-2015-14-index"
    everything = commoncrawl.choose_crawls(crawls, since=None)
    assert [c.id for c in everything] == ["CC-MAIN-2012", "CC-MAIN-2015-14", "CC-MAIN-2024-10"]
    since_2016 = commoncrawl.choose_crawls(crawls, since=dt.date(2016, 1, 1))
    assert [c.id for c in since_2016] == ["CC-MAIN-2012", "CC-MAIN-2024-10"]  # 2012: end unknown
    before_2020 = commoncrawl.choose_crawls(crawls, since=None,
                                            captured_until=dt.date(2019, 12, 31))
    assert [c.id for c in before_2020] == ["CC-MAIN-2012", "CC-MAIN-2015-14"]
    assert [c.id for c in commoncrawl.choose_crawls(crawls, since=None,
                                                     wanted=["CC-MAIN-2015-14"])] == [
        "CC-MAIN-2015-14"]
    with pytest.raises(ValueError, match="CC-MAIN-1999-01"):
        commoncrawl.choose_crawls(crawls, since=None, wanted=["CC-MAIN-1999-01"])
    with pytest.raises(ValueError):
        commoncrawl.parse_collinfo(b"<html>", "https://index.commoncrawl.org")


def test_index_queries_page_count_then_pages():
    crawl = commoncrawl.Crawl("CC-MAIN-2024-10", "https://index.commoncrawl.org/CC-MAIN-2024-10-index")
    first = parse_qs(urlsplit(commoncrawl.index_url(crawl, "baonamdinh.vn/", since=dt.date(2015, 1, 1),
                                                    num_pages=True)).query)
    assert first["showNumPages"] == ["true"] and first["output"] == ["json"]
    assert first["filter"] == ["=status:200", "mime:html"] and first["from"] == ["20150101"]
    page = parse_qs(urlsplit(commoncrawl.index_url(crawl, "baonamdinh.vn/", since=None,
                                                   page=3)).query)
    assert page["page"] == ["3"] and "showNumPages" not in page
    assert commoncrawl.parse_num_pages(b'{"pages": 4, "pageSize": 5, "blocks": 17}') == 4
    with pytest.raises(ValueError):
        commoncrawl.parse_num_pages(b"<html>")


def test_index_lines_become_captures():
    lines = [
        {"url": f"https://baonamdinh.vn{NEW}", "timestamp": "20240301000000", "status": "200",
         "mime": "text/html", "filename": "crawl-data/x.warc.gz", "offset": "100", "length": "50"},
        {"url": f"https://baonamdinh.vn{NEW}", "timestamp": "20240301000000", "status": "404",
         "mime": "text/html", "filename": "x", "offset": "1", "length": "1"},
        {"url": "https://baonamdinh.vn/robots.txt", "timestamp": "20240301000000", "status": "200",
         "mime": "text/plain", "filename": "x", "offset": "1", "length": "1"},
        {"url": f"https://baonamdinh.vn{OLD}", "timestamp": "20240301000000", "status": "200",
         "mime": "text/html", "filename": "../../etc/passwd", "offset": "1", "length": "1"},
    ]
    body = ("\n".join(json.dumps(x) for x in lines) + "\nnot json\n").encode()
    rows, bad = commoncrawl.parse_index_lines(body)
    assert bad == 1 and len(rows) == 4
    captures, skipped = commoncrawl.captures_of(rows, HOSTS)
    assert [(c.ref.id, c.offset, c.length) for c in captures] == [("8fb6d67", 100, 50)]
    assert skipped == {"not-200": 1, "not-html": 1, "bad-row": 1}
    assert commoncrawl.range_header(captures[0]) == "bytes=100-149"
    assert commoncrawl.record_url("https://data.commoncrawl.org/", captures[0]) == \
        "https://data.commoncrawl.org/crawl-data/x.warc.gz"


def warc_record(body: bytes, headers: list[tuple[str, str]], status: str = "200 OK") -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    record = writer.create_warc_record(
        f"https://baonamdinh.vn{NEW}", "response", payload=io.BytesIO(body), length=len(body),
        http_headers=StatusAndHeaders(status, headers, protocol="HTTP/1.1"),
        warc_headers_dict={"WARC-Date": "2024-03-01T00:00:00Z"})
    writer.write_record(record)
    return out.getvalue()


def test_a_warc_record_gives_the_page_as_received():
    html = "<html><body><p>Tiếng Việt</p></body></html>".encode()
    got = commoncrawl.read_record(warc_record(html, [("Content-Type", "text/html; charset=utf-8"),
                                                     ("X-Crawler-Content-Encoding", "gzip")]))
    assert (got.status, got.body, got.timestamp) == (200, html, "20240301000000")
    assert got.url == f"https://baonamdinh.vn{NEW}"
    zipped = commoncrawl.read_record(warc_record(gzip.compress(html), [
        ("Content-Type", "text/html"), ("Content-Encoding", "gzip")]))
    assert zipped.body == html
    assert not any(k.lower() == "content-encoding" for k, _ in zipped.headers)
    chunked = commoncrawl.read_record(warc_record(b"5\r\nhello\r\n0\r\n\r\n", [
        ("Transfer-Encoding", "chunked")]))
    assert chunked.body == b"hello"


@pytest.mark.parametrize("data", [b"", b"garbage that is no warc", gzip.compress(b"nor this", mtime=0)])
def test_bytes_that_are_no_warc_record_are_an_error(data):
    with pytest.raises(ValueError):
        commoncrawl.read_record(data)


# --- sitemaps and feeds ---------------------------------------------------------------------------

def test_sitemaps_named_in_robots_txt():
    robots = "User-agent: *\nDisallow: /search/\nSitemap: /sitemap.xml\nsitemap:https://x.vn/s.xml\n"
    assert sitemaps.sitemaps_from_robots(robots, "https://baonamdinh.vn/") == [
        "https://baonamdinh.vn/sitemap.xml", "https://x.vn/s.xml"]
    assert sitemaps.sitemaps_from_robots("User-agent: *\nCrawl-delay: 1\n", "https://b.vn/") == []


INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://baonamdinh.vn/sitemaps/2019-05.xml</loc><lastmod>2019-05-31</lastmod></sitemap>
  <sitemap><loc>/sitemaps/2024-02.xml.gz</loc><lastmod>2024-03-01T08:00:00+07:00</lastmod></sitemap>
  <sitemap><loc>https://elsewhere.example/s.xml</loc></sitemap>
</sitemapindex>"""

URLSET = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://baonamdinh.vn{OLD}</loc><lastmod>2019-05-14T17:30:00+07:00</lastmod></url>
  <url><loc>https://baonamdinh.vn{NEW}</loc>
       <news:news><news:publication_date>2024-02-06T14:16:00+07:00</news:publication_date></news:news></url>
  <url><loc>https://baonamdinh.vn/channel/5083/</loc></url>
</urlset>""".encode()


def test_a_sitemap_index_lists_sitemaps_on_the_site_with_lastmod():
    page = sitemaps.parse_sitemap(INDEX, "https://baonamdinh.vn/sitemap.xml", HOSTS)
    assert page is not None and page.kind == "sitemapindex"
    assert [(u, m.isoformat()) for u, m in page.children] == [
        ("https://baonamdinh.vn/sitemaps/2019-05.xml", "2019-05-31T00:00:00+07:00"),
        ("https://baonamdinh.vn/sitemaps/2024-02.xml.gz", "2024-03-01T08:00:00+07:00")]
    assert page.skipped == {"offsite": 1}


@pytest.mark.parametrize("zipped", [False, True])
def test_a_sitemap_lists_articles_with_lastmod_and_publication_date(zipped):
    body = gzip.compress(URLSET) if zipped else URLSET
    page = sitemaps.parse_sitemap(body, "https://baonamdinh.vn/s.xml", HOSTS)
    assert page is not None and page.kind == "urlset"
    assert [(e.ref.id, e.lastmod and e.lastmod.isoformat(), e.published) for e in page.entries] == [
        ("2531234", "2019-05-14T17:30:00+07:00", None),
        ("8fb6d67", None, dt.date(2024, 2, 6))]
    assert page.skipped == {"not-article": 1}


def test_rss_and_atom_feeds():
    rss = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>BND</title>
      <item><title>A</title><link>https://baonamdinh.vn{NEW}</link>
            <pubDate>Tue, 06 Feb 2024 14:16:00 +0700</pubDate></item>
      <item><title>B</title><link>https://facebook.com/x</link></item></channel></rss>""".encode()
    page = sitemaps.parse_sitemap(rss, "https://baonamdinh.vn/rss", HOSTS)
    assert page is not None and page.kind == "rss"
    assert [(e.ref.id, e.published, e.lastmod) for e in page.entries] == [
        ("8fb6d67", dt.date(2024, 2, 6), None)]
    atom = f"""<feed xmlns="http://www.w3.org/2005/Atom"><entry>
      <link rel="alternate" href="https://baonamdinh.vn{OLD}"/>
      <published>2019-05-14T17:30:00+07:00</published><updated>2019-05-20T08:00:00+07:00</updated>
      </entry></feed>""".encode()
    page = sitemaps.parse_sitemap(atom, "https://baonamdinh.vn/feed", HOSTS)
    assert page is not None and page.kind == "atom"
    entry = page.entries[0]
    assert (entry.ref.id, entry.published, entry.lastmod.day) == ("2531234", dt.date(2019, 5, 14), 20)


@pytest.mark.parametrize("body", [
    b"<!DOCTYPE html><html><body><h1>Kh\xc3\xb4ng t\xc3\xacm th\xe1\xba\xa5y trang</h1></body></html>",
    b"", b"User-agent: *", b"<?xml version='1.0'?><note>x</note>", gzip.compress(b"<html></html>", mtime=0),
    b"<!DOCTYPE foo [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]><urlset><url><loc>&xxe;</loc></url></urlset>",
])
def test_what_is_not_a_sitemap_or_feed_is_none_or_empty(body):
    page = sitemaps.parse_sitemap(body, "https://baonamdinh.vn/sitemap.xml", HOSTS)
    assert page is None or page.entries == []


@pytest.mark.parametrize(("text", "want"), [
    ("2024-02-06", "2024-02-06T00:00:00+07:00"),
    ("2024-02", "2024-02-01T00:00:00+07:00"),
    ("2024-02-06T07:16:00Z", "2024-02-06T07:16:00+00:00"),
    ("2024-02-06T14:16:00+07:00", "2024-02-06T14:16:00+07:00"),
    ("yesterday", None), ("", None), (None, None),
])
def test_lastmod(text, want):
    got = sitemaps.parse_lastmod(text)
    assert (got.isoformat() if got else None) == want


# --- an archive's answer to the page ------------------------------------------------------------

def cc_capture(data: bytes, url: str = f"https://baonamdinh.vn{NEW}") -> Capture:
    return dataclasses.replace(capture("20240301000000", url, source="commoncrawl"),
                               filename="crawl-data/x.warc.gz", offset=100, length=len(data))


def test_a_common_crawl_answer_becomes_the_page_at_its_original_url():
    html = "<html><body><p>Tiếng Việt</p></body></html>".encode()
    data = warc_record(html, [("Content-Type", "text/html; charset=utf-8")])
    answer = Response("https://data.commoncrawl.org/crawl-data/x.warc.gz", status=206, body=data,
                      headers={"Content-Range": f"bytes 100-{99 + len(data)}/9999"})
    page, _, trouble = page_of(answer, cc_capture(data))
    assert trouble == "" and isinstance(page, HtmlResponse)
    assert (page.url, page.status, page.text) == (f"https://baonamdinh.vn{NEW}", 200,
                                                  "<html><body><p>Tiếng Việt</p></body></html>")
    found = capture_of_answer(answer, HOSTS, wayback_url="https://web.archive.org",
                              data_url="https://data.commoncrawl.org")
    assert (found.ref.id, found.offset, found.length, found.timestamp, found.filename) == (
        "8fb6d67", 100, len(data), "20240301000000", "crawl-data/x.warc.gz")


@pytest.mark.parametrize(("status", "extra", "url", "why"), [
    (206, b"", f"https://baonamdinh.vn{OLD}", "is of https://baonamdinh.vn/van-hoa"),
    (200, b"the rest of the file", f"https://baonamdinh.vn{NEW}", "without the byte range"),
    (503, b"", f"https://baonamdinh.vn{NEW}", "HTTP 503"),
])
def test_a_common_crawl_answer_that_is_not_the_capture_asked_for(status, extra, url, why):
    data = warc_record(b"<html></html>", [("Content-Type", "text/html")])
    answer = Response("https://data.commoncrawl.org/crawl-data/x.warc.gz", status=status,
                      body=data + extra)
    page, _, trouble = page_of(answer, cc_capture(data, url))
    assert page is None and why in trouble


def test_a_wayback_answer_is_the_page_and_a_redirect_names_the_capture_it_gave():
    asked = capture("20190514173000")
    answer = HtmlResponse(f"https://web.archive.org/web/20190601000000id_/http://baonamdinh.vn{OLD}",
                          body=b"<html></html>", encoding="utf-8")
    page, got, trouble = page_of(answer, asked)
    assert trouble == "" and page.url == f"http://baonamdinh.vn{OLD}"
    assert got.timestamp == "20190601000000"
    found = capture_of_answer(answer, HOSTS, wayback_url="https://web.archive.org",
                              data_url="https://data.commoncrawl.org")
    assert (found.source, found.timestamp, found.ref.id) == ("wayback", "20190601000000", "2531234")
    other = HtmlResponse("https://web.archive.org/web/2019id_/https://example.com/", body=b"")
    assert capture_of_answer(other, HOSTS, wayback_url="https://web.archive.org",
                             data_url="https://data.commoncrawl.org") is None
