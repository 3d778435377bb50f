"""What the replica's web archives hold: captures of the replica's articles at past dates.

Built once from a ``Dataset`` (the same as a ``Replica``'s with the same articles and seed) and
its seed, deterministically, under the paper's real host names (``baonamdinh.vn``, ``www.``,
``baonamdinh.com.vn``, ``beta.``): most articles captured once to three times by the Wayback
Machine (some never), and by about a third of the Common Crawl crawls that ran while they existed;
each page in the template of the capture's day (old-CMS pages before 2020 in the 2019 markup the
"docbao" configuration describes: ``#content`` with the lead as its first paragraph,
``.date span``, ``table.image.center`` with the caption in ``tr[2]/td/em``, no kicker line;
leader articles, whose author's name that markup has no place for, keep the other template), with
the edited text
when captured after an edit, articles the site has since deleted among them. Besides: duplicate
captures (the same answer archived twice, minutes apart), non-200 captures (404 after a
deletion, 301 to https, 503), other pages (home page, a listing, robots.txt, an image) and, after
the paper's end in July 2025, 200 captures of a parked domain at article URLs. Common Crawl's
captures are written into WARC files as Common Crawl writes them (request, response, metadata;
payloads stored decoded), each response's offset and length noted. tests/replica/archives.py
serves them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import escape
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.replica.dataset import (
    CHANNELS,
    END,
    IMAGE_ROOT,
    VN,
    Dataset,
    Meta,
    at_minute,
    stable_hash,
    to_minute,
)
from tests.replica.render import Renderer, masthead, robots_txt, tiny_jpeg

SITE = "https://baonamdinh.vn"
ALIAS = "https://baonamdinh.com.vn"
WAYBACK, COMMONCRAWL = "wayback", "commoncrawl"
# The paper's end: later captures of its hosts show a parked domain.
DEAD_FROM = datetime(2025, 7, 1, tzinfo=VN)
# Old-CMS pages captured before this day are in the 2019 markup.
TEMPLATE_2019_BEFORE = datetime(2020, 1, 1, tzinfo=VN)
HTML = "text/html; charset=utf-8"
# (id, from, to) of the replica's Common Crawl crawls; the last one runs after the paper's end.
CRAWLS = (
    ("CC-MAIN-2013-20", "2013-05-18", "2013-05-26"), ("CC-MAIN-2014-23", "2014-07-09", "2014-07-17"),
    ("CC-MAIN-2015-40", "2015-10-04", "2015-10-13"), ("CC-MAIN-2016-50", "2016-12-02", "2016-12-11"),
    ("CC-MAIN-2017-51", "2017-12-10", "2017-12-19"), ("CC-MAIN-2018-47", "2018-11-12", "2018-11-21"),
    ("CC-MAIN-2019-43", "2019-10-13", "2019-10-24"), ("CC-MAIN-2020-45", "2020-10-19", "2020-11-01"),
    ("CC-MAIN-2021-49", "2021-11-26", "2021-12-09"), ("CC-MAIN-2022-49", "2022-11-26", "2022-12-10"),
    ("CC-MAIN-2023-50", "2023-11-28", "2023-12-12"), ("CC-MAIN-2024-42", "2024-10-03", "2024-10-16"),
    ("CC-MAIN-2025-21", "2025-05-12", "2025-05-26"), ("CC-MAIN-2025-38", "2025-09-05", "2025-09-19"),
)  # fmt: skip


@dataclass
class Snapshot:
    """One capture an archive holds."""

    archive: str
    moment: datetime
    url: str  # the URL as archived
    status: int
    mime: str
    body: bytes
    kind: str  # article, duplicate, deleted, redirect, error, parked, page, image, robots
    article: str | None = None  # the article id of an article page (kinds article, duplicate)
    location: str | None = None
    crawl: str | None = None
    filename: str | None = None
    offset: int = 0
    length: int = 0
    seconds: int = 0
    rendered: datetime | None = None  # when the body was served (a duplicate repeats an answer)

    @property
    def timestamp(self) -> str:
        """The capture's 14-digit UTC timestamp."""
        moment = self.moment + timedelta(seconds=self.seconds)
        return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")

    @property
    def urlkey(self) -> str:
        """The capture's SURT key."""
        return surt(self.url)

    @property
    def digest(self) -> str:
        """The base-32 SHA-1 of the body, as CDX files write it."""
        return base64.b32encode(hashlib.sha1(self.body).digest()).decode()


def surt(url: str) -> str:
    """Return the SURT key of a URL: host reversed without ``www.``, path lower-cased, no scheme."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    key = ",".join(reversed(host.split("."))) + ")"
    path = (parts.path or "/").lower()
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return key + path + (f"?{parts.query.lower()}" if parts.query else "")


def _variant(ds: Dataset, meta: Meta, rng: random.Random) -> str:
    """Return a URL of an article as some page linked it: host, scheme and path variants."""
    path = ds.path(meta)
    roll = rng.random()
    if roll < 0.2:
        path = path[:-1]
    elif roll < 0.3:
        path = path + "index.htm"
    hosts = [
        "http://baonamdinh.vn",
        "https://baonamdinh.vn",
        "http://www.baonamdinh.vn",
        "http://baonamdinh.com.vn",
        "http://www.baonamdinh.com.vn",
    ]
    if meta.cms == "new":
        hosts += ["https://beta.baonamdinh.vn"]
    return rng.choice(hosts) + path


def _page_2019(ds: Dataset, meta: Meta, moment: datetime) -> str:
    """Return an old-CMS article page in the 2019 markup (the docbao configuration's selectors)."""
    head, body = ds.head(meta.index), ds.body(meta.index)
    minute = to_minute(moment)
    paragraphs = body.edited if meta.is_edited(minute) and body.edited else body.paragraphs
    e = escape
    parts = [f"<p><strong>{e(body.lead)}</strong></p>\n"]
    last = len(paragraphs) - 1
    for i, para in enumerate(paragraphs):
        parts.append(f"<p>{e(para)}{'./.' if i == last else ''}</p>\n")
        for photo in body.photos:
            if photo.after == i:
                parts.append(
                    '<table class="image center"><tbody><tr><td>'
                    f'<img src="{photo.src}" alt="{e(photo.alt)}"></td></tr>'
                    f"<tr><td><em>{e(photo.caption)}</em></td></tr></tbody></table>\n"
                )
    if body.byline:
        parts.append(f'<p style="text-align:right"><strong>{e(body.byline)}</strong></p>\n')
    menu = "".join(f'<li><a href="/channel/{c}/">{e(n)}</a></li>' for c, n in CHANNELS.items())
    footer = "".join(f"<p>{e(line)}</p>" for line in masthead(moment, False))
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN">\n<html>\n<head>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        f"<title>{e(head.title)} - Báo Nam Định điện tử</title>\n"
        f'<meta property="og:title" content="{e(head.title)}">\n</head>\n<body>\n'
        '<div id="header"><a href="/"><img src="/common/v1/image/logo-namdinh.png"></a>\n'
        f'<ul class="menu">{menu}</ul></div>\n<div id="main"><div class="detail">\n'
        f'<h1 class="title">{e(head.title)}</h1>\n'
        f'<div class="date"><span>{e(ds.date_line(meta))}</span></div>\n'
        f'<div id="content">\n{"".join(parts)}</div>\n'
        '<div class="other-news"><h3>Tin khác</h3></div>\n</div></div>\n'
        f'<div id="footer">{footer}</div>\n</body>\n</html>\n'
    )


def parked(url: str, rng: random.Random) -> bytes:
    """Return a parked domain's page as served at ``url``: the same for every URL of a host,
    except that some carry an advertisement of their own."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    ad = f"<!-- quảng cáo {rng.getrandbits(32):08x} -->" if rng.random() < 0.3 else ""
    return (
        f"<!DOCTYPE html><html><head><title>{host}</title></head><body>"
        f"<h1>Tên miền {host} đang chờ gia hạn</h1>{ad}"
        "<p>Liên hệ nhà đăng ký tên miền để biết thêm chi tiết.</p></body></html>\n"
    ).encode()


class Holdings:
    """Every capture of both archives, built once from (dataset, seed)."""

    def __init__(self, ds: Dataset, seed: int) -> None:
        self.ds = ds
        self.seed = seed
        self.renderer = Renderer(ds, SITE, ALIAS)
        self.snapshots: dict[str, list[Snapshot]] = {WAYBACK: [], COMMONCRAWL: []}
        self._keys: set[tuple[str, str, str]] = set()
        self._pages: dict[tuple[int, str], bytes] = {}
        for meta in ds.metas:
            self._wayback(meta)
        for crawl, start, end in CRAWLS:
            self._crawl(
                crawl,
                datetime.fromisoformat(start).replace(tzinfo=VN),
                datetime.fromisoformat(end).replace(tzinfo=VN),
            )
        self._other_pages()
        for archive in self.snapshots:
            self.snapshots[archive].sort(key=lambda s: (s.urlkey, s.timestamp, s.url))
        self.files = self._warc_files()

    # --- building ---

    def _add(self, snap: Snapshot) -> Snapshot:
        # (urlkey, timestamp) is unique per archive, as a resumption key needs.
        while (snap.archive, snap.urlkey, snap.timestamp) in self._keys:
            snap.seconds += 1
        self._keys.add((snap.archive, snap.urlkey, snap.timestamp))
        self.snapshots[snap.archive].append(snap)
        return snap

    def page(self, meta: Meta, moment: datetime) -> bytes:
        """Return an article page as the site served it at ``moment``, in that day's template."""
        key = (meta.index, moment.isoformat())
        if key not in self._pages:
            # Leader articles keep the other template: the 2019 markup has no place for the
            # author's name at the top.
            if meta.cms == "old" and not meta.leader and moment < TEMPLATE_2019_BEFORE:
                html = _page_2019(self.ds, meta, moment)
            else:
                html = self.renderer.article(meta, moment, to_minute(moment))
            if meta.nfd:
                html = unicodedata.normalize("NFD", html)
            self._pages[key] = html.encode("utf-8")
        return self._pages[key]

    def _alive_until(self, meta: Meta) -> datetime:
        return at_minute(meta.deleted) if meta.deleted is not None else END

    def _wayback(self, meta: Meta) -> None:
        rng = random.Random(f"archives:{self.seed}:{meta.id}:wayback")
        published = meta.published
        life = int((self._alive_until(meta) - published).total_seconds() // 60)
        if rng.random() < 0.12 or life < 120:
            return  # never captured
        # Captures within three years of publication, before a deletion.
        window = min(life - 60, 3 * 365 * 1440)
        count = rng.choice((1, 1, 2, 2, 3))
        for minute in sorted(rng.sample(range(30, window), k=min(count, window - 30))):
            moment = published + timedelta(minutes=minute)
            url = _variant(self.ds, meta, rng)
            snap = self._add(
                Snapshot(
                    WAYBACK,
                    moment,
                    url,
                    200,
                    "text/html",
                    self.page(meta, moment),
                    "article",
                    meta.id,
                    seconds=rng.randrange(60),
                    rendered=moment,
                )
            )
            if rng.random() < 0.15:  # archived twice, the same answer minutes apart
                self._add(
                    Snapshot(
                        WAYBACK,
                        moment + timedelta(minutes=rng.randrange(2, 90)),
                        url,
                        200,
                        "text/html",
                        snap.body,
                        "duplicate",
                        meta.id,
                        rendered=moment,
                    )
                )
        if rng.random() < 0.1:  # the http:// form, redirected to https://
            moment = published + timedelta(minutes=rng.randrange(30, window))
            path = self.ds.path(meta)
            self._add(
                Snapshot(
                    WAYBACK,
                    moment,
                    "http://baonamdinh.vn" + path,
                    301,
                    "text/html",
                    b"",
                    "redirect",
                    location="https://baonamdinh.vn" + path,
                )
            )
        if rng.random() < 0.05:
            moment = published + timedelta(minutes=rng.randrange(30, window))
            self._add(
                Snapshot(
                    WAYBACK,
                    moment,
                    _variant(self.ds, meta, rng),
                    503,
                    "text/html",
                    b"<html><body><h1>Service Unavailable</h1></body></html>",
                    "error",
                )
            )
        if meta.deleted is not None and rng.random() < 0.7:
            moment = self._alive_until(meta) + timedelta(days=rng.randrange(1, 60))
            if moment < DEAD_FROM:
                self._add(
                    Snapshot(
                        WAYBACK,
                        moment,
                        _variant(self.ds, meta, rng),
                        404,
                        "text/html",
                        self.renderer.not_found(moment).encode(),
                        "deleted",
                    )
                )
        if rng.random() < 0.06:  # the parked domain, captured at an article URL
            moment = DEAD_FROM + timedelta(days=rng.randrange(30, 180))
            url = _variant(self.ds, meta, rng)
            self._add(Snapshot(WAYBACK, moment, url, 200, "text/html", parked(url, rng), "parked"))

    def _crawl(self, crawl: str, start: datetime, end: datetime) -> None:
        days = max(1, (end - start).days)
        for meta in self.ds.metas:
            rng = random.Random(f"archives:{self.seed}:{meta.id}:{crawl}")
            if rng.random() >= 0.3 or meta.published >= start:
                continue
            moment = start + timedelta(days=rng.randrange(days), minutes=rng.randrange(1440))
            url = _variant(self.ds, meta, rng)
            if moment >= DEAD_FROM:
                if rng.random() < 0.3:
                    body = parked(url, rng)
                    self._add(
                        Snapshot(
                            COMMONCRAWL, moment, url, 200, "text/html", body, "parked", crawl=crawl
                        )
                    )
            elif meta.deleted is not None and at_minute(meta.deleted) <= moment:
                self._add(
                    Snapshot(
                        COMMONCRAWL,
                        moment,
                        url,
                        404,
                        "text/html",
                        self.renderer.not_found(moment).encode(),
                        "deleted",
                        crawl=crawl,
                    )
                )
            elif rng.random() < 0.05:
                path = self.ds.path(meta)
                self._add(
                    Snapshot(
                        COMMONCRAWL,
                        moment,
                        "http://baonamdinh.vn" + path,
                        301,
                        "text/html",
                        b"",
                        "redirect",
                        crawl=crawl,
                        location="https://baonamdinh.vn" + path,
                    )
                )
            else:
                self._add(
                    Snapshot(
                        COMMONCRAWL,
                        moment,
                        url,
                        200,
                        "text/html",
                        self.page(meta, moment),
                        "article",
                        meta.id,
                        crawl=crawl,
                        rendered=moment,
                    )
                )

    def _other_pages(self) -> None:
        """Home pages, a listing, robots.txt and an image, captured now and then by both."""
        for year in range(2012, 2026):
            moment = datetime(year, 3, 15, 9, 30, tzinfo=VN)
            minute = to_minute(moment)
            crawl = next((c for c, s, _ in CRAWLS if s.startswith(str(year))), None)
            pages = [
                (f"{SITE}/", HTML, self.renderer.home(moment, minute).encode(), "page"),
                (
                    "http://baonamdinh.vn/channel/5083/",
                    HTML,
                    self.renderer.listing(
                        "5083", 1, self.ds.listing("5083", minute), moment
                    ).encode(),
                    "page",
                ),
                (f"{SITE}/robots.txt", "text/plain", robots_txt(1.0).encode(), "robots"),
                (f"{SITE}{IMAGE_ROOT}/logo.jpg", "image/jpeg", tiny_jpeg(), "image"),
            ]
            for url, mime, body, kind in pages:
                self._add(Snapshot(WAYBACK, moment, url, 200, mime.split(";")[0], body, kind))
                if crawl:
                    self._add(
                        Snapshot(
                            COMMONCRAWL,
                            moment,
                            url,
                            200,
                            mime.split(";")[0],
                            body,
                            kind,
                            crawl=crawl,
                        )
                    )

    def _warc_files(self) -> dict[str, bytes]:
        """Write Common Crawl's captures into WARC files, two per crawl; note each record's place."""
        files: dict[str, io.BytesIO] = {}
        by_time = sorted(self.snapshots[COMMONCRAWL], key=lambda s: (s.timestamp, s.url))
        for snap in by_time:
            part = stable_hash(self.seed, snap.url, snap.timestamp) % 2
            name = (
                f"crawl-data/{snap.crawl}/segments/1700000000000.{part}/warc/"
                f"{snap.crawl}-2025{part:010d}-{part:05d}.warc.gz"
            )
            date = (
                (snap.moment + timedelta(seconds=snap.seconds))
                .astimezone(timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%SZ")
            )
            fresh = name not in files
            out = files.setdefault(name, io.BytesIO())
            writer = WARCWriter(out, gzip=True)
            if fresh:
                fields = f"software: replica\r\nisPartOf: {snap.crawl}\r\n".encode()
                writer.write_record(
                    writer.create_warc_record(
                        name.rsplit("/", 1)[-1],
                        "warcinfo",
                        payload=io.BytesIO(fields),
                        length=len(fields),
                        warc_content_type="application/warc-fields",
                        warc_headers_dict=self._warc_ids(name, "warcinfo", date),
                    )
                )
            parts = urlsplit(snap.url)
            request = writer.create_warc_record(
                snap.url,
                "request",
                payload=io.BytesIO(b""),
                length=0,
                http_headers=StatusAndHeaders(
                    f"GET {parts.path or '/'} HTTP/1.1",
                    [("Host", parts.netloc)],
                    is_http_request=True,
                ),
                warc_headers_dict=self._warc_ids(snap.url, snap.timestamp + "q", date),
            )
            writer.write_record(request)
            headers = [("Content-Type", HTML if snap.mime == "text/html" else snap.mime)]
            if snap.location:
                headers.append(("Location", snap.location))
            if snap.kind == "article" and stable_hash(self.seed, snap.url, "enc") % 2:
                # Common Crawl stores payloads decoded and renames the header.
                headers.append(("X-Crawler-Content-Encoding", "gzip"))
            reason = {200: "OK", 301: "Moved Permanently", 404: "Not Found"}.get(snap.status, "")
            response = writer.create_warc_record(
                snap.url,
                "response",
                payload=io.BytesIO(snap.body),
                length=len(snap.body),
                http_headers=StatusAndHeaders(
                    f"{snap.status} {reason}".strip(), headers, protocol="HTTP/1.1"
                ),
                warc_headers_dict=self._warc_ids(snap.url, snap.timestamp + "r", date),
            )
            snap.filename, snap.offset = name, out.tell()
            writer.write_record(response)
            snap.length = out.tell() - snap.offset
            writer.write_record(
                writer.create_warc_record(
                    snap.url,
                    "metadata",
                    payload=io.BytesIO(b"fetchTimeMs: 120\r\n"),
                    length=18,
                    warc_content_type="application/warc-fields",
                    warc_headers_dict=self._warc_ids(snap.url, snap.timestamp + "m", date),
                )
            )
        return {name: out.getvalue() for name, out in files.items()}

    def _warc_ids(self, *parts: str) -> dict[str, str]:
        """Return a record's WARC-Date (the last part) and a WARC-Record-ID fixed by the seed."""
        high = stable_hash(self.seed, "warc", *parts)
        low = stable_hash(self.seed, "warc-low", *parts)
        return {
            "WARC-Record-ID": f"<urn:uuid:{uuid.UUID(int=(high << 64) | low)}>",
            "WARC-Date": parts[-1],
        }

    # --- reading ---

    def good(self, archive: str, since: datetime | None = None) -> dict[str, Snapshot]:
        """Return each article's newest capture that holds it, among what a backfill is shown.

        That is the archive's answer to the index query: 200 HTML captures from ``since`` on,
        and for the Wayback Machine one per run of the same content of a URL (collapse=digest);
        parked-domain pages at article URLs are not the article."""
        low = since.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S") if since else ""
        shown = [
            s
            for s in self.snapshots[archive]
            if s.status == 200 and s.mime == "text/html" and s.timestamp >= low
        ]
        if archive == WAYBACK:
            kept, last = [], None
            for snap in shown:
                if (snap.urlkey, snap.digest) != last:
                    kept.append(snap)
                last = (snap.urlkey, snap.digest)
            shown = kept
        best: dict[str, Snapshot] = {}
        for snap in shown:
            if snap.article and (
                snap.article not in best or snap.timestamp > best[snap.article].timestamp
            ):
                best[snap.article] = snap
        return best
