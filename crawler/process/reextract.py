"""Re-extraction: rebuilds the articles of WARC captures into an archive, offline, through the
crawl's own pipelines.

Each WARC file is read once, in the order given. Every record is indexed as it is read
(crawler/process/captures.py: responses for revisits, requests' referers, what each captured
listing lists, so a time of day the crawl recovered from a listing is recovered again). Each
captured article page becomes a Scrapy response exactly as the crawl's spider received it, then
``item_from_response`` with the capture's time as ``fetched_at``, then ITEM_PIPELINES: the
extraction and the pipelines up to validation in PROCESSING_WORKERS worker processes while the
files are read (crawler/process/workers.py), with the listing text known so far; their results
wait, in capture order, in a temporary file. Once every file is read and the index is whole,
the results go to the archive in capture order (a later capture of an article is its newer
version), as if the index had been whole from the start: a page whose listing text the rest of
the files changed, and every revisit record (its original may come later), is read again from
its file and extracted here.

Decisions (also in docs/archive.md, "Raw captures (WARC) and re-extraction"):
- 200 pages become articles (or rejects, as in a crawl); 404/410 of an article URL become the same
  "HTTP 404" reject a crawl writes; other statuses (3xx, 5xx, ...) are skipped and counted, since
  the crawl followed or retried them. A retryable reject (a truncated page) is skipped as
  superseded when a later capture of the same article follows, as the crawl's retry did.
- The listing text of an article comes from the page its request's Referer names, when that
  page was captured; else from the first captured listing that lists it.
- Canonical URLs are built from the SITE_URL setting, never guessed from the captures: a capture
  of a host outside SITE_URL and SITE_HOST_ALIASES is skipped as offsite (and a warning says to
  pass ``-s SITE_URL=...`` when nothing else was found).
- A damaged range of a file (a truncated end, garbage, corrupted bytes in a record) is skipped:
  reading goes on at the next record that begins whole (crawler/sources/warc_reader.py), a
  WARNING names the file, offset and length, and the summary lists every range.
- Answers of a web archive (a backfill with -a source=wayback or commoncrawl: a Wayback replay
  under WAYBACK_URL, a Common Crawl range answer under COMMONCRAWL_DATA_URL) are read as the
  crawl read them (crawler/sources/pages.py): the page they hold, with its ``origin`` and the
  archive's capture time as ``fetched_at``. A capture that is no article is a reject only when
  no other capture of the same article gave one, as the crawl's fallback did. (They are
  extracted in this process, in capture order, once every file is read.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import pickle
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.recordloader import ArcWarcRecord

from crawler.extract.response import item_from_response, read_page
from crawler.items import ArticleItem, RejectItem
from crawler.normalise.dates import VN_TZ
from crawler.process.captures import CaptureIndex
from crawler.process.processing import ItemProcessor, worker_safe_prefix
from crawler.process.workers import InlinePool, WorkerPool, make_pool, replay
from crawler.site.urls import host_of, parse_article_url, site_hosts
from crawler.sources import fetched_at_of as capture_time
from crawler.sources import origin_of
from crawler.sources.pages import capture_of_answer, page_of
from crawler.sources.warc_reader import (
    Capture,
    Damage,
    Location,
    NotAWarc,
    http_of,
    iter_warc,
)
from crawler.sources.warc_reader import (
    record_id as warc_record_id,
)
from crawler.store.warc import fetched_at_of

logger = logging.getLogger(__name__)

STATS = "archive/warc/reextract"
# Statuses of an article URL that a crawl turns into a reject (a deleted article).
REJECTED_STATUSES = frozenset({404, 410})


@dataclass
class Summary:
    """What a re-extraction did, for the one-line report."""

    articles: Counter = field(default_factory=Counter)
    rejected: int = 0
    revisits: int = 0
    skipped: Counter = field(default_factory=Counter)
    damaged: list[Damage] = field(default_factory=list)
    files: int = 0
    seconds: float = 0.0

    @property
    def extracted(self) -> int:
        return sum(self.articles.values())

    def line(self) -> str:
        """Return the one-line summary printed by ``python -m crawler reextract``."""
        a = self.articles
        skipped = ", ".join(f"{reason} {n}" for reason, n in sorted(self.skipped.items()))
        files = len({d.path for d in self.damaged})
        damaged = (f"damaged: {len(self.damaged)} range(s), {sum(d.length for d in self.damaged)}"
                   f" bytes in {files} file(s), skipped" if self.damaged else "damaged: none")
        rate = self.extracted / self.seconds if self.seconds > 0 else 0.0
        return (f"reextract: {self.files} WARC file(s); articles {a['new']} new, "
                f"{a['updated']} updated, {a['unchanged']} unchanged; {self.rejected} rejected; "
                f"{self.revisits} from revisit records; "
                f"skipped {sum(self.skipped.values())}"
                + (f" ({skipped})" if skipped else "")
                + f"; {damaged}; {self.seconds:.2f} s, {rate:.1f} articles/s")

    def damage_lines(self) -> list[str]:
        """Return one plain-text line per damaged range: file, offset, length, cause."""
        return [f"damaged: {d.path}: offset {d.offset}, {d.length} bytes skipped "
                f"(bytes {d.offset}-{d.offset + d.length - 1}): {d.cause}" for d in self.damaged]


# Pages read ahead of the oldest one a worker has not answered: enough to keep every worker
# busy, few enough to hold in memory.
READ_AHEAD = 64


@dataclass
class _Entry:
    """An article capture as the read left it, in capture order: what was decided then, and
    what waits for the whole index (its rank among the article's captures, the listing text)."""

    kind: str  # "skip" (reason), "reject" (item), "page" (outcome), "again" (read it again)
    key: str | None = None  # the article's
    where: Location | None = None
    reason: str | None = None
    item: Any = None  # the reject; the page until a worker has answered for it
    record_id: str = ""
    date: str = ""
    listing_raw: str | None = None  # the listing text the page was extracted with
    outcome: Any = None  # what the workers made of the page (crawler/process/workers.py)


class _Seen:
    """How many captures of each article settling has met (in the index's scratch database)."""

    def __init__(self, index: CaptureIndex):
        self.index = index
        index.db.execute("DELETE FROM seen")

    def add(self, key: str) -> bool:
        """Count one more capture of the article; True when later captures of it follow."""
        db = self.index.db
        db.execute("INSERT INTO seen(key, n) VALUES(?, 1) ON CONFLICT(key) DO UPDATE SET n = n + 1",
                   (key,))
        (n,) = db.execute("SELECT n FROM seen WHERE key = ?", (key,)).fetchone()
        return n < self.index.article_captures(key)


class Reextractor:
    """Re-extracts the article captures of WARC files through an ItemProcessor."""

    def __init__(self, processor: ItemProcessor, *, archive_dir: str | os.PathLike[str]):
        self.processor = processor
        self.stats = processor.stats
        settings = processor.crawler.settings
        self.site_url = settings.get("SITE_URL").rstrip("/")
        self.hosts = site_hosts(self.site_url, settings.getlist("SITE_HOST_ALIASES"))
        self.archive_dir = Path(archive_dir)
        self.wayback_url = settings.get("WAYBACK_URL")
        self.data_url = settings.get("COMMONCRAWL_DATA_URL")
        self.index_url = settings.get("COMMONCRAWL_INDEX_URL")
        self.archive_prefixes = tuple(u.rstrip("/") + "/" for u in
                                      (self.wayback_url, self.data_url, self.index_url) if u)
        self.summary = Summary()
        # Filled as the files are read.
        self.index = CaptureIndex(processor.crawler, hosts=self.hosts,
                                  archive_dir=self.archive_dir)
        # The pipelines the workers run before the archive (crawler/process/workers.py).
        self.split = worker_safe_prefix(processor.pipelines)
        self._fallback: InlinePool | None = None

    # --- reading: every file once, each record indexed, each article page sent to a worker ---

    async def read(self, paths: list[Path], pool: WorkerPool | InlinePool, spill: Any) -> int:
        """Index every record of the files and plan each article capture, in order, into
        ``spill`` (pickles); return how many entries it holds."""
        window: deque[tuple[_Entry, asyncio.Future[Any] | None]] = deque()
        count = 0
        for path in paths:
            damage: list[Damage] = []
            try:
                for record, offset, length, payload in iter_warc(path, damage):
                    where = Location(path, offset)
                    self.index.add(record, where, payload)
                    entry = self._plan(record, where, length, payload)
                    if entry is None:
                        continue
                    task = asyncio.ensure_future(pool.process(entry.item)) \
                        if entry.kind == "page" else None
                    window.append((entry, task))
                    await asyncio.sleep(0)  # let the page go out to its worker
                    while window and (window[0][1] is None or window[0][1].done()
                                      or len(window) > READ_AHEAD):
                        await self._keep(*window.popleft(), spill)
                        count += 1
            except NotAWarc as exc:
                damage.append(Damage(path, 0, path.stat().st_size, str(exc)))
            except OSError as exc:
                damage.append(Damage(path, 0, 0, f"cannot read it: {exc}"))
            self._damaged(damage)
        while window:
            await self._keep(*window.popleft(), spill)
            count += 1
        return count

    def _damaged(self, damage: list[Damage]) -> None:
        """Count and log the damaged ranges of one file (read past: the rest was used)."""
        if damage:
            self.stats.inc_value(f"{STATS}/damaged_files")
        for d in damage:
            self.summary.damaged.append(d)
            self.stats.inc_value(f"{STATS}/damaged_ranges")
            self.stats.inc_value(f"{STATS}/damaged_bytes", d.length)
            logger.warning("WARC file %s is damaged at offset %s: %s bytes skipped (%s); the "
                           "records after it are used", d.path, d.offset, d.length, d.cause)

    async def _keep(self, entry: _Entry, task: asyncio.Future[Any] | None, spill: Any) -> None:
        """Write an entry to the spill file once its worker has answered."""
        if task is not None:
            try:
                entry.outcome = await task
            except Exception as exc:  # noqa: BLE001 - a worker's trouble must lose no page
                logger.error("re-extraction: %s; %s is extracted in this process", exc,
                             entry.item.url)
                entry.outcome = await self._inline().process(entry.item)
            entry.item = None
        pickle.dump(entry, spill, pickle.HIGHEST_PROTOCOL)

    def _inline(self) -> InlinePool:
        if self._fallback is None:
            self._fallback = InlinePool(self.processor.crawler.settings)
        return self._fallback

    def _plan(self, record: ArcWarcRecord, where: Location, length: int,
              payload: bytes) -> _Entry | None:
        """Decide what can be decided about a record while reading (the rest waits for the
        whole index: see ``settle``); return its entry, or None when it is no article capture."""
        kind = record.rec_type
        if kind not in ("response", "revisit"):
            return None
        uri = (record.rec_headers.get_header("WARC-Target-URI") or "").strip("<>")
        status, http_headers = http_of(record)
        if status is None:
            self._skip("not-http")
            return None
        if kind == "revisit":
            # Its original may be in a file not read yet: taken up once every file is read.
            return _Entry("again", where=where)
        if self.archive_prefixes and uri.startswith(self.archive_prefixes):
            # A web archive's answer: read as the crawl read it, here, once the index is whole.
            return _Entry("again", where=where)
        capture = self.index.capture(record, where, length, payload, status, http_headers)
        if host_of(uri) not in self.hosts:
            self._skip("offsite")
            return None
        ref = parse_article_url(uri)
        if ref is None:
            self._skip("listing" if self.index.is_listing(uri) else "not-article")
            return None
        if capture.status != 200 and capture.status not in REJECTED_STATUSES:
            return _Entry("skip", ref.key, reason=f"http-{capture.status // 100}xx")
        response = self.index.response(capture)
        if response is None:
            return _Entry("skip", ref.key, reason="undecodable")
        listing_raw = self.index.listing_raw(record, ref.key, capture.date)
        page = read_page(response, fetched_at=fetched_at_of(capture.date),
                         site_url=self.site_url, listing_raw=listing_raw,
                         capture=self.index.capture_info(capture), hosts=self.hosts)
        if isinstance(page, RejectItem):
            return _Entry("reject", ref.key, where=where, item=page)
        return _Entry("page", ref.key, where=where, item=page, record_id=warc_record_id(record),
                      date=capture.date, listing_raw=listing_raw)

    # --- settling: in capture order, with the whole index ----------------------------------

    def settle(self, spill: Any, count: int) -> None:
        """Take the entries in capture order to the archive, now that the index is whole."""
        spill.seek(0)
        seen = _Seen(self.index)
        for _ in range(count):
            entry: _Entry = pickle.load(spill)
            if entry.kind == "page" and entry.listing_raw != self.index.listing_raw_of(
                    entry.record_id, entry.key or "", entry.date):
                entry.kind = "again"  # a listing read later tells another time: extract anew
            if entry.kind == "again":
                assert entry.where is not None
                record, length, payload = self.index.read_record(entry.where)
                self._extract_record(record, entry.where, length, payload, seen)
                continue
            later = seen.add(entry.key or "")
            if entry.kind == "skip":
                self._skip(entry.reason or "")
                continue
            if entry.kind == "reject":
                item = entry.item
                if item.retryable and later:
                    self._skip("superseded")
                    continue
                self.stats.inc_value(f"{STATS}/articles")
                self._tally(*self.processor.process(item))
                continue
            self.stats.inc_value(f"{STATS}/articles")
            item, dropped = replay(entry.outcome, self.stats)
            self._tally(*(self.processor.process(item, start=self.split) if dropped is None
                          else (None, dropped)))
        # Archive captures that gave no article, and no other capture of theirs did either.
        for (blob,) in self.index.db.execute(
                "SELECT item FROM archive_rejects ORDER BY rowid").fetchall():
            self._process(pickle.loads(blob), "response")
        self.index.db.execute("DELETE FROM archive_rejects")

    def _tally(self, result: Any, dropped: str | None) -> None:
        if dropped is not None:
            self.summary.articles["unchanged"] += 1
        elif isinstance(result, RejectItem):
            self.summary.rejected += 1
        elif isinstance(result, ArticleItem):
            self.summary.articles["new" if result.version == 1 else "updated"] += 1

    def _skip(self, reason: str) -> None:
        self.summary.skipped[reason] += 1
        self.stats.inc_value(f"{STATS}/skipped/{reason}")

    def _extract_record(self, record: ArcWarcRecord, where: Location, length: int,
                        payload: bytes, seen: _Seen) -> None:
        """Extract one record here, from start to archive, with the whole index."""
        kind = record.rec_type
        if kind not in ("response", "revisit"):
            return
        uri = (record.rec_headers.get_header("WARC-Target-URI") or "").strip("<>")
        status, http_headers = http_of(record)
        if status is None:
            self._skip("not-http")
            return
        if kind == "revisit":
            resolved = self.index.resolve_revisit(record, where, length, status, http_headers)
            if resolved is None:
                self._skip("revisit-unresolved")
                return
            capture = resolved
        else:
            capture = self.index.capture(record, where, length, payload, status, http_headers)
        if self._archive_answer(capture):
            return
        if host_of(uri) not in self.hosts:
            self._skip("offsite")
            return
        ref = parse_article_url(uri)
        if ref is None:
            self._skip("listing" if self.index.is_listing(uri) else "not-article")
            return
        later = seen.add(ref.key)
        if capture.status != 200 and capture.status not in REJECTED_STATUSES:
            self._skip(f"http-{capture.status // 100}xx")
            return
        response = self.index.response(capture)
        if response is None:
            self._skip("undecodable")
            return
        info = self.index.capture_info(capture)
        item = item_from_response(response, fetched_at=info["fetched_at"],
                                  site_url=self.site_url,
                                  listing_raw=self.index.listing_raw(record, ref.key, capture.date),
                                  capture=info, hosts=self.hosts)
        if isinstance(item, RejectItem) and item.retryable and later:
            self._skip("superseded")
            return
        self._process(item, kind)

    def _process(self, item: ArticleItem | RejectItem, kind: str) -> None:
        """Take one item through every pipeline here, and count it."""
        self.stats.inc_value(f"{STATS}/articles")
        if kind == "revisit":
            self.summary.revisits += 1
            self.stats.inc_value(f"{STATS}/revisits")
        self._tally(*self.processor.process(item))

    def _archive_answer(self, capture: Capture) -> bool:
        """Re-extract a web archive's answer as the crawl did; False when it is none."""
        if not self.archive_prefixes or not capture.url.startswith(self.archive_prefixes):
            return False
        response = self.index.response(capture)
        archived = capture_of_answer(response, self.hosts, wayback_url=self.wayback_url,
                                     data_url=self.data_url) if response is not None else None
        if response is None or archived is None:
            # The archive's index answers, and captures of other pages.
            self._skip("archive-index")
            return True
        if capture.status not in (200, 206, *REJECTED_STATUSES):
            self._skip(f"http-{capture.status // 100}xx")
            return True
        page, archived, trouble = page_of(response, archived)
        info, origin = self.index.capture_info(capture), origin_of(archived, response.url)
        fetched_at = capture_time(archived)
        item: ArticleItem | RejectItem = RejectItem(
            url=archived.original_url, reason=trouble, stage="fetch", fetched_at=fetched_at,
            id=archived.ref.id, retryable=True, http_status=capture.status, capture=info,
            origin=origin) if page is None else item_from_response(
            page, fetched_at=fetched_at, site_url=self.site_url, capture=info, origin=origin,
            hosts=self.hosts)
        self.stats.inc_value(f"{STATS}/archive_answers")
        # Rejects of archive captures wait: another capture of the same article may give it.
        if isinstance(item, RejectItem):
            self.index.db.execute("INSERT OR IGNORE INTO archive_rejects(key, item) VALUES(?, ?)",
                                  (archived.ref.key, pickle.dumps(item, pickle.HIGHEST_PROTOCOL)))
            return True
        self.index.db.execute("DELETE FROM archive_rejects WHERE key = ?", (archived.ref.key,))
        self._process(item, "response")
        return True

    def run(self, paths: list[Path]) -> Summary:
        """Read the files (extracting in worker processes), then archive; return the summary."""
        started = time.perf_counter()
        self.summary.files = len(paths)
        try:
            with tempfile.TemporaryFile(prefix="reextract-") as spill:
                count = asyncio.run(self._read_with_pool(paths, spill))
                self.settle(spill, count)
        finally:
            self.index.close()
        if self._fallback is not None:
            asyncio.run(self._fallback.close())
        self.summary.seconds = time.perf_counter() - started
        if self.summary.skipped.get("offsite") and not self.summary.extracted \
                and not self.summary.rejected:
            logger.warning("every capture was outside %s (and SITE_HOST_ALIASES): pass "
                           "-s SITE_URL=<the captured site's base URL>", self.site_url)
        return self.summary


    async def _read_with_pool(self, paths: list[Path], spill: Any) -> int:
        pool = make_pool(self.processor.crawler.settings)
        await pool.start()
        try:
            return await self.read(paths, pool, spill)
        finally:
            await pool.close()


def reextract(paths: list[Path], settings: Any) -> Summary:
    """Re-extract the article captures of WARC files into ARCHIVE_DIR; return what happened."""
    with ItemProcessor(settings) as processor:
        return Reextractor(processor, archive_dir=settings.get("ARCHIVE_DIR")).run(paths)


def default_archive_dir(now: dt.datetime | None = None) -> str:
    """Return the name of a fresh archive folder: ``reextract-YYYYmmddTHHMMSS`` (Vietnam time)."""
    return f"reextract-{(now or dt.datetime.now(VN_TZ)).strftime('%Y%m%dT%H%M%S')}"
