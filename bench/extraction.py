"""Extraction benchmark: our page-to-record path against trafilatura on the same replica pages."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stats import summary, token_f1
from crawler.extract.response import item_from_response, response_from_file
from crawler.items import ArticleItem
from crawler.process.processing import ItemProcessor, project_settings

FETCH_TIMEOUT = 10.0
WARMUP_PAGES = 10


@dataclass(frozen=True)
class Page:
    """One article page fetched from the replica, with its truth line."""

    url: str
    body: bytes
    truth: dict[str, Any]


def fetch_pages(truth: list[dict[str, Any]], count: int) -> list[Page]:
    """Fetch ``count`` article pages spread evenly over the truth (oldest to newest), once each."""
    step = max(1, len(truth) // count)
    chosen = truth[::step][:count]
    pages = []
    for line in chosen:
        with urllib.request.urlopen(line["url"], timeout=FETCH_TIMEOUT) as answer:
            pages.append(Page(url=line["url"], body=answer.read(), truth=line))
    return pages


def _ours(processor: ItemProcessor, page: Page, fetched_at: str, site_url: str
          ) -> dict[str, Any] | None:
    """Return our record of a page (item_from_response, then every pipeline), or None."""
    response = response_from_file(page.body, page.url)
    item = item_from_response(response, fetched_at=fetched_at, site_url=site_url)
    if not isinstance(item, ArticleItem):
        return None
    result, _dropped = processor.process(item)
    return result.to_record() if isinstance(result, ArticleItem) else None


def _trafilatura(page: Page) -> dict[str, Any] | None:
    """Return trafilatura's JSON output (text, title, date) for a page, or None."""
    import trafilatura

    out = trafilatura.extract(page.body.decode("utf-8"), url=page.url, output_format="json",
                              with_metadata=True)
    return json.loads(out) if out else None


def _quality(outputs: list[tuple[Page, dict[str, Any] | None]], *, body: str, title: str,
             date: str, at: str | None) -> dict[str, float]:
    """Return mean body F1 and the shares of exact title, published_date and published_at."""
    n = len(outputs) or 1
    f1 = titles = dates = times = 0.0
    for page, out in outputs:
        out = out or {}
        truth = page.truth
        f1 += token_f1(out.get(body), truth["body"])
        titles += out.get(title) == truth["title"]
        dates += out.get(date) == truth["published_date"]
        # A page-only extractor can know the time only where the page prints a true one.
        times += (out.get(at) if at else None) == truth["page_published_at"]
    return {"body_f1": f1 / n, "title_exact": titles / n, "published_date": dates / n,
            "published_at": times / n, "articles": len(outputs)}


def run(pages: list[Page], *, fetched_at: str, site_url: str) -> dict[str, Any]:
    """Time and score both extractors on the same pages, interleaved page by page."""
    import trafilatura  # noqa: F401 - imported before timing starts

    settings = project_settings({"ARCHIVE_ENABLED": False})
    ours_times: list[float] = []
    ref_times: list[float] = []
    ours_out: list[tuple[Page, dict[str, Any] | None]] = []
    ref_out: list[tuple[Page, dict[str, Any] | None]] = []
    with ItemProcessor(settings) as processor:
        for page in pages[:WARMUP_PAGES]:
            _ours(processor, page, fetched_at, site_url)
            _trafilatura(page)
        for index, page in enumerate(pages):
            # Alternate which goes first so neither always runs on warm caches.
            order = ("ours", "ref") if index % 2 == 0 else ("ref", "ours")
            for who in order:
                started = time.perf_counter()
                if who == "ours":
                    ours_out.append((page, _ours(processor, page, fetched_at, site_url)))
                    ours_times.append(time.perf_counter() - started)
                else:
                    ref_out.append((page, _trafilatura(page)))
                    ref_times.append(time.perf_counter() - started)
    return {
        "pages": len(pages),
        "ours_ms": summary(ours_times, 1e3),
        "ref_ms": summary(ref_times, 1e3),
        "ours_quality": _quality(ours_out, body="body", title="title", date="published_date",
                                 at="published_at"),
        "ref_quality": _quality(ref_out, body="text", title="title", date="date", at=None),
        "ours_rejected": sum(out is None for _page, out in ours_out),
        "ref_empty": sum(out is None for _page, out in ref_out),
    }


def rate_on_warcs(warcs: list[Path], *, site_url: str) -> dict[str, Any]:
    """Time our extraction + normalisation alone, in this one process, on the article pages a
    crawl captured: each page as the crawl's spider received it (read from the WARC as
    ``reextract`` reads it), ``item_from_response`` then every pipeline but the archive, one
    call per page; the time of the calls only, not of reading the WARC. Then, timed apart, the
    archive alone on what that gave: the pipelines that need the archive (sections' keys, then
    the archive writing each record or reject) on a scratch archive, with the bench crawl's
    ``ARCHIVE_FSYNC=False``."""
    from crawler.process.captures import CaptureIndex
    from crawler.site.urls import parse_article_url
    from crawler.sources.warc_reader import Location, http_of, iter_warc
    from crawler.store.warc import fetched_at_of

    settings = project_settings({"ARCHIVE_ENABLED": False, "SITE_URL": site_url,
                                 "SITE_HOST_ALIASES": "localhost"})
    scratch = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    archive_settings = project_settings({"ARCHIVE_DIR": str(scratch), "ARCHIVE_FSYNC": False,
                                         "SITE_URL": site_url, "SITE_HOST_ALIASES": "localhost"})
    seconds, archive_seconds, pages, articles = 0.0, 0.0, 0, 0
    try:
        with ItemProcessor(settings) as processor, ItemProcessor(archive_settings) as archiver:
            reader = CaptureIndex(processor.crawler, hosts=frozenset(), archive_dir=".")
            # The archiver's pipelines are the processor's, then those that need the archive
            # (sections' keys, the archive itself), which the crawl runs in its own process.
            archive_stage = len(processor.pipelines)
            assert [type(p) for p in archiver.pipelines[:archive_stage]] == \
                [type(p) for p in processor.pipelines], (processor.pipelines, archiver.pipelines)
            for warc in warcs:
                for record, offset, length, payload in iter_warc(warc):
                    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                    status, headers = http_of(record)
                    if record.rec_type != "response" or status != 200 \
                            or not parse_article_url(uri):
                        continue
                    capture = reader.capture(record, Location(warc, offset), length, payload,
                                              status, headers)
                    response = reader.response(capture)
                    if response is None:
                        continue
                    started = time.perf_counter()
                    item = item_from_response(response, fetched_at=fetched_at_of(capture.date),
                                              site_url=site_url)
                    result, _dropped = processor.process(item)
                    seconds += time.perf_counter() - started
                    pages += 1
                    articles += isinstance(result, ArticleItem)
                    if result is not None:
                        started = time.perf_counter()
                        archiver.process(result, start=archive_stage)
                        archive_seconds += time.perf_counter() - started
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"pages": pages, "articles": articles, "seconds": seconds,
            "pages_per_second": pages / seconds if seconds else None,
            "archive_seconds": archive_seconds}
