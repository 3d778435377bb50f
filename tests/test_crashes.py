"""No page can crash extraction or a pipeline: an exception becomes a reject naming the stage.

In extraction (``item_from_response``), in every pipeline (``crawler.process.guard``: the crawl's
``ITEM_PROCESSOR`` and the offline ``ItemProcessor``), in a whole crawl, in ``extract`` and in
``reextract``. The crash classes met on real pages are in the bad-input catalogue
(tests/test_bad_input.py); here the raising is deliberate (tests/crashing.py, switched on by
settings only).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

import crawler.extract.response as response_module
from crawler.extract.crash import crash_reason
from crawler.extract.response import item_from_response
from crawler.items import ArticleItem, RejectItem
from crawler.process.guard import GuardedPipelineManager
from crawler.process.processing import ItemProcessor, project_settings
from crawler.store.archive import Archive, iter_records
from tests.badsite import article_html
from tests.crashing import CRASH_MESSAGE, pipelines_with_crash
from tests.crawling import REPO, archive_lines, run_crawl
from tests.replica import Replica

URL = "https://baonamdinh.vn/channel/5083/202201/bai-viet-2548123/"
FETCHED_AT = "2022-01-15T09:30:00+07:00"
PAGE = article_html(2548123).encode("utf-8")


def response(body: bytes = PAGE) -> HtmlResponse:
    return HtmlResponse(url=URL, body=body, status=200,
                        headers={"Content-Type": "text/html; charset=utf-8"})


@pytest.mark.parametrize(("exc", "reason"), [
    (IndexError("list index out of range"), "crash in extract: IndexError: list index out of range"),
    (RuntimeError(), "crash in extract: RuntimeError"),
    (RecursionError("maximum recursion\n depth exceeded"),
     "crash in extract: RecursionError: maximum recursion depth exceeded"),
])
def test_an_exception_in_extraction_is_a_reject_naming_it(monkeypatch, caplog, exc, reason):
    def explode(*args, **kwargs):
        raise exc

    monkeypatch.setattr(response_module, "extract_article", explode)
    item = item_from_response(response(), fetched_at=FETCHED_AT)
    assert isinstance(item, RejectItem)
    assert (item.stage, item.reason, item.id, item.retryable) == ("extract", reason, "2548123",
                                                                  False)
    assert "Traceback" in caplog.text  # the bug stays visible in the log, with the page's URL
    assert URL in caplog.text


def test_a_crash_reason_is_one_bounded_line():
    reason = crash_reason("dates", ValueError("x\n" * 1000))
    assert "\n" not in reason and len(reason) < 400
    assert reason.startswith("crash in dates: ValueError: x x x")


def test_an_exception_in_a_pipeline_becomes_a_reject_that_the_archive_writes(tmp_path):
    settings = project_settings({"ITEM_PIPELINES": pipelines_with_crash(),
                                 "CRASH_TEST_IDS": "2548123", "ARCHIVE_DIR": str(tmp_path),
                                 "ARCHIVE_FSYNC": False})
    item = item_from_response(response(), fetched_at=FETCHED_AT)
    assert isinstance(item, ArticleItem)
    with ItemProcessor(settings) as processor:
        result, dropped = processor.process(item)
        other = item_from_response(response(article_html(2548124).encode()),
                                   fetched_at=FETCHED_AT)
        other.id = "2548124"
        kept, _ = processor.process(other)
        stats = processor.stats.get_stats()
    assert dropped is None and isinstance(result, RejectItem)
    assert result.stage == "crashing"
    assert result.reason == f"crash in crashing: RuntimeError: {CRASH_MESSAGE} on article 2548123"
    assert result.record["title"] == item.title  # the partial record is kept
    assert isinstance(kept, ArticleItem)  # the next item is not affected
    [reject] = iter_records(tmp_path, "rejects")
    assert reject["reason"] == result.reason and reject["id"] == "2548123"
    assert stats["archive/crashes/crashing"] == 1


def test_an_exception_in_the_archive_itself_is_offered_to_it_as_a_reject(tmp_path, monkeypatch):
    # A bug, not a storage failure: a full disk stops the run instead (tests/test_faults.py).
    def broken(self, record):
        raise TypeError("a bug in the archive")

    monkeypatch.setattr(Archive, "store_article", broken)
    settings = project_settings({"ARCHIVE_DIR": str(tmp_path), "ARCHIVE_FSYNC": False})
    with ItemProcessor(settings) as processor:
        result, _ = processor.process(item_from_response(response(), fetched_at=FETCHED_AT))
    assert isinstance(result, RejectItem) and result.stage == "archive"
    assert result.reason.startswith("crash in archive: TypeError: a bug in the archive")
    [reject] = iter_records(tmp_path, "rejects")
    assert reject["reason"] == result.reason


def test_extract_command_exits_1_with_the_crash_as_reason(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(PAGE)
    done = subprocess.run(
        [sys.executable, "-m", "crawler", "extract", str(page), "--url", URL,
         "--fetched-at", FETCHED_AT, "-s", f"ITEM_PIPELINES={pipelines_with_crash()}",
         "-s", "CRASH_TEST_IDS=2548123"],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert (f"rejected (crashing): crash in crashing: RuntimeError: {CRASH_MESSAGE}"
            in done.stderr)


@pytest.mark.slow
def test_a_crawl_in_which_one_page_raises_loses_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with Replica(articles=40, seed=3, crawl_delay=0, fault_rate=0.0) as site:
        truth = site.truth()
        victim = truth[len(truth) // 2]["id"]
        settings = {"ITEM_PIPELINES": pipelines_with_crash(), "CRASH_TEST_IDS": victim}
        done = run_crawl(site.url, archive, settings=settings)
        site_url = site.url
    archived = {line["id"] for line in archive_lines(archive)}
    assert archived == {t["id"] for t in truth} - {victim}
    rejects = list(iter_records(archive, "rejects"))
    assert [(r["id"], r["stage"]) for r in rejects] == [(victim, "crashing")]
    assert rejects[0]["reason"].startswith(f"crash in crashing: RuntimeError: {CRASH_MESSAGE}")
    assert rejects[0]["record"]["id"] == victim and rejects[0]["capture"]
    assert "archive/crashes/crashing': 1" in done.stderr

    # Re-extracting the crawl's captures with the same fault gives the same reject.
    fresh = tmp_path / "fresh"
    rx = subprocess.run(
        [sys.executable, "-m", "crawler", "reextract", *map(str, sorted(
            (archive / "raw").glob("*.warc.gz"))), "--archive-dir", str(fresh),
         "-s", f"SITE_URL={site_url}", "-s", "SITE_HOST_ALIASES=localhost",
         "-s", "ARCHIVE_FSYNC=False", "-s", f"ITEM_PIPELINES={pipelines_with_crash()}",
         "-s", f"CRASH_TEST_IDS={victim}"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rx.returncode == 0, rx.stderr[-3000:]
    assert f"articles {len(truth) - 1} new" in rx.stderr and "; 1 rejected" in rx.stderr
    [again] = iter_records(fresh, "rejects")
    assert json.dumps(again, sort_keys=True) == json.dumps(rejects[0], sort_keys=True)


def test_the_crawl_item_processor_turns_a_crash_into_a_reject_for_the_later_stages():
    seen: list = []

    class Later:
        def process_item(self, item):
            seen.append(item)
            if getattr(item, "id", None) == "drop-me":
                raise DropItem("dropped on purpose")
            return item

    crawler = get_crawler(settings_dict={
        "ITEM_PIPELINES": {"tests.crashing.CrashingPipeline": 100},
        "CRASH_TEST_IDS": "2548123"})
    manager = GuardedPipelineManager.from_crawler(crawler)
    manager._add_middleware(Later())
    item = item_from_response(response(), fetched_at=FETCHED_AT)
    out = asyncio.run(manager.process_item_async(item))
    assert isinstance(out, RejectItem) and out.stage == "crashing"
    assert seen == [out]  # the pipeline after the failing one received the reject
    dropped = ArticleItem(url=URL, fetched_at=FETCHED_AT, id="drop-me")
    with pytest.raises(DropItem):  # an expected drop stays a drop
        asyncio.run(manager.process_item_async(dropped))
