"""A small HTTP site of bad input on loopback: a listing linking every case of the catalogue.

``BadSite()`` serves, on 127.0.0.1 and a free port, a home page linking the listing
``/channel/5083/``, which links one old-CMS article URL per case in CASES (plus the hostile URLs
in HOSTILE_LINKS). Each case answers in its own bad way; ``site.heal()`` makes the cases whose
cause may pass (5xx, a hang, truncation, empty body) answer a good page, and
``site.listing_goods_only`` makes the listing link only the good pages, so that a second run's
requests to bad cases can only come from the archive's retryable rejects. ``site.hits[path]``
counts requests by path.
"""

from __future__ import annotations

import html
import logging
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

LISTING = "/channel/5083/"
MONTH = "202201"


def article_path(case: str, article_id: int) -> str:
    """Return the old-CMS article path of a case."""
    return f"/channel/5083/{MONTH}/{case}-{article_id}/"


def article_html(
    article_id: int,
    *,
    title: str | None = None,
    date_line: str | None = "03:01, 14/01/2022",
    charset: str = "utf-8",
    paragraphs: int = 3,
    caption: str = "Quang cảnh hội nghị tổng kết công tác năm 2021.",
    closing: str = "</body>\n</html>\n",
) -> str:
    """Return an old-CMS article page (title, date line, lead, body with a photo, byline)."""
    title = title if title is not None else f"Hội nghị triển khai nhiệm vụ năm 2022 số {article_id}"
    date = f'<div class="page-detail-meta"><span class="date">{date_line}</span></div>' if (
        date_line is not None) else ""
    body = "\n".join(
        f"<p>Đoạn {i} của bài {article_id}: Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh "
        f"đã hoàn thành tốt nhiệm vụ, chỉ tiêu đề ra; công tác xây dựng Đảng được chú trọng, "
        f"đời sống người lao động ổn định và từng bước được nâng lên.</p>"
        for i in range(1, paragraphs + 1)
    )
    return (
        f'<!DOCTYPE html>\n<html lang="vi">\n<head>\n'
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
        f"<title>Bài {article_id} - Báo Nam Định</title>\n</head>\n<body>\n"
        f'<div class="col-content">\n<h2 id="title">{title}</h2>\n{date}\n'
        f'<div class="sapo">Sáng 14-1, hội nghị tổng kết công tác năm 2021 '
        f"(bài {article_id}).</div>\n"
        f'<div class="detail-content">\n'
        f'<table class="image"><tr><td><img src="/file/x/images{article_id}_1.jpg" '
        f'alt="{html.escape(caption)}"></td></tr>'
        f'<tr><td class="caption">{caption}</td></tr></table>\n'
        f"{body}\n<p>Hội nghị kết thúc thành công tốt đẹp./.</p>\n"
        f'<p style="text-align:right"><strong>Văn Trọng</strong></p>\n</div>\n</div>\n'
        f"{closing}"
    )


@dataclass(frozen=True)
class Answer:
    """What the server sends: status, headers and body (``length=False`` omits Content-Length),
    after ``delay`` seconds."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)
    length: bool = True
    delay: float = 0.0


def _page(article_id: int, **kwargs: Any) -> Answer:
    return Answer(body=article_html(article_id, **kwargs).encode("utf-8"))


def _typed(body: bytes, content_type: str) -> Answer:
    return Answer(body=body, headers=(("Content-Type", content_type),))


def _redirect(status: int, location: str) -> Answer:
    return Answer(status=status, headers=(("Location", location),
                                          ("Content-Type", "text/html; charset=utf-8")))


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Encode text as Windows-1258 does: letters it has precomposed, tone marks combining."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        other = "".join(m for m in marks if m not in TONE_MARKS)
        tones = "".join(m for m in marks if m in TONE_MARKS)
        out += unicodedata.normalize("NFC", base + other).encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


# Text of the encoding cases, NFC; Windows-1258 writes its tone marks as combining characters.
ENCODED_TITLE = "Nông dân Nam Định thu hoạch lúa xuân được mùa, được giá"
BIG = 200_000  # bytes; the crawl tests set DOWNLOAD_MAXSIZE well below this
HANG_SECONDS = 3.5  # the crawl tests set DOWNLOAD_TIMEOUT below this


@dataclass(frozen=True)
class Case:
    """One catalogue case served by BadSite: its slug, id, and whether a good record must result."""

    slug: str
    id: int
    good: bool = False
    retryable: bool = False  # the right outcome is a reject that the next run retries
    heals: bool = False  # after site.heal() it answers a good page

    @property
    def path(self) -> str:
        return article_path(self.slug, self.id)


CASES = (
    Case("good-one", 2548001, good=True),
    Case("good-two", 2548002, good=True),
    Case("good-malformed", 2548003, good=True),
    Case("good-cp1258-declared-utf8", 2548004, good=True),
    Case("good-utf8-declared-cp1252", 2548005, good=True),
    Case("good-markup-title", 2548006, good=True),
    Case("good-long-slug-" + "x" * 1500, 2548007, good=True),
    Case("too-big", 2548010),
    Case("too-big-no-length", 2548011),
    Case("redirect-offsite", 2548020),
    Case("redirect-loop-a", 2548030),
    Case("redirect-self", 2548032),
    Case("deleted-404", 2548040),
    Case("deleted-410", 2548041),
    Case("flaky-500", 2548050, retryable=True, heals=True),
    Case("timeout", 2548051, retryable=True, heals=True),
    Case("video-page", 2548060),
    Case("listing-at-article-url", 2548062),
    Case("empty-body", 2548070, retryable=True, heals=True),
    Case("truncated", 2548071, retryable=True, heals=True),
    Case("no-date", 2548090, good=True),  # archived with its URL's month (issue 11)
    Case("impossible-date", 2548091),
    Case("future-date", 2548092),
    Case("not-html", 2548093),
)
BY_SLUG = {case.slug: case for case in CASES}
LOOP_B = article_path("redirect-loop-b", 2548031)
# Links that must never become a request for a file-system path, nor a file anywhere.
HOSTILE_LINKS = (
    "/channel/5083/202201/../../../../../../tmp/evil-2548100/",
    "/channel/5083/202201/a%2F..%2F..%2F..%2Fevil-2548101/",
    "/channel/5083/202201/%2e%2e/%2e%2e/evil-2548102/",
    "/channel/5083/202201/..%5C..%5Cevil-2548103/",
)


class BadSite:
    """The server: start with ``with BadSite() as site``; ``site.url`` is its base URL."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.healed = False
        self.listing_goods_only = False
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> BadSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def heal(self) -> None:
        """From now on the passing faults (5xx, hang, truncation, empty body) answer good pages."""
        self.healed = True

    def count(self, path: str) -> None:
        """Count one request for a path."""
        with self._lock:
            self.hits[path] += 1

    def answer(self, path: str) -> Answer:
        """Return the answer to a request for a path (the raw path, query stripped)."""
        if path == "/":
            return _typed(f'<html><body><a href="{LISTING}">Chính trị</a></body></html>'
                          .encode(), "text/html; charset=utf-8")
        if path == LISTING:
            return self._listing()
        if path == LOOP_B:
            return _redirect(302, BY_SLUG["redirect-loop-a"].path)
        for case in CASES:
            if path == case.path or path == case.path.rstrip("/"):
                return self._case(case)
        if "evil" in path:
            return _page(2548100)  # were it fetched, it would be a good page: only the id counts
        return Answer(status=404, body=b"<html><body>404</body></html>")

    def _listing(self) -> Answer:
        cases = [c for c in CASES if c.good or not self.listing_goods_only]
        links = [(c.path, c.slug) for c in cases]
        if not self.listing_goods_only:
            links += [(link, "hostile") for link in HOSTILE_LINKS]
        items = "\n".join(f'<li class="item"><h3 class="title"><a href="{href}">Bài {text}</a>'
                          f"</h3></li>" for href, text in links)
        return _typed(f'<html><body><ul class="list">{items}</ul></body></html>'.encode(),
                      "text/html; charset=utf-8")

    def _case(self, case: Case) -> Answer:
        if case.heals and self.healed:
            return _page(case.id)
        return _ANSWERS.get(case.slug, _good)(case, self)


def _big(case: Case, length: bool) -> Answer:
    page = article_html(case.id, paragraphs=BIG // 300)
    return Answer(body=page.encode("utf-8"), length=length)


def _good(case: Case, site: BadSite) -> Answer:
    return _page(case.id)


_ANSWERS = {
    "good-malformed": lambda c, s: Answer(body=article_html(c.id).replace("</p>", "")
                                          .replace("</td>", "").replace("</div>\n</div>", "")
                                          .replace("<p>", "<p><b><i>", 2).encode()),
    "good-cp1258-declared-utf8": lambda c, s: Answer(
        body=to_cp1258(article_html(c.id, title=ENCODED_TITLE))),
    "good-utf8-declared-cp1252": lambda c, s: _typed(
        article_html(c.id, title=ENCODED_TITLE, charset="windows-1252").encode("utf-8"),
        "text/html; charset=windows-1252"),
    "good-markup-title": lambda c, s: _page(
        c.id,
        title="Khai mạc &lt;b&gt;Hội chợ&lt;/b&gt; <script>alert(1)</script><em>Xuân</em> 2022",
        caption="Ảnh &lt;i&gt;minh họa&lt;/i&gt;<script>x()</script>"),
    "too-big": lambda c, s: _big(c, length=True),
    "too-big-no-length": lambda c, s: _big(c, length=False),
    "redirect-offsite": lambda c, s: _redirect(301, "http://elsewhere.invalid/moved/"),
    "redirect-loop-a": lambda c, s: _redirect(302, LOOP_B),
    "redirect-self": lambda c, s: _redirect(301, c.path),
    "deleted-404": lambda c, s: Answer(status=404, body=b"<html><body>Not found</body></html>"),
    "deleted-410": lambda c, s: Answer(status=410, body=b"<html><body>Gone</body></html>"),
    "flaky-500": lambda c, s: Answer(status=500, body=b"<html><body>Error</body></html>"),
    "timeout": lambda c, s: Answer(body=article_html(c.id).encode(), delay=HANG_SECONDS),
    "video-page": lambda c, s: _typed(
        f'<!DOCTYPE html><html><body><div class="col-content"><h2 id="title">Video: Lễ hội '
        f'Phủ Dầy {c.id}</h2><div class="page-detail-meta"><span class="date">03:01, 14/01/2022'
        f'</span></div><video src="/file/x/v.mp4"></video><p>Clip.</p></div></body></html>'
        .encode(), "text/html; charset=utf-8"),
    "listing-at-article-url": lambda c, s: s._listing(),
    "empty-body": lambda c, s: Answer(body=b""),
    "truncated": lambda c, s: Answer(body=article_html(c.id).encode()[:1500]),
    "no-date": lambda c, s: _page(c.id, date_line=None),
    "impossible-date": lambda c, s: _page(c.id, date_line="03:13, 31/13/2021"),
    "future-date": lambda c, s: _page(c.id, date_line="03:01, 14/01/2099"),
    "not-html": lambda c, s: _typed(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
}


def _handler(site: BadSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            site.count(path)
            answer = site.answer(path)
            time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                if answer.length:
                    self.send_header("Content-Length", str(len(answer.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a download over its size limit)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            logger.debug("badsite: " + format, *args)

    return Handler
