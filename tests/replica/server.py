"""The replica's HTTP server: routing, clock, page cache, faults, counters and the Replica API."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
import unicodedata
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.replica.dataset import (
    CATEGORIES,
    CHANNELS,
    END,
    Dataset,
    Meta,
    at_minute,
    iso,
    stable_hash,
    to_minute,
)
from tests.replica.render import (
    PAGE_SIZE,
    Renderer,
    last_changed,
    robots_txt,
    rss_feed,
    sitemap_index,
    sitemap_month,
    tiny_jpeg,
)

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
ALIAS = "localhost"
KINDS = ("article", "listing", "home", "robots", "image", "sitemap", "other")
FAULTS = ("500", "503", "timeout", "drop", "truncated", "redirect")
# What /robots.txt answers: the site's own file, or a failure of it (fault-injection tests).
ROBOTS_MODES = ("normal", "disallow-all", "404", "500", "hang")
HTML = "text/html; charset=utf-8"

OLD_ARTICLE = re.compile(
    r"^/channel/(?P<section>\d{4})/(?P<month>\d{6})/(?P<slug>[^/]*)-(?P<id>\d+)(?:/|/index\.html?)?$",
    re.IGNORECASE,
)
NEW_ARTICLE = re.compile(
    r"^/(?P<section>[a-z0-9-]+(?:/[a-z0-9-]+)?)/(?P<month>\d{6})/(?P<slug>[^/]*)-(?P<id>[0-9a-f]{7})"
    r"(?:/|/index\.html?)?$",
    re.IGNORECASE,
)
CHANNEL_LISTING = re.compile(r"^/channel/(?P<section>\d{4})/?$")
CATEGORY_LISTING = re.compile(r"^/(?P<section>[a-z0-9-]+(?:/[a-z0-9-]+)?)/?$", re.IGNORECASE)
SITEMAP_MONTH = re.compile(r"^/sitemaps/(?P<month>\d{4}-\d{2})\.xml$")
# Where crawlers look for sitemaps and feeds; served only when the replica has a sitemap.
SITEMAP_PATHS = ("/sitemap.xml", "/sitemap_index.xml", "/rss", "/feed")
XML = "application/xml; charset=utf-8"


def parse_now(value: str | datetime | None) -> datetime:
    """Return the replica clock for ``value`` (ISO 8601 with an offset); None means the default."""
    if value is None:
        return END
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"now needs a UTC offset, e.g. 2025-06-20T23:00:00+07:00 (got {value!r})")
    return moment


def classify(path: str) -> str:
    """Return a path's request kind by its shape: article, listing, home, robots, image, other."""
    if path in ("/", "/index.htm", "/index.html"):
        return "home"
    if path == "/robots.txt":
        return "robots"
    if path.startswith("/file/"):
        return "image"
    if path in SITEMAP_PATHS or SITEMAP_MONTH.match(path):
        return "sitemap"
    if OLD_ARTICLE.match(path) or NEW_ARTICLE.match(path):
        return "article"
    if CHANNEL_LISTING.match(path):
        return "listing"
    match = CATEGORY_LISTING.match(path)
    if match and match["section"].lower() in CATEGORIES:
        return "listing"
    return "other"


class RequestCounter:
    """Thread-safe count of requests served: total, per kind, per status and per fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._faults: Counter[str] = Counter()
        self._article_paths: list[str] = []
        self._first_at: float | None = None

    def add(self, kind: str, status: int, fault: str | None, path: str = "") -> None:
        """Count one request of ``kind`` answered with ``status`` (and ``fault``, if served)."""
        with self._lock:
            if self._first_at is None:
                self._first_at = time.monotonic()
            self._kinds[kind] += 1
            if kind == "article":
                self._article_paths.append(path)
            self._statuses[status] += 1
            if fault:
                self._faults[fault] += 1

    @property
    def total(self) -> int:
        """All requests served so far."""
        with self._lock:
            return sum(self._kinds.values())

    def __getitem__(self, kind: str) -> int:
        if kind == "total":
            return self.total
        if kind not in KINDS:
            raise KeyError(kind)
        with self._lock:
            return self._kinds[kind]

    def by_kind(self) -> dict[str, int]:
        """Return {kind: count} for every kind, zeros included."""
        with self._lock:
            return {kind: self._kinds[kind] for kind in KINDS}

    def by_status(self) -> dict[int, int]:
        """Return {HTTP status: count}; a fault counts under the status it claimed (0 for none)."""
        with self._lock:
            return dict(self._statuses)

    def article_paths(self) -> list[str]:
        """Return the request targets of every article request, in order (for crawl tests)."""
        with self._lock:
            return list(self._article_paths)

    @property
    def first_at(self) -> float | None:
        """``time.monotonic()`` when the first request since the last reset was answered."""
        with self._lock:
            return self._first_at

    def faults(self) -> dict[str, int]:
        """Return {fault kind: count} of the faults served."""
        with self._lock:
            return dict(self._faults)

    def snapshot(self) -> dict[str, int]:
        """Return the total and the per-kind counts in one dict."""
        counts = self.by_kind()
        return {"total": sum(counts.values()), **counts}

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._kinds.clear()
            self._statuses.clear()
            self._faults.clear()
            self._article_paths.clear()
            self._first_at = None

    def __repr__(self) -> str:
        return f"RequestCounter({self.snapshot()})"


@dataclass
class Page:
    """One response the site would give without faults."""

    status: int
    kind: str
    body: bytes
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)


class _LRU:
    """A small thread-safe LRU map of rendered pages."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Any, Page] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Page | None:
        with self._lock:
            page = self._data.get(key)
            if page is not None:
                self._data.move_to_end(key)
            return page

    def put(self, key: Any, page: Page) -> None:
        with self._lock:
            self._data[key] = page
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class Site:
    """The site without sockets: answers a path at the current clock, and says which to fault."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        port: int,
        now: datetime,
        fault_rate: float,
        crawl_delay: float,
        cache_size: int,
        robots: str = "normal",
        sitemap: bool = False,
        listing_pages: int | None = None,
    ) -> None:
        if robots not in ROBOTS_MODES:
            raise ValueError(f"robots must be one of {', '.join(ROBOTS_MODES)} (got {robots!r})")
        self.robots = robots
        self.ds = dataset
        self.sitemap = sitemap
        self.listing_pages = listing_pages
        self.base_url = f"http://{HOST}:{port}"
        self.alias_url = f"http://{ALIAS}:{port}"
        self.renderer = Renderer(dataset, self.base_url, self.alias_url)
        self.fault_rate = fault_rate
        self.crawl_delay = crawl_delay
        self._clock = (now, to_minute(now))
        self._cache = _LRU(cache_size)
        self._listings: dict[tuple[str, int], list[Meta]] = {}
        self._seen: Counter[str] = Counter()
        self._seen_lock = threading.Lock()
        self._jpeg = tiny_jpeg()

    @property
    def now(self) -> datetime:
        """The replica's clock."""
        return self._clock[0]

    def set_now(self, now: datetime) -> None:
        """Move the clock; pages are cached per clock reading, so nothing stale is served."""
        self._clock = (now, to_minute(now))

    def _html(self, status: int, kind: str, text: str, nfd: bool = False) -> Page:
        if nfd:
            text = unicodedata.normalize("NFD", text)
        return Page(status, kind, text.encode("utf-8"))

    def _listing_metas(self, section: str, now_minute: int) -> list[Meta]:
        key = (section, now_minute)
        metas = self._listings.get(key)
        if metas is None:
            if len(self._listings) > 256:
                self._listings.clear()
            metas = self._listings[key] = self.ds.listing(section, now_minute)
        return metas

    def respond(self, target: str) -> Page:
        """Return the page for a request target (path and query) at the current clock."""
        now, now_minute = self._clock
        parts = urlsplit(target)
        path = parts.path
        key = (path, parts.query, now_minute)
        page = self._cache.get(key)
        if page is None:
            page = self._route(path, parts.query, now, now_minute)
            if page.kind != "image":
                self._cache.put(key, page)
        return page

    def _route(self, path: str, query: str, now: datetime, now_minute: int) -> Page:
        kind = classify(path)
        if kind == "robots":
            if self.robots == "disallow-all":
                return Page(200, kind, b"User-agent: *\nDisallow: /\n", "text/plain")
            if self.robots in ("404", "500"):
                body = f"<html><body>{self.robots}</body></html>"
                return self._html(int(self.robots), kind, body)
            sitemap_url = f"{self.base_url}/sitemap.xml" if self.sitemap else None
            return Page(
                200,
                kind,
                robots_txt(self.crawl_delay, sitemap_url).encode(),
                "text/plain; charset=utf-8",
            )
        if kind == "sitemap":
            page = self._sitemap(path, now_minute)
            if page is not None:
                return page
        if kind == "image":
            if path.lower().endswith(".jpg"):
                return Page(200, kind, self._jpeg, "image/jpeg")
        elif kind == "home":
            return self._html(200, kind, self.renderer.home(now, now_minute))
        elif kind == "article":
            meta = self._article(path)
            if meta is not None and meta.exists(now_minute):
                return self._html(200, kind, self.renderer.article(meta, now, now_minute), meta.nfd)
        elif kind == "listing":
            page = self._listing(path, query, now, now_minute)
            if page is not None:
                return page
        return self._html(404, kind, self.renderer.not_found(now))

    def _sitemap(self, path: str, now_minute: int) -> Page | None:
        """Return the sitemap index, a month's sitemap or the RSS feed (None: no sitemap here)."""
        if not self.sitemap or path in ("/sitemap_index.xml", "/feed"):
            return None
        if path == "/rss":
            body = rss_feed(self.ds, self.base_url, self.ds.newest(now_minute, PAGE_SIZE))
            return Page(200, "sitemap", body.encode(), "application/rss+xml; charset=utf-8")
        months: dict[str, list[Meta]] = {}
        for meta in self.ds.metas:
            if meta.exists(now_minute):
                months.setdefault(f"{meta.published:%Y-%m}", []).append(meta)
        if path == "/sitemap.xml":
            latest = {
                month: max(last_changed(m, now_minute) for m in metas)
                for month, metas in months.items()
            }
            return Page(200, "sitemap", sitemap_index(self.base_url, latest).encode(), XML)
        match = SITEMAP_MONTH.match(path)
        metas = months.get(match["month"]) if match else None
        if not metas:
            return None
        body = sitemap_month(self.ds, self.base_url, metas, now_minute)
        return Page(200, "sitemap", body.encode(), XML)

    def _article(self, path: str) -> Meta | None:
        match = OLD_ARTICLE.match(path)
        if match:
            meta = self.ds.by_key.get(("old", match["id"]))
            section = match["section"]
        else:
            match = NEW_ARTICLE.match(path)
            if not match:
                return None
            meta = self.ds.by_key.get(("new", match["id"].lower()))
            section = match["section"].lower()
        if meta is None or meta.section != section or meta.month != match["month"]:
            return None
        return meta

    def _listing(self, path: str, query: str, now: datetime, now_minute: int) -> Page | None:
        match = CHANNEL_LISTING.match(path) or CATEGORY_LISTING.match(path)
        section = match["section"].lower() if match else ""
        if section not in CHANNELS and section not in CATEGORIES:
            return None
        values = parse_qs(query).get("trang", ["1"])
        if len(values) != 1 or not values[0].isdigit() or int(values[0]) < 1:
            return None
        page = int(values[0])
        metas = self._listing_metas(section, now_minute)
        if self.listing_pages is not None:
            # A site whose listings only show recent articles: older pages are gone.
            metas = metas[: self.listing_pages * PAGE_SIZE]
        if page > 1 and (page - 1) * PAGE_SIZE >= len(metas):
            return None
        return self._html(200, "listing", self.renderer.listing(section, page, metas, now))

    def fault_for(self, target: str, page: Page) -> str | None:
        """Return the fault to serve for this request of ``target``, or None to answer normally."""
        if self.fault_rate <= 0:
            return None  # no attempt to count: a 250,000-article replica would keep them all
        with self._seen_lock:
            attempt = self._seen[target]
            self._seen[target] = attempt + 1
        if page.status == 404 or page.kind == "robots":
            return None
        roll = stable_hash(self.ds.seed, target, attempt)
        if (roll >> 16) / float(1 << 48) >= self.fault_rate:
            return None
        return FAULTS[roll % len(FAULTS)]

    def truth(self) -> list[dict[str, Any]]:
        """Return one truth record per article existing at the current clock, oldest first."""
        _, now_minute = self._clock
        return [
            self.ds.truth(meta, now_minute, self.base_url)
            for meta in self.ds.metas
            if meta.exists(now_minute)
        ]

    def schedule(self) -> list[dict[str, Any]]:
        """Return every article's life events (published, edited, deleted), whatever the clock."""
        return [
            {
                "id": m.id,
                "cms": m.cms,
                "section": m.section,
                "url": self.base_url + self.ds.canonical_path(m),
                "published_at": iso(m.published),
                "edited_at": iso(at_minute(m.edited)) if m.edited is not None else None,
                "deleted_at": iso(at_minute(m.deleted)) if m.deleted is not None else None,
            }
            for m in self.ds.metas
        ]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.site: Site | None = None
        self.counter = RequestCounter()
        self.hang_seconds = 10.0
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-response (timeouts, cancelled crawls) are normal here; the
        # default prints a traceback to stderr for each.
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "replica/1.0"
    # An idle keep-alive connection is closed after this many seconds.
    timeout = 30
    # Headers and body go out in two writes; without this, Nagle plus delayed ACKs cost ~40 ms
    # per keep-alive response.
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("%s " + format, self.address_string(), *args)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        site = self.server.site
        assert site is not None
        page = site.respond(self.path)
        fault = site.fault_for(self.path, page)
        if page.kind == "robots" and site.robots == "hang":
            fault = "timeout"
        status = page.status
        if fault == "timeout":
            self.server.stopping.wait(self.server.hang_seconds)
            self.close_connection = True
            self.server.counter.add(page.kind, 0, fault, self.path)
            return
        body = page.body
        headers = dict(page.headers)
        if fault in ("500", "503"):
            status = int(fault)
            body = b"<html><body><h1>Service Unavailable</h1></body></html>\n"
            if fault == "503":
                headers["Retry-After"] = "1"
        elif fault == "redirect":
            status, body = 301, b""
            host = (self.headers.get("Host") or HOST).split(":")[0].lower()
            other = HOST if host == ALIAS else ALIAS
            headers["Location"] = f"http://{other}:{self.server.server_address[1]}{self.path}"
        elif fault == "truncated":
            body = body[: len(body) // 2]
        self.server.counter.add(page.kind, status, fault, self.path)
        self.send_response(status)
        self.send_header("Content-Type", page.content_type if status == page.status else HTML)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if head:
            return
        if fault == "drop":
            # Promise the whole body, send half, then hang up.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(body)


class Replica:
    """A running replica of baonamdinh.vn on 127.0.0.1, served from a daemon thread."""

    def __init__(
        self,
        articles: int = 200,
        seed: int = 1,
        now: str | datetime | None = None,
        fault_rate: float = 0.0,
        *,
        port: int = 0,
        hang_seconds: float = 10.0,
        crawl_delay: float = 1.0,
        cache_size: int = 2048,
        robots: str = "normal",
        sitemap: bool = False,
        listing_pages: int | None = None,
        collisions: int = 0,
    ) -> None:
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be within 0..1 (got {fault_rate})")
        self.dataset = Dataset(articles, seed, collisions)
        self._server = _Server((HOST, port))
        self._server.hang_seconds = hang_seconds
        self.port: int = self._server.server_address[1]
        self.site = Site(
            self.dataset,
            port=self.port,
            now=parse_now(now),
            fault_rate=fault_rate,
            crawl_delay=crawl_delay,
            cache_size=cache_size,
            robots=robots,
            sitemap=sitemap,
            listing_pages=listing_pages,
        )
        self._server.site = self.site
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash: http://127.0.0.1:PORT."""
        return self.site.base_url

    @property
    def alias_url(self) -> str:
        """The same site under its other host name: http://localhost:PORT."""
        return self.site.alias_url

    @property
    def requests(self) -> RequestCounter:
        """Counts of the requests served so far."""
        return self._server.counter

    @property
    def now(self) -> datetime:
        """The replica's clock."""
        return self.site.now

    def set_now(self, now: str | datetime) -> None:
        """Move the clock of the running replica to ``now`` (ISO 8601 with an offset)."""
        self.site.set_now(parse_now(now))

    def truth(self) -> list[dict[str, Any]]:
        """Return the truth records at the current clock (what --truth writes)."""
        return self.site.truth()

    def schedule(self) -> list[dict[str, Any]]:
        """Return every article's publication, edit and deletion times, whatever the clock."""
        return self.site.schedule()

    def write_truth(self, path: str | Path) -> int:
        """Write the truth as JSON Lines to ``path``; return the number of records."""
        records = self.truth()
        with open(path, "w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return len(records)

    def start(self) -> Replica:
        """Start serving in a daemon thread; return self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name=f"replica-{self.port}", daemon=True
            )
            self._thread.start()
            logger.info("replica serving %d articles at %s/", len(self.dataset), self.url)
        return self

    def close(self) -> None:
        """Stop serving, end open connections (and hanging faults) and free the port."""
        self._server.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        with self._server.connections_lock:
            connections = list(self._server.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()

    def __enter__(self) -> Replica:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
