"""Extraction in worker processes (crawler/process/workers.py): the same records, figures and log as
in one process, the archive in arrival order, nothing lost when a worker or the crawl dies."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem, PageItem
from crawler.process import workers as workers_module
from crawler.process.processing import project_settings
from crawler.process.reextract import reextract
from crawler.process.workers import ParallelPipelineManager, RecordingStats, replay, worker_count
from crawler.site.urls import parse_article_url
from crawler.sources.warc_reader import DamagedWarc, iter_warc
from tests.crashing import CRASH_MESSAGE, pipelines_with_crash
from tests.crawling import REPO, archive_lines, crawl_command, last_report, run_crawl
from tests.replica import Replica
from tests.scoring import score_archive

FETCHED_AT = "2025-06-28T23:59:00+07:00"


def _records(archive: Path, kind: str = "articles", *, any_alias: bool = False) -> list[str]:
    """Every line of an archive's kind, without what differs between two crawls (the fetch).

    ``any_alias``: the replica links some pages under its alias host (localhost), and which
    link a crawl meets first decides the host its photos' URLs are resolved against (so the
    content hash too): such records are compared with the host made one."""
    lines = []
    for path in sorted((archive / kind).glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            record = json.loads(line)
            drop = ("fetched_at", "capture") + (("content_hash",) if any_alias else ())
            for key in drop:
                record.pop(key, None)
                (record.get("record") or {}).pop(key, None)
            text = json.dumps(record, ensure_ascii=False, sort_keys=True)
            lines.append(text.replace("//localhost:", "//127.0.0.1:") if any_alias else text)
    return sorted(lines)


def _children(pid: int, name: str | None = None) -> list[int]:
    """Return the processes whose parent is ``pid`` (Linux /proc), those called ``name`` if
    given (the helpers name themselves: item-worker, warc-capture)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            command, fields = stat.split("(", 1)[1].rsplit(")", 1)
            if int(fields.split()[1]) == pid and name in (None, command):
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class _Recorder:
    """A last pipeline that records the order it is given items in."""

    def __init__(self) -> None:
        self.order: list[str] = []

    def process_item(self, item: Any) -> Any:
        self.order.append(item.url)
        return item


class _SlowFirstPool:
    """A stand-in pool that answers the first pages last."""

    def __init__(self, count: int) -> None:
        self.count = count

    def any_alive(self) -> bool:
        return True

    async def process(self, page: PageItem) -> tuple[Any, None, list[Any], list[Any]]:
        index = int(page.url.rsplit("-", 1)[1])
        await asyncio.sleep(0.01 * (self.count - index))
        stats = [("inc_value", ("test/worker_items", 1, 0), {})]
        return ArticleItem(url=page.url, fetched_at=page.fetched_at), None, stats, []


def test_the_archive_takes_items_in_arrival_order_whatever_order_workers_answer():
    crawler = get_crawler(settings_dict={"ITEM_PIPELINES": {}, "PROCESSING_WORKERS": 0})
    manager = ParallelPipelineManager.from_crawler(crawler)
    recorder = _Recorder()
    manager.main_methods = [recorder.process_item]
    manager.pool = _SlowFirstPool(6)
    pages = [PageItem(url=f"https://baonamdinh.vn/a-{i}", html="", fetched_at=FETCHED_AT)
             for i in range(6)]

    async def all_pages() -> list[Any]:
        return await asyncio.gather(*(manager.process_item_async(p) for p in pages))

    out = asyncio.run(all_pages())
    assert recorder.order == [p.url for p in pages]
    assert [o.url for o in out] == [p.url for p in pages]
    assert [p.outcome for p in pages] == out  # the run report reads a page's outcome
    assert crawler.stats.get_value("test/worker_items") == 6  # the workers' figures came back


def test_an_item_the_spider_made_itself_goes_through_every_pipeline_in_order():
    crawler = get_crawler(settings_dict={"ITEM_PIPELINES": {}, "PROCESSING_WORKERS": 0})
    manager = ParallelPipelineManager.from_crawler(crawler)
    early, late = _Recorder(), _Recorder()
    early.worker_safe = True  # as pipelines 100-600: a page's runs in a worker
    manager._add_middleware(early)
    manager._add_middleware(late)
    manager.main_methods = [late.process_item]
    manager.pool = _SlowFirstPool(2)
    page = PageItem(url="https://baonamdinh.vn/a-0", html="", fetched_at=FETCHED_AT)
    article = ArticleItem(url="https://baonamdinh.vn/a-1", fetched_at=FETCHED_AT)

    async def both() -> list[Any]:
        return await asyncio.gather(manager.process_item_async(page),
                                    manager.process_item_async(article))

    asyncio.run(both())
    assert early.order == [article.url]  # the page's early stages ran in the (stand-in) worker
    assert late.order == [page.url, article.url]


def test_a_workers_figures_are_replayed_as_made():
    crawler = get_crawler(settings_dict={})
    worker = RecordingStats(crawler)
    worker.inc_value("a", 2)
    worker.inc_value("a")
    worker.max_value("newest", "2025-01-02")
    worker.min_value("oldest", "2020-01-01")
    worker.set_value("x", "y")
    assert worker.get_value("a") == 3
    crawl = RecordingStats(crawler)
    crawl.max_value("newest", "2025-06-01")
    replay((None, None, worker.take(), []), crawl)
    assert worker.take() == []
    assert (crawl.get_value("a"), crawl.get_value("newest"), crawl.get_value("oldest"),
            crawl.get_value("x")) == (3, "2025-06-01", "2020-01-01", "y")


@pytest.mark.parametrize(("value", "cores", "crawl", "reextract"), [
    (None, 2, 1, 2), ("", 4, 3, 4), (None, 1, 0, 0),  # unset: the engine keeps one core
    ("0", 4, 0, 0), ("1", 4, 1, 1), ("3", 2, 3, 3),  # set: that many processes, 0 for none
])
def test_worker_count(monkeypatch: pytest.MonkeyPatch, value: str | None, cores: int,
                      crawl: int, reextract: int) -> None:
    monkeypatch.setattr(workers_module, "usable_cores", lambda: cores)
    monkeypatch.setattr(workers_module, "can_fork", lambda: True)
    settings = project_settings({"PROCESSING_WORKERS": value})
    assert worker_count(settings) == crawl
    assert worker_count(settings, beside_engine=False) == reextract
    monkeypatch.setattr(workers_module, "can_fork", lambda: False)
    assert worker_count(settings) == worker_count(settings, beside_engine=False) == 0


@pytest.mark.slow
def test_a_crawl_with_workers_is_the_crawl_without_them(tmp_path: Path) -> None:
    with Replica(articles=120, seed=21, crawl_delay=0) as site:
        truth = site.truth()
        victim = truth[len(truth) // 3]["id"]
        crash = {"ITEM_PIPELINES": pipelines_with_crash(), "CRASH_TEST_IDS": victim}
        runs = {}
        for workers in ("0", "1", "2"):  # everything in one process; workers and WARC capture
            done = run_crawl(site.url, tmp_path / workers,
                             settings={**crash, "PROCESSING_WORKERS": workers,
                                       "WARC_CAPTURE_PROCESS": str(workers != "0")})
            runs[workers] = (done, last_report(tmp_path / workers))
    assert "2 worker processes" in runs["2"][0].stderr
    assert "1 worker process (" in runs["1"][0].stderr
    assert "ended (exit code" not in runs["2"][0].stderr  # closing its workers is no news
    # Each helper ends as soon as the crawl closes it: none holds another's socket open.
    assert "did not end within" not in runs["2"][0].stderr
    assert "WARC capture: in process" in runs["2"][0].stderr
    assert "worker processes" not in runs["0"][0].stderr
    assert "WARC capture: in process" not in runs["0"][0].stderr
    for kind in ("articles", "rejects"):
        assert _records(tmp_path / "0", kind, any_alias=True) == \
            _records(tmp_path / "1", kind, any_alias=True) == \
            _records(tmp_path / "2", kind, any_alias=True)
    (in_process, report0), (with_workers, report2) = runs["0"], runs["2"]
    for key in ("counts", "coverage", "dates"):
        assert report0[key] == runs["1"][1][key] == report2[key], key
    # What the pipelines counted and logged in the workers reached the crawl's stats and log.
    for figure in (f"'archive/text/items': {len(truth)}",
                   f"'archive/validation/ok': {len(truth) - 1}",
                   "'archive/crashes/crashing': 1", "'log_count/ERROR': 1"):
        assert figure in in_process.stderr and figure in with_workers.stderr, figure
    assert f"RuntimeError: {CRASH_MESSAGE} on article {victim}" in with_workers.stderr
    assert "Traceback" in with_workers.stderr


def _crawl_with_helpers(site_url: str, archive: Path, stderr: int, workers: int = 2
                        ) -> tuple[subprocess.Popen[str], dict[str, list[int]]]:
    """Start a crawl with ``workers`` worker processes and the WARC capture process; return it
    once all run and an article is archived (or after two minutes), with their pids."""
    command = crawl_command(site_url, archive, settings={
        "PROCESSING_WORKERS": str(workers), "WARC_CAPTURE_PROCESS": "True",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "2"})
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr,
                            text=True)
    deadline = time.monotonic() + 120
    helpers: dict[str, list[int]] = {}
    while time.monotonic() < deadline and proc.poll() is None:
        helpers = {name: _children(proc.pid, name) for name in ("item-worker", "warc-capture")}
        if len(helpers["item-worker"]) == workers and len(helpers["warc-capture"]) == 1 and \
                list((archive / "articles").glob("*.jsonl")):
            break
        time.sleep(0.05)
    return proc, helpers


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_crawl_leaves_no_helper_behind(tmp_path: Path) -> None:
    with Replica(articles=300, seed=4, crawl_delay=0) as site:
        proc, helpers = _crawl_with_helpers(site.url, tmp_path, subprocess.DEVNULL)
        pids = helpers["item-worker"] + helpers["warc-capture"]
        assert len(pids) == 3 and proc.poll() is None, "the crawl ended before it was killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
            time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)


def _kill_mid_crawl(tmp_path: Path, helper: str, seed: int, workers: int = 2) -> str:
    """Crawl a replica, SIGKILL one helper process (``helper``: its name) once an article is
    archived; check the crawl still ends well with every article archived once; return its log."""
    with Replica(articles=200, seed=seed, crawl_delay=0) as site:
        truth = site.truth()
        proc, helpers = _crawl_with_helpers(site.url, tmp_path, subprocess.PIPE, workers)
        assert helpers.get(helper) and proc.poll() is None, "the crawl ended too soon"
        os.kill(helpers[helper][0], signal.SIGKILL)
        _, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 0, stderr[-3000:]
    assert "Error processing" not in stderr  # Scrapy's word for an item lost in processing
    lines = archive_lines(tmp_path)
    assert max(Counter(line["id"] for line in lines).values()) == 1
    result = score_archive(tmp_path, truth)
    assert result.perfect, result.summary()
    return stderr


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_worker_that_dies_loses_no_page(tmp_path: Path) -> None:
    stderr = _kill_mid_crawl(tmp_path, "item-worker", seed=8)
    # Said once the worker is gone, whether or not a page was in it at that moment.
    assert re.search(r"WARNING: item processing: worker process \d+ ended \(exit code -9\)",
                     stderr), stderr[-3000:]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_when_the_only_worker_dies_the_crawl_extracts_the_rest_itself(tmp_path: Path) -> None:
    stderr = _kill_mid_crawl(tmp_path, "item-worker", seed=10, workers=1)
    assert re.search(r"WARNING: item processing: worker process \d+ ended \(exit code -9\)",
                     stderr), stderr[-3000:]
    # Said once, not once a page: the pages after it never go to the pool again.
    assert stderr.count("no worker process is left") == 1, stderr[-3000:]
    assert stderr.count("processed in the crawl's own process") <= 100, stderr[-3000:]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_capture_process_that_dies_loses_no_page(tmp_path: Path) -> None:
    stderr = _kill_mid_crawl(tmp_path, "warc-capture", seed=9)
    assert re.search(r"WARNING: WARC capture: process \d+ ended \(exit code -9\)", stderr), \
        stderr[-3000:]
    lines = archive_lines(tmp_path)
    # Records before and after the kill point at whole captures, in the capture process's
    # files and in the ones the crawl's own process went on with.
    # The kill may tear the record being written: only one nothing points at.
    ids: dict[str, dict[int, str]] = {}
    for line in lines:
        capture = line["capture"]
        if capture["warc_file"] not in ids:
            ids[capture["warc_file"]] = found = {}
            try:
                for record, offset, _length, _payload in iter_warc(tmp_path /
                                                                    capture["warc_file"]):
                    found[offset] = record.rec_headers.get_header("WARC-Record-ID")
            except DamagedWarc:
                pass
        assert ids[capture["warc_file"]].get(capture["offset"]) == \
            f"<{capture['record_id']}>", capture
    assert len(ids) >= 2
    index = (tmp_path / "raw" / "index.cdxj").read_text().splitlines()
    assert index == sorted(index) and len(index) >= len(lines)


def _split_warc(warc: Path, articles: Path, rest: Path) -> None:
    """Copy the article records of a WARC to one file and every other record to another."""
    data = warc.read_bytes()
    with articles.open("wb") as a, rest.open("wb") as r:
        for record, offset, length, _payload in iter_warc(warc):
            uri = record.rec_headers.get_header("WARC-Target-URI") or ""
            out = a if parse_article_url(uri) is not None else r
            out.write(data[offset:offset + length])


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    archive = tmp_path_factory.mktemp("nights")
    with Replica(articles=150, seed=17, crawl_delay=0, now="2025-06-27T23:00:00+07:00") as site:
        run_crawl(site.url, archive, settings={"PROCESSING_WORKERS": "0"})
        site.set_now("2025-06-30T23:00:00+07:00")
        run_crawl(site.url, archive, settings={"PROCESSING_WORKERS": "0"})
        site_url = site.url
    return {"site_url": site_url, "warcs": sorted((archive / "raw").glob("*.warc.gz")),
            "archive": archive}


def _reextract(warcs: list[Path], archive: Path, site_url: str, workers: str) -> Any:
    return reextract(warcs, project_settings({
        "SITE_URL": site_url, "SITE_HOST_ALIASES": "localhost", "ARCHIVE_DIR": str(archive),
        "ARCHIVE_FSYNC": False, "PROCESSING_WORKERS": workers}))


def _files(archive: Path) -> dict[str, bytes]:
    return {str(p.relative_to(archive)): p.read_bytes()
            for kind in ("articles", "rejects") for p in sorted((archive / kind).glob("*"))}


@pytest.mark.slow
@pytest.mark.parametrize("order", ["as-crawled", "reversed"])
def test_reextraction_with_workers_writes_what_it_writes_in_process(
        two_nights: dict[str, Any], tmp_path: Path, order: str) -> None:
    warcs = two_nights["warcs"] if order == "as-crawled" else two_nights["warcs"][::-1]
    assert len(warcs) == 2
    here = _reextract(warcs, tmp_path / "here", two_nights["site_url"], "0")
    there = _reextract(warcs, tmp_path / "there", two_nights["site_url"], "2")
    assert here.line().split("; ")[:5] == there.line().split("; ")[:5]
    assert here.extracted > 150
    assert _files(tmp_path / "here") == _files(tmp_path / "there")


@pytest.mark.slow
def test_a_listing_read_after_its_articles_still_gives_their_time(
        two_nights: dict[str, Any], tmp_path: Path) -> None:
    # The articles' file first, their listings after: the listing text is known only once
    # both are read, as when the index was a pass of its own.
    first = two_nights["warcs"][0]
    articles, rest = tmp_path / "articles.warc.gz", tmp_path / "rest.warc.gz"
    _split_warc(first, articles, rest)
    whole = _reextract([first], tmp_path / "whole", two_nights["site_url"], "2")
    split = _reextract([articles, rest], tmp_path / "split", two_nights["site_url"], "2")
    assert whole.extracted == split.extracted > 100
    with_listing = [r for r in map(json.loads, _records(tmp_path / "whole")) if r["listing_raw"]]
    assert with_listing, "no record took its time from a listing"
    assert _records(tmp_path / "whole") == _records(tmp_path / "split")
