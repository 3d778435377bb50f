"""The catalogue of bad input (docs/operating.md, "Bad input"): each case ends in a reject, a record or a log.

Pure cases run a response through item_from_response and every pipeline (archive off). Crawl
cases run the real spider, twice, against tests/badsite.py on loopback: the first run meets every
case; the second, with the passing faults healed and the listing linking only the good pages,
must fetch exactly the retryable rejects again and archive the pages that now succeed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Response, TextResponse

from crawler.extract.response import item_from_response
from crawler.items import ArticleItem, RejectItem
from crawler.process.processing import ItemProcessor, project_settings
from crawler.run.outcome import ExitStatus
from crawler.site.urls import parse_article_url
from crawler.store.archive import Archive, iter_records
from tests.badsite import (
    BY_SLUG,
    CASES,
    ENCODED_TITLE,
    HOSTILE_LINKS,
    BadSite,
    article_html,
    to_cp1258,
)

ROOT = Path(__file__).resolve().parent.parent
URL = "https://baonamdinh.vn/channel/5083/202201/bai-viet-2548123/"
FETCHED_AT = "2022-01-15T09:30:00+07:00"
UTF8 = {"Content-Type": "text/html; charset=utf-8"}


def run(body: bytes, *, headers: dict[str, str] | None = None, status: int = 200,
        url: str = URL, cls: type[Response] = HtmlResponse) -> ArticleItem | RejectItem:
    """Return what a response becomes after item_from_response and every pipeline."""
    response = cls(url=url, body=body, status=status, headers=UTF8 if headers is None else headers)
    item = item_from_response(response, fetched_at=FETCHED_AT)
    with ItemProcessor(project_settings({"ARCHIVE_ENABLED": False})) as processor:
        result, dropped = processor.process(item)
    assert dropped is None
    return result


def page(**kwargs: Any) -> bytes:
    return article_html(2548123, **kwargs).encode("utf-8")


def with_paragraph(body: bytes, extra: bytes) -> bytes:
    """Insert raw bytes as a paragraph before the last one of a page."""
    last = "<p>Hội nghị kết thúc".encode()
    return body.replace(last, extra + last, 1)


MIXED = with_paragraph(page(), b"<p>" + to_cp1258("Đoạn chèn từ trang cũ: Nông dân được mùa.")
                       + b"</p>\n")
UNDECODABLE_TITLE = page(title="Tiêu đề XX").replace(b"XX", b"\x81\x8d\x8e\x90")
GALLERY = (
    '<!DOCTYPE html><html><body><div class="col-content"><h2 id="title">Ảnh: Sắc xuân trên '
    'quê hương Nam Định</h2><div class="page-detail-meta"><span class="date">03:01, 14/01/2022'
    "</span></div><div class=\"detail-content\">"
    + "".join(f'<table class="image"><tr><td><img src="/file/x/{i}.jpg" alt="Ảnh {i}"></td></tr>'
              f'<tr><td class="caption">Ảnh {i}: phố hoa.</td></tr></table>' for i in range(6))
    + "</div></div></body></html>"
).encode()
FIGURE_WITHOUT_IMG = with_paragraph(page(), (
    '<figure class="video"><iframe src="https://www.youtube.com/embed/x"></iframe>'
    "<figcaption>Clip: lễ hội</figcaption></figure>\n<figure><blockquote>Trích dẫn"
    "</blockquote></figure>\n").encode())
LISTING = ("<!DOCTYPE html><html><body><ul>" + "".join(
    f'<li class="item"><h3 class="title"><a href="/channel/5083/202201/bai-{i}-25481{i:02}/">'
    f"Bài viết số {i} về hội nghị tổng kết năm</a></h3></li>" for i in range(20))
    + "</ul></body></html>").encode()
VIDEO = ('<!DOCTYPE html><html><body><div class="col-content"><h2 id="title">Video: Lễ hội Phủ '
         'Dầy 2022</h2><div class="page-detail-meta"><span class="date">03:01, 14/01/2022</span>'
         '</div><video src="/file/x/v.mp4"></video><p>Clip.</p></div></body></html>').encode()


@dataclass(frozen=True)
class Reject:
    """Expected: a reject whose reason starts with ``reason``."""

    reason: str
    retryable: bool = False


@dataclass(frozen=True)
class Record:
    """Expected: an archived record whose ``field`` equals ``value``."""

    field: str
    value: Any


TITLE = "Hội nghị triển khai nhiệm vụ năm 2022 số 2548123"
# case -> (body, headers, status, response class, expected outcome)
PURE_CASES = {
    "malformed-unclosed-tags": (page().replace(b"</p>", b"").replace(b"</td>", b""), None, 200,
                                HtmlResponse, Record("title", TITLE)),
    "malformed-stray-end-tags": (page().replace(b"<p>", b"</span></div><p>", 2), None, 200,
                                 HtmlResponse, Record("title", TITLE)),
    "xhtml-xml-declaration": (b'<?xml version="1.0" encoding="utf-8"?>\n' + page(), None, 200,
                              HtmlResponse, Record("title", TITLE)),
    "nul-and-control-bytes": (page().replace("Đoạn 1".encode(), "Đoạn\x00\x0b 1".encode()),
                              None, 200, HtmlResponse, Record("title", TITLE)),
    "truncated": (page()[:1500], None, 200, HtmlResponse,
                  Reject("truncated HTML", retryable=True)),
    "empty-body": (b"", None, 200, HtmlResponse, Reject("empty page", retryable=True)),
    "whitespace-body": (b" \n\t\n", None, 200, HtmlResponse, Reject("empty page", retryable=True)),
    "garbage-bytes": (bytes(range(256)) * 8 + b"</html>", None, 200, HtmlResponse,
                      Reject("no article body found")),
    "pdf-at-article-url": (b"%PDF-1.4\n%\xe2\xe3", {"Content-Type": "application/pdf"}, 200,
                           Response, Reject("not an HTML page (Content-Type application/pdf)")),
    "pdf-typed-as-text": (b"%PDF-1.4\n", {"Content-Type": "application/pdf"}, 200, TextResponse,
                          Reject("not an HTML page")),
    # Issue 11: a page with a body is kept with its URL's month (it used to be rejected).
    "no-date": (page(date_line=None), None, 200, HtmlResponse,
                Record("published_precision", "month")),
    "unreadable-date": (page(date_line="Thứ Hai, tuần trước"), None, 200, HtmlResponse,
                        Record("published_month", "2022-01")),
    "impossible-month": (page(date_line="03:13, 31/13/2021"), None, 200, HtmlResponse,
                         Reject("date: impossible date")),
    "impossible-day": (page(date_line="03:02, 30/02/2022"), None, 200, HtmlResponse,
                       Reject("date: impossible date")),
    # Our clock may be behind the site's: a future date is retried by the next run.
    "future-date": (page(date_line="03:01, 14/01/2099"), None, 200, HtmlResponse,
                    Reject("date: future date", retryable=True)),
    "date-after-fetch": (page(date_line="03:02, 16/02/2022"), None, 200, HtmlResponse,
                         Reject("date: future date", retryable=True)),
    "cp1258-declared-utf8-header": (to_cp1258(article_html(2548123, title=ENCODED_TITLE)), None,
                                    200, HtmlResponse, Record("title", ENCODED_TITLE)),
    "cp1258-declared-cp1252-meta": (
        to_cp1258(article_html(2548123, title=ENCODED_TITLE, charset="windows-1252")), {}, 200,
        HtmlResponse, Record("title", ENCODED_TITLE)),
    "cp1258-declared-cp1258": (
        to_cp1258(article_html(2548123, title=ENCODED_TITLE, charset="windows-1258")), {}, 200,
        HtmlResponse, Record("title", ENCODED_TITLE)),
    "utf8-declared-cp1252-header": (page(title=ENCODED_TITLE),
                                    {"Content-Type": "text/html; charset=windows-1252"}, 200,
                                    HtmlResponse, Record("title", ENCODED_TITLE)),
    "utf8-declared-latin1-meta": (page(title=ENCODED_TITLE, charset="iso-8859-1"), {}, 200,
                                  HtmlResponse, Record("title", ENCODED_TITLE)),
    "utf8-with-a-cp1258-paragraph": (MIXED, None, 200, HtmlResponse,
                                     Record("body~", "Đoạn chèn từ trang cũ: Nông dân được mùa.")),
    "mojibake-in-utf8-text": (page(title="NÃ´ng dÃ¢n Ä‘Æ°á»£c mÃ¹a"), None, 200, HtmlResponse,
                              Record("title", "Nông dân được mùa")),
    "vietnamese-a-tilde-is-not-mojibake": (page(title="Ãm áp Ân tình Ãnh"), None, 200,
                                           HtmlResponse, Record("title", "Ãm áp Ân tình Ãnh")),
    "undecodable-bytes": (UNDECODABLE_TITLE, None, 200, HtmlResponse, Reject("encoding: ")),
    # The crash class met on real pages: `IndexError` in the photo reader (issue 11).
    "figure-without-img": (FIGURE_WITHOUT_IMG, None, 200, HtmlResponse,
                           Record("body~", "Đoạn 3 của bài 2548123")),
    "video-page": (VIDEO, None, 200, HtmlResponse, Reject("no article body found")),
    "photo-gallery-page": (GALLERY, None, 200, HtmlResponse, Reject("no article body found")),
    "listing-at-article-url": (LISTING, None, 200, HtmlResponse, Reject("no article body found")),
    "deleted-404": (b"<html>Not found</html>", None, 404, HtmlResponse, Reject("HTTP 404")),
    "deleted-410": (b"<html>Gone</html>", None, 410, HtmlResponse, Reject("HTTP 410")),
    "server-error-500": (b"", None, 500, HtmlResponse, Reject("HTTP 500", retryable=True)),
    "unavailable-503": (b"", None, 503, HtmlResponse, Reject("HTTP 503", retryable=True)),
    "markup-in-title": (page(title="Khai mạc &lt;b&gt;Hội chợ&lt;/b&gt; <script>alert(1)</script>"
                             "<em>Xuân</em> 2022"), None, 200, HtmlResponse,
                        Record("title", "Khai mạc Hội chợ Xuân 2022")),
    "markup-in-caption": (page(caption="Ảnh &lt;i&gt;minh họa&lt;/i&gt;<script>x()</script>"
                               "<b> đẹp</b>"), None, 200, HtmlResponse,
                          Record("images/0/caption", "Ảnh minh họa đẹp")),
    "entity-soup-in-title": (page(title="Lúa &amp;amp; hoa &#7871; &lt;br/&gt;xuân"), None, 200,
                             HtmlResponse, Record("title", "Lúa & hoa ế xuân")),
}


def _value(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for key in path.rstrip("~").split("/"):
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value


@pytest.mark.parametrize("case", sorted(PURE_CASES))
def test_pure_case(case: str) -> None:
    body, headers, status, cls, expected = PURE_CASES[case]
    result = run(body, headers=headers, status=status, cls=cls)
    if isinstance(expected, Reject):
        assert isinstance(result, RejectItem), f"archived, expected reject {expected.reason!r}"
        assert result.reason.startswith(expected.reason), result.reason
        assert result.retryable is expected.retryable
        assert (result.url, result.id) == (URL, "2548123")
    else:
        assert isinstance(result, ArticleItem), f"rejected: {getattr(result, 'reason', '')}"
        record = result.to_record()
        value = _value(record, expected.field)
        if expected.field.endswith("~"):
            assert expected.value in value
        else:
            assert value == expected.value
        for text in (record["title"], record["body"], *(i["caption"] or "" for i in
                                                        record["images"])):
            assert "<" not in text and "\ufffd" not in text


# --- Hostile URLs ------------------------------------------------------------------------------

HOSTILE_URLS = [
    "https://baonamdinh.vn/channel/5083/202201/../../../../etc/passwd-2548123/",
    "https://baonamdinh.vn/channel/5083/202201/a%2F..%2F..%2Fetc%2Fpasswd-2548123/",
    "https://baonamdinh.vn/channel/5083/202201/%2e%2e/%2e%2e/x-2548123/",
    "https://baonamdinh.vn/channel/5083/202201/..%5C..%5Cwindows-2548123/",
    "https://baonamdinh.vn/channel/5083/202201/a%0Ab%00c-2548123/",
    "https://baonamdinh.vn/%2e%2e/%2e%2e/202201/x-8fb6d67/",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_hostile_url_is_not_an_article(url: str) -> None:
    assert parse_article_url(url) is None
    result = run(page(), url=url)
    assert isinstance(result, RejectItem) and result.reason.startswith("not an article URL")


def test_very_long_slug_is_kept_as_an_id_not_a_path() -> None:
    url = f"https://baonamdinh.vn/channel/5083/202201/{'a-' * 3000}2548123/"
    ref = parse_article_url(url)
    assert ref is not None and ref.id == "2548123"
    assert isinstance(run(page(), url=url), ArticleItem)


@pytest.mark.parametrize("url", HOSTILE_URLS + [URL.replace("bai-viet", "x" * 5000)])
def test_a_reject_for_a_hostile_url_only_writes_inside_the_archive(url: str,
                                                                   tmp_path: Path) -> None:
    root = tmp_path / "archive"
    result = run(b"<html>Gone</html>", url=url, status=410)
    with Archive(root, fsync=False) as archive:
        archive.put_reject(result.to_record())
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                     if p.is_file())
    assert written == ["archive/lock", "archive/rejects/2022-01-15.jsonl", "archive/state.sqlite3"]
    assert [r["url"] for r in iter_records(root, "rejects")] == [url]


# --- Whole crawls against tests/badsite.py -------------------------------------------------------

MAXSIZE = 64 * 1024
# Case -> start of the reason its reject must give after the first run.
CRAWL_REJECTS = {
    "deleted-404": "HTTP 404",
    "deleted-410": "HTTP 410",
    "flaky-500": "fetch failed: HttpError",
    "timeout": "fetch failed: DownloadTimeoutError",
    "video-page": "no article body found",
    "listing-at-article-url": "no article body found",
    "empty-body": "empty page",
    "truncated": "truncated HTML",
    "impossible-date": "date: impossible date",
    "future-date": "date: future date",
    "not-html": "not an HTML page",
    "too-big": "too large: over DOWNLOAD_MAXSIZE",
    "too-big-no-length": "too large: over DOWNLOAD_MAXSIZE",
}
# Redirects off the site and loops: article requests follow redirects themselves (spider).
REDIRECT_CASES = ("redirect-offsite", "redirect-loop-a", "redirect-self")


@dataclass
class Crawl:
    """The outcome of one `scrapy crawl` subprocess."""

    returncode: int
    log: str
    hits: dict[str, int]


def crawl(site: BadSite, archive_dir: Path, cwd: Path) -> Crawl:
    """Run the real spider on the bad site into ``archive_dir`` with ``cwd`` as working folder."""
    site.hits.clear()
    settings = {
        "SITE_URL": site.url, "SITE_HOST_ALIASES": "localhost", "ARCHIVE_DIR": str(archive_dir),
        "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "RETRY_TIMES": "1",
        "DOWNLOAD_TIMEOUT": "3", "ARCHIVE_FSYNC": "False", "REPORT_PROGRESS_INTERVAL": "0",
        "DOWNLOAD_MAXSIZE": str(MAXSIZE), "DOWNLOAD_WARNSIZE": "0",
        # Re-checking recent articles for edits is another feature: off, so that the second
        # run's requests to case pages can only come from retryable rejects.
        "NIGHTLY_RECHECK_DAYS": "0",
    }
    args = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh"]
    for key, value in settings.items():
        args += ["-s", f"{key}={value}"]
    # An empty working folder (the project found through the environment): any file a hostile
    # URL made relative to it would show.
    env = dict(os.environ, PYTHONPATH=str(ROOT), SCRAPY_SETTINGS_MODULE="crawler.settings")
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    return Crawl(done.returncode, done.stderr, dict(site.hits))


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("badcrawl")
    cwd = root / "cwd"
    cwd.mkdir()
    archive_dir = root / "run" / "archive"
    with BadSite() as site:
        first = crawl(site, archive_dir, cwd)
        rejects_first = list(iter_records(archive_dir, "rejects"))
        site.heal()
        site.listing_goods_only = True
        second = crawl(site, archive_dir, cwd)
    return {"root": root, "cwd": cwd, "archive": archive_dir, "first": first, "second": second,
            "rejects_first": rejects_first}


def _ids(archive_dir: Path) -> list[str]:
    return sorted(record["id"] for record in iter_records(archive_dir))


def test_both_runs_finish_cleanly_and_say_what_they_left(crawls: dict[str, Any]) -> None:
    # Each run leaves its retryable rejects for the next, more than REPORT_ARTICLES_LEFT_MAX of
    # its pages, and says so (exit 9): the first a 5xx, a hang, a truncated and an empty page, a
    # future date and two loops (7 of 24); the second, against the healed site, only what does
    # not heal (the future date and the loops: 3 of the 7 it fetched).
    for name, left in (("first", "7 of 24"), ("second", "3 of 7")):
        done = crawls[name]
        assert done.returncode == ExitStatus.INCOMPLETE, done.log[-3000:]
        assert f"exit status 9: {left} " in done.log and "left for the next run" in done.log
        assert "Traceback" not in done.log, name


def test_every_good_page_is_archived_once(crawls: dict[str, Any]) -> None:
    good = sorted(str(case.id) for case in CASES if case.good or case.heals)
    assert _ids(crawls["archive"]) == good
    titles = {r["id"]: r["title"] for r in iter_records(crawls["archive"])}
    assert titles["2548004"] == titles["2548005"] == ENCODED_TITLE
    assert titles["2548006"] == "Khai mạc Hội chợ Xuân 2022"


@pytest.mark.parametrize("slug", sorted(CRAWL_REJECTS))
def test_bad_case_leaves_a_reject_with_its_reason(crawls: dict[str, Any], slug: str) -> None:
    case = BY_SLUG[slug]
    found = [r for r in crawls["rejects_first"] if r["url"].endswith(case.path)]
    assert len(found) == 1, found
    assert found[0]["reason"].startswith(CRAWL_REJECTS[slug]), found[0]["reason"]


def test_wrong_encodings_are_logged(crawls: dict[str, Any]) -> None:
    log = crawls["first"].log
    assert "good-cp1258-declared-utf8-2548004/: wrong encoding declared: declared utf-8" in log
    assert "good-utf8-declared-cp1252-2548005/: wrong encoding declared: declared cp1252" in log


def test_hostile_links_never_reach_the_file_system(crawls: dict[str, Any]) -> None:
    assert not any("evil" in path for path in crawls["first"].hits), crawls["first"].hits
    assert not any(crawls["cwd"].iterdir())
    assert sorted(p.name for p in (crawls["root"] / "run").iterdir()) == ["archive"]
    names = {p.relative_to(crawls["archive"]).parts[0] for p in crawls["archive"].rglob("*")}
    assert names <= {"articles", "rejects", "raw", "runs", "state.sqlite3", "state.sqlite3-wal",
                     "state.sqlite3-shm", "manifest.json", "lock"}
    # Files are named by month, day or run time, never by a URL.
    assert all(len(p.name) < 60 and "evil" not in p.name for p in crawls["archive"].rglob("*"))
    assert len(HOSTILE_LINKS) == 4


def test_second_run_retries_exactly_the_retryable_rejects(crawls: dict[str, Any]) -> None:
    retryable = {r["url"].split(":", 2)[2].split("/", 1)[1] for r in crawls["rejects_first"]
                 if r["retryable"]}
    assert {"flaky-500", "timeout", "empty-body", "truncated"} <= {
        slug for slug, case in BY_SLUG.items() if case.path.lstrip("/") in retryable}
    case_paths = {case.path for case in CASES} | {case.path.rstrip("/") for case in CASES}
    fetched = {path.lstrip("/") for path in crawls["second"].hits if path in case_paths}
    # The listing links only good pages (all archived): every case fetched came from a reject.
    assert fetched == retryable


def test_a_healed_reject_is_archived_and_forgotten(crawls: dict[str, Any]) -> None:
    ids = _ids(crawls["archive"])
    assert {"2548050", "2548051", "2548070", "2548071"} <= set(ids)
    db = sqlite3.connect(crawls["archive"] / "state.sqlite3")
    try:
        left = [row[0] for row in db.execute("SELECT url FROM rejects WHERE retryable = 1")]
    finally:
        db.close()
    assert not any(BY_SLUG[s].path in url for url in left
                   for s in ("flaky-500", "timeout", "empty-body", "truncated"))


@pytest.mark.parametrize("slug", REDIRECT_CASES)
def test_redirect_cases_leave_a_reject(crawls: dict[str, Any], slug: str) -> None:
    path = BY_SLUG[slug].path
    assert any(r["url"].endswith(path) for r in crawls["rejects_first"])


@pytest.mark.parametrize("slug", ("too-big", "too-big-no-length"))
def test_too_big_is_a_clear_final_reject(crawls: dict[str, Any], slug: str) -> None:
    path = BY_SLUG[slug].path
    (found,) = [r for r in crawls["rejects_first"] if r["url"].endswith(path)]
    assert found["reason"].startswith("too large") and not found["retryable"]


def test_archiving_an_article_forgets_rejects_of_its_url_variants(tmp_path: Path) -> None:
    variant = "http://baonamdinh.com.vn/channel/5083/202201/Bai-Viet-2548123"
    reject = run(b"", url=variant, status=503)
    assert isinstance(reject, RejectItem) and reject.retryable and reject.id == "2548123"
    record = run(page()).to_record()
    record.update(content_hash="sha256:0", version=1)
    with Archive(tmp_path, fsync=False) as archive:
        archive.put_reject(reject.to_record())
        archive.put_article(record)
        left = [row[0] for row in archive.db.execute("SELECT url FROM rejects")]
    assert left == []
