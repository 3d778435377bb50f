"""The replica's web archives: a local Wayback Machine and a local Common Crawl on loopback.

They serve what tests/replica/captures.py says they hold, so a backfill from them runs with the
default SITE_URL and host aliases and touches nothing but 127.0.0.1. One server, three path
prefixes (``settings()`` gives the crawl settings that point at them):
    /wayback/cdx/search/cdx     CDX server: url, matchType (exact, prefix, host; url/*), output=json,
                                fl, filter ([!]field:regex, whole value), collapse (field[:N],
                                adjacent rows), from, to, limit, showResumeKey, resumeKey
    /wayback/web/{ts}id_/{url}  the capture as the site sent it; a timestamp the archive lacks
                                redirects (302) to the nearest one of the URL
    /cc-index/collinfo.json     the crawls (id, name, cdx-api, from, to)
    /cc-index/{crawl}-index     pywb CDX of a crawl: url, matchType, output=json (one object a
                                line), fl, filter ([!][=|~]field:value), from, to, showNumPages,
                                page (page_lines lines a page); 404 when nothing matches
    /cc-data/{filename}         WARC files (one gzip member per record), with Range: bytes=a-b
``fault_rate`` makes that share of answers a 429 (with Retry-After: 1) or a 503, by a hash of
(seed, target, attempt) as the site replica's faults. ``truth(archive, base_url)`` is what an
archive holds: one record per article with a good capture, as of its newest one
(``published_at`` is what the page alone tells: null for the old CMS's 12-hour date line, since
an archive has no listing to give the time). ``python -m tests.replica.archives --port P
--articles N`` serves them from the command line.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote_plus, unquote_plus, urlsplit

from tests.replica.captures import (
    COMMONCRAWL,
    CRAWLS,
    HTML,
    SITE,
    WAYBACK,
    Holdings,
    Snapshot,
    surt,
)
from tests.replica.dataset import Dataset, stable_hash, to_minute

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
WAYBACK_PREFIX, CC_INDEX_PREFIX, CC_DATA_PREFIX = "/wayback", "/cc-index", "/cc-data"
PAGE_LINES = 40  # lines per page of a Common Crawl index answer
CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
KINDS = ("cdx", "replay", "collinfo", "index", "record", "other")


def _query_key(url: str) -> str:
    """Return the SURT prefix a ``url=`` parameter asks for (a trailing slash kept)."""
    if "://" not in url:
        url = "http://" + url
    key = surt(url)
    return key + "/" if urlsplit(url).path.endswith("/") and not key.endswith("/") else key


def _pad(ts: str, up: bool) -> str:
    return ts + ("99991231235959" if up else "00000101000000")[len(ts) :] if ts else ""


def _matches(key: str, want: str, match_type: str) -> bool:
    if match_type == "prefix":
        return key.startswith(want) or key == want.rstrip("/")
    if match_type == "host":
        return key.split(")", 1)[0] == want.split(")", 1)[0]
    return key == want.rstrip("/") or key == want


def _select(snaps: list[Snapshot], query: dict[str, list[str]]) -> list[Snapshot]:
    url = query.get("url", [""])[0]
    match_type = query.get("matchType", ["exact"])[0]
    if url.endswith("*"):
        url, match_type = url.rstrip("*"), "prefix"
    want = _query_key(url)
    low, high = _pad(query.get("from", [""])[0], False), _pad(query.get("to", [""])[0], True)
    return [
        s
        for s in snaps
        if _matches(s.urlkey, want, match_type)
        and (not low or s.timestamp >= low)
        and (not high or s.timestamp <= high)
    ]


def _wayback_row(snap: Snapshot) -> dict[str, str]:
    return {
        "urlkey": snap.urlkey,
        "timestamp": snap.timestamp,
        "original": snap.url,
        "mimetype": snap.mime,
        "statuscode": str(snap.status),
        "digest": snap.digest,
        "length": str(len(snap.body)),
    }


def wayback_cdx(snaps: list[Snapshot], query: dict[str, list[str]]) -> str:
    """Answer a CDX server query the way the Internet Archive's does."""
    rows = [_wayback_row(s) for s in _select(snaps, query)]
    for spec in query.get("filter", []):
        invert = spec.startswith("!")
        name, _, pattern = spec.lstrip("!").partition(":")
        regex = re.compile(pattern)
        rows = [r for r in rows if bool(regex.fullmatch(r.get(name, ""))) != invert]
    for spec in query.get("collapse", []):
        name, _, width = spec.partition(":")
        kept, last = [], None
        for row in rows:
            token = row.get(name, "")[: int(width)] if width else row.get(name, "")
            # Adjacent rows only, and (for digest) within one URL, as the sorted index has them.
            token = (row["urlkey"], token) if name != "urlkey" else token
            if token != last:
                kept.append(row)
            last = token
        rows = kept
    resume = query.get("resumeKey", [""])[0]
    if resume:
        key, _, stamp = unquote_plus(resume).rstrip("!").rpartition(" ")
        rows = [r for r in rows if (r["urlkey"], r["timestamp"]) > (key, stamp)]
    limit = int(query.get("limit", ["0"])[0] or 0)
    more = bool(limit) and len(rows) > limit
    rows = rows[:limit] if limit else rows
    fields = (query.get("fl", [""])[0] or ",".join(CDX_FIELDS)).split(",")
    out: list[list[str]] = [[r[f] for f in fields] for r in rows]
    if query.get("output", [""])[0] != "json":
        return "".join(" ".join(row) + "\n" for row in out)
    if not out:
        return "[]\n"
    table = [fields, *out]
    if more and query.get("showResumeKey", [""])[0] == "true":
        last = rows[-1]
        table += [[], [quote_plus(f"{last['urlkey']} {last['timestamp']}!")]]
    return json.dumps(table) + "\n"


def _cc_row(snap: Snapshot) -> dict[str, str]:
    row = {
        "urlkey": snap.urlkey,
        "timestamp": snap.timestamp,
        "url": snap.url,
        "mime": snap.mime,
        "mime-detected": snap.mime,
        "status": str(snap.status),
        "digest": snap.digest,
        "length": str(snap.length),
        "offset": str(snap.offset),
        "filename": snap.filename or "",
    }
    if snap.location:
        row["redirect"] = snap.location
    return row


def cc_index(
    snaps: list[Snapshot], crawl: str, query: dict[str, list[str]], page_lines: int = PAGE_LINES
) -> tuple[int, str]:
    """Answer a pywb CDX query on one crawl's index: (status, body)."""
    rows = [_cc_row(s) for s in _select([s for s in snaps if s.crawl == crawl], query)]
    for spec in query.get("filter", []):
        invert = spec.startswith("!")
        spec = spec.lstrip("!")
        mode = spec[0] if spec[:1] in ("=", "~") else ""
        name, _, value = spec.lstrip("=~").partition(":")
        if mode == "=":
            rows = [r for r in rows if (r.get(name, "") == value) != invert]
        elif mode == "~":
            rows = [r for r in rows if bool(re.match(value, r.get(name, ""))) != invert]
        else:
            rows = [r for r in rows if (value in r.get(name, "")) != invert]
    pages = max(1, -(-len(rows) // page_lines))
    if query.get("showNumPages", [""])[0] == "true":
        return 200, json.dumps({"pages": pages, "pageSize": 5, "blocks": pages * 5}) + "\n"
    page = int(query.get("page", ["0"])[0] or 0)
    if page >= pages:
        return 400, json.dumps(
            {"message": f"Page {page} invalid: First Page is 0, Last Page is {pages - 1}"}
        ) + "\n"
    rows = rows[page * page_lines : (page + 1) * page_lines]
    if not rows:
        return 404, json.dumps(
            {"message": "No Captures found for: " + query.get("url", [""])[0]}
        ) + "\n"
    fields = query.get("fl", [""])[0]
    if fields:
        rows = [{f: r[f] for f in fields.split(",") if f in r} for r in rows]
    return 200, "".join(json.dumps(r) + "\n" for r in rows)


class ArchiveRequests:
    """Thread-safe count of the archives' requests by kind and status, with their arrival times."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.kinds: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.log: list[tuple[float, str, int]] = []

    def add(self, kind: str, status: int, target: str, at: float) -> None:
        """Count one request."""
        with self._lock:
            self.kinds[kind] += 1
            self.statuses[status] += 1
            self.log.append((at, target, status))

    def snapshot(self) -> dict[str, int]:
        """Return the total and the per-kind counts."""
        with self._lock:
            return {"total": sum(self.kinds.values()), **{k: self.kinds[k] for k in KINDS}}

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self.kinds.clear()
            self.statuses.clear()
            self.log.clear()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], archives: ArchiveReplica) -> None:
        super().__init__(address, _Handler)
        self.archives = archives

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "archive-replica/1.0"
    timeout = 30
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        archives = self.server.archives
        kind, status, headers, body = archives.answer(self.path, self.headers.get("Range"))
        archives.requests.add(kind, status, self.path, time.monotonic())
        self.send_response(status)
        headers.setdefault("Content-Type", "application/octet-stream")
        headers["Content-Length"] = str(len(body))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class ArchiveReplica:
    """A running local Wayback Machine and Common Crawl holding captures of a replica dataset."""

    def __init__(
        self,
        articles: int = 200,
        seed: int = 1,
        *,
        dataset: Dataset | None = None,
        port: int = 0,
        fault_rate: float = 0.0,
        page_lines: int = PAGE_LINES,
    ) -> None:
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be within 0..1 (got {fault_rate})")
        self.page_lines = page_lines
        self.dataset = dataset if dataset is not None else Dataset(articles, seed)
        self.seed = self.dataset.seed
        self.holdings = Holdings(self.dataset, self.seed)
        self.fault_rate = fault_rate
        self.requests = ArchiveRequests()
        self._seen: Counter[str] = Counter()
        self._seen_lock = threading.Lock()
        self._server = _Server((HOST, port), self)
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None
        by_url: dict[str, list[Snapshot]] = {}
        for snap in self.holdings.snapshots[WAYBACK]:
            by_url.setdefault(snap.urlkey, []).append(snap)
        self._wayback_by_key = by_url

    @property
    def url(self) -> str:
        """The server's base URL: http://127.0.0.1:PORT."""
        return f"http://{HOST}:{self.port}"

    def settings(self) -> dict[str, str]:
        """Return the settings that point a crawl at these archives."""
        return {
            "WAYBACK_URL": self.url + WAYBACK_PREFIX,
            "COMMONCRAWL_INDEX_URL": self.url + CC_INDEX_PREFIX,
            "COMMONCRAWL_DATA_URL": self.url + CC_DATA_PREFIX,
        }

    def truth(
        self, archive: str, base_url: str = SITE, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Return what an archive holds: each article as of its newest good capture, oldest first.

        ``since``: only captures from then on (what a backfill's ``from`` asks for)."""
        best = self.holdings.good(archive, since)
        out = []
        for meta in self.dataset.metas:
            snap = best.get(meta.id)
            if snap is None:
                continue
            assert snap.rendered is not None
            record = self.dataset.truth(meta, to_minute(snap.rendered), base_url)
            record["published_at"] = record["page_published_at"]
            record["captured_at"] = snap.timestamp
            record["deleted"] = meta.deleted is not None
            out.append(record)
        return out

    def snapshots(self, archive: str) -> list[Snapshot]:
        """Return every capture an archive holds, in index order."""
        return list(self.holdings.snapshots[archive])

    # --- answers ---

    def _fault(self, target: str) -> tuple[int, dict[str, str]] | None:
        with self._seen_lock:
            attempt = self._seen[target]
            self._seen[target] = attempt + 1
        if self.fault_rate <= 0:
            return None
        roll = stable_hash(self.seed, "archive", target, attempt)
        if (roll >> 16) / float(1 << 48) >= self.fault_rate:
            return None
        return (429, {"Retry-After": "1"}) if roll % 2 else (503, {})

    def answer(self, target: str, byte_range: str | None) -> tuple[str, int, dict[str, str], bytes]:
        """Return (kind, status, headers, body) for a request target."""
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        kind = self._kind(path)
        fault = self._fault(target)
        if fault is not None and kind != "other":
            status, headers = fault
            return kind, status, headers, b"<html><body>Slow down</body></html>\n"
        if kind == "cdx":
            body = wayback_cdx(self.holdings.snapshots[WAYBACK], query).encode()
            return kind, 200, {"Content-Type": "text/plain; charset=utf-8"}, body
        if kind == "replay":
            return (kind, *self._replay(target))
        if kind == "collinfo":
            return kind, 200, {"Content-Type": "application/json"}, self._collinfo()
        if kind == "index":
            crawl = path.removeprefix(CC_INDEX_PREFIX + "/").removesuffix("-index")
            if crawl not in {c for c, _, _ in CRAWLS}:
                return kind, 404, {}, b"no such crawl\n"
            status, text = cc_index(
                self.holdings.snapshots[COMMONCRAWL], crawl, query, self.page_lines
            )
            return kind, status, {"Content-Type": "text/x-ndjson"}, text.encode()
        if kind == "record":
            return (kind, *self._record(path.removeprefix(CC_DATA_PREFIX + "/"), byte_range))
        return kind, 404, {"Content-Type": HTML}, b"<html><body>Not found</body></html>\n"

    @staticmethod
    def _kind(path: str) -> str:
        if path == WAYBACK_PREFIX + "/cdx/search/cdx":
            return "cdx"
        if path.startswith(WAYBACK_PREFIX + "/web/"):
            return "replay"
        if path == CC_INDEX_PREFIX + "/collinfo.json":
            return "collinfo"
        if path.startswith(CC_INDEX_PREFIX + "/") and path.endswith("-index"):
            return "index"
        if path.startswith(CC_DATA_PREFIX + "/"):
            return "record"
        return "other"

    def _replay(self, target: str) -> tuple[int, dict[str, str], bytes]:
        match = re.match(rf"^{WAYBACK_PREFIX}/web/(\d{{1,14}})(?:[a-z]{{2}}_)?/(.+)$", target)
        if not match:
            return 404, {}, b"bad replay URL\n"
        stamp, original = _pad(match[1], False), match[2]
        captures = self._wayback_by_key.get(surt(original), [])
        if not captures:
            return 404, {"Content-Type": HTML}, b"<html><body>Not in the archive</body></html>"
        snap = min(captures, key=lambda s: (abs(int(s.timestamp) - int(stamp)), s.timestamp))
        if snap.timestamp != stamp:
            where = f"{self.url}{WAYBACK_PREFIX}/web/{snap.timestamp}id_/{snap.url}"
            return 302, {"Location": where}, b""
        headers = {
            "Content-Type": HTML if snap.mime == "text/html" else snap.mime,
            "Memento-Datetime": snap.moment.astimezone(timezone.utc).strftime(
                "%a, %d %b %Y %H:%M:%S GMT"
            ),
        }
        if snap.location:
            headers["Location"] = snap.location
        return snap.status, headers, snap.body

    def _collinfo(self) -> bytes:
        crawls = [
            {
                "id": crawl,
                "name": f"{crawl} Index",
                "timegate": f"{self.url}{CC_INDEX_PREFIX}/{crawl}/",
                "cdx-api": f"{self.url}{CC_INDEX_PREFIX}/{crawl}-index",
                "from": f"{start}T00:00:00",
                "to": f"{end}T23:59:59",
            }
            for crawl, start, end in reversed(CRAWLS)
        ]
        return json.dumps(crawls, indent=1).encode()

    def _record(self, name: str, byte_range: str | None) -> tuple[int, dict[str, str], bytes]:
        data = self.holdings.files.get(name)
        if data is None:
            return 404, {}, b"NoSuchKey\n"
        if not byte_range:
            return 200, {}, data
        match = re.fullmatch(r"\s*bytes=(\d+)-(\d+)\s*", byte_range)
        if not match or int(match[1]) > int(match[2]) or int(match[1]) >= len(data):
            return 416, {"Content-Range": f"bytes */{len(data)}"}, b""
        first, last = int(match[1]), min(int(match[2]), len(data) - 1)
        return 206, {"Content-Range": f"bytes {first}-{last}/{len(data)}"}, data[first : last + 1]

    # --- running ---

    def start(self) -> ArchiveReplica:
        """Serve in a daemon thread; return self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name=f"archives-{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and free the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> ArchiveReplica:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    """Serve the archives until SIGINT or SIGTERM: python -m tests.replica.archives --port P."""
    import argparse
    import signal
    import sys

    parser = argparse.ArgumentParser(prog="python -m tests.replica.archives")
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1; 0: any")
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--truth", metavar="DIR", help="write wayback.jsonl and commoncrawl.jsonl")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        archives = ArchiveReplica(args.articles, args.seed, port=args.port)
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 1
    if args.truth:
        from pathlib import Path

        folder = Path(args.truth)
        folder.mkdir(parents=True, exist_ok=True)
        for archive in (WAYBACK, COMMONCRAWL):
            with (folder / f"{archive}.jsonl").open("w", encoding="utf-8") as out:
                for record in archives.truth(archive):
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
    with archives:
        settings = " ".join(f"-s {k}={v}" for k, v in archives.settings().items())
        print(
            f"archives: serving captures of {args.articles} articles at {archives.url}/ "
            f"({settings})",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
