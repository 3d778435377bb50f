"""Fault injection: an operator's bad night, probe by probe, scored against the replica's truth.

Each probe of issue 10 is repeated against a small replica (or a scripted loopback site) and its
outcome asserted: no article lost, none written twice, no torn line, and the exit status the
docs/archive.md's table documents. Before the fixes these probes lost, duplicated or tore lines, or
exited 0 on a failure (docs/archive.md's "Crash safety" gives the table).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest

from crawler.run.outcome import ExitStatus
from crawler.store.state import CrawlState
from tests.badsite import article_html
from tests.crawling import REPO, crawl_command, last_report, run_crawl
from tests.faults import (
    Answer,
    MiniSite,
    closed_port,
    enospc_command,
    lines_written,
    outcome,
    popen_crawl,
    raw_lines,
    tmpfs_command,
    unshare_works,
)
from tests.misbehaving import (
    FIRST_ID,
    LISTING,
    PAGE_SIZE,
    article_path,
    articles,
    chain,
    endless_listing,
    endless_sitemaps,
    home,
    listing,
    redirect,
    urlset,
    wide_sitemaps,
)
from tests.replica import Replica
from tests.scoring import score_archive

pytestmark = pytest.mark.slow

# Writes that count: the faults below are about what reaches the disk.
DURABLE = {"ARCHIVE_FSYNC": "True", "CONCURRENT_REQUESTS_PER_DOMAIN": "2"}


def crawl(site_url: str, archive: Path, *args: str, timeout: float = 240,
          **settings: str) -> subprocess.CompletedProcess[str]:
    return run_crawl(site_url, archive, *args, settings=settings, timeout=timeout, check=False)


def clean(archive: Path, truth: list[dict]) -> None:
    """Assert the archive holds every article of the truth once, and no torn line."""
    found = outcome(archive, truth)
    assert found.clean, str(found)


def wait_for_lines(archive: Path, proc: subprocess.Popen, count: int) -> None:
    deadline = time.monotonic() + 120
    while lines_written(archive) < count and proc.poll() is None:
        assert time.monotonic() < deadline, "the crawl wrote nothing"
        time.sleep(0.02)
    assert proc.poll() is None, "the crawl ended before the fault could be injected"


# --- 1. One writer per archive ------------------------------------------------------------------

def test_overlapping_runs_refuse_or_wait_and_write_each_article_once(tmp_path):
    with Replica(articles=100, seed=3, crawl_delay=0) as site:
        truth = site.truth()
        # The first run is paced (about 10 s) so that the others surely start while it runs.
        first = popen_crawl(site.url, tmp_path, settings={
            **DURABLE, "DOWNLOAD_DELAY": "0.08", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
        wait_for_lines(tmp_path, first, 5)
        refused = [popen_crawl(site.url, tmp_path, settings=DURABLE) for _ in range(2)]
        waiting = popen_crawl(site.url, tmp_path, settings={**DURABLE,
                                                            "ARCHIVE_LOCK_WAIT": "200"})
        codes = [proc.wait(timeout=300) for proc in (first, *refused, waiting)]
        logs = [proc.stderr.read() for proc in (first, *refused, waiting)]
    assert codes == [0, ExitStatus.ARCHIVE_BUSY, ExitStatus.ARCHIVE_BUSY, 0], codes
    for log in logs[1:3]:
        assert f"is in use by pid {first.pid} on" in log and "refusing" in log
        # The holder's command as typed (Scrapy takes "crawl" out of sys.argv), its start in
        # Vietnam time.
        holder = log[log.index("is in use by"):].splitlines()[0]
        assert " crawl baonamdinh " in holder and "+07:00 (" in holder, holder
    assert "waiting up to 200 s" in logs[3]
    clean(tmp_path, truth)
    reports = sorted(p.name for p in (tmp_path / "runs").glob("*.json"))
    assert len(reports) == 2, reports  # the refused runs wrote none, and none was overwritten


# --- 2. The state follows the files -------------------------------------------------------------

@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """One complete crawl of a small replica, copied for each probe; the replica keeps serving."""
    base = tmp_path_factory.mktemp("base") / "archive"
    with Replica(articles=100, seed=4, crawl_delay=0) as site:
        done = run_crawl(site.url, base)
        assert done.returncode == 0
        yield site, site.truth(), base


def biggest_month(archive: Path) -> Path:
    return max((archive / "articles").glob("*.jsonl"), key=lambda p: p.stat().st_size)


def delete_state(archive: Path) -> str:
    for path in archive.glob("state.sqlite3*"):
        path.unlink()
    return "was new or empty"


def corrupt_state(archive: Path) -> str:
    for path in archive.glob("state.sqlite3-*"):
        path.unlink()
    (archive / "state.sqlite3").write_bytes(b"not a database " * 400)
    return "is damaged"


def delete_lines(archive: Path) -> str:
    path = biggest_month(archive)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:1] + lines[3:]))
    return "have no line on disk any more"


def delete_month(archive: Path) -> str:
    path = biggest_month(archive)
    path.unlink()
    return f"articles/{path.name} is gone"


def garbage_line(archive: Path) -> str:
    path = biggest_month(archive)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2] + [b"{garbage, not json\n"] + lines[2:]))
    return f"articles/{path.name} line 3 (offset"


@pytest.mark.parametrize("damage, args", [
    (delete_state, ()),
    (corrupt_state, ()),
    (delete_lines, ()),
    (delete_lines, ("mode=backfill", "since=2011-01-01")),
    (delete_month, ()),
    (garbage_line, ()),
], ids=["state-deleted", "state-corrupted", "lines-deleted", "lines-deleted-backfill",
        "month-file-deleted", "garbage-line"])
def test_the_state_follows_the_files(crawled, tmp_path, damage, args):
    site, truth, base = crawled
    archive = tmp_path / "archive"
    shutil.copytree(base, archive)
    warning = damage(archive)
    done = crawl(site.url, archive, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert warning in done.stderr
    clean(archive, truth)
    if damage is garbage_line:
        (kept,) = (archive / "quarantine").iterdir()
        assert kept.read_bytes() == b"{garbage, not json\n" and kept.name in done.stderr
    if damage is corrupt_state:
        assert any(p.name.startswith("state.sqlite3.corrupt-") for p in archive.iterdir())
    # And the next night finds nothing more to repair.
    again = crawl(site.url, archive)
    assert again.returncode == 0
    assert "[crawler.store.reconcile] WARNING" not in again.stderr
    clean(archive, truth)


# --- 3 and 4. Storage failures: the run stops at once, no torn line, nothing lost ---------------

def test_a_full_disk_stops_the_run_with_no_torn_line_and_the_next_run_completes(tmp_path):
    with Replica(articles=60, seed=5, crawl_delay=0) as site:
        truth = site.truth()
        command = enospc_command(crawl_command(site.url, tmp_path, settings=DURABLE))
        env = dict(os.environ, FAULT_ENOSPC_AFTER="20", FAULT_ENOSPC_DIR=str(tmp_path))
        full = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=240)
        records, torn = raw_lines(tmp_path)
        report = last_report(tmp_path)
        rerun = crawl(site.url, tmp_path)
    assert full.returncode == ExitStatus.STORAGE_FAILURE, full.stderr[-3000:]
    assert full.stderr.count("STORAGE FAILURE") == 1 and "Traceback" not in full.stderr
    assert torn == 0 and len(records) == 20
    assert report["exit_code"] == ExitStatus.STORAGE_FAILURE
    assert report["stop_reason"] == "storage_failure" and "No space left" in report["exit_reason"]
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    clean(tmp_path, truth)


@pytest.mark.skipif(not unshare_works(), reason="no unprivileged user and mount namespaces here")
def test_a_real_full_tmpfs_stops_the_run_and_the_next_run_completes(tmp_path):
    disk, copy = tmp_path / "disk", tmp_path / "copy"
    disk.mkdir()
    copy.mkdir()
    with Replica(articles=100, seed=5, crawl_delay=0) as site:
        truth = site.truth()
        command = crawl_command(site.url, disk, settings={**DURABLE,
                                                          "REPORT_RESERVE_BYTES": "65536"})
        full = subprocess.run(tmpfs_command(command, str(disk), "700k", copy), cwd=REPO,
                              capture_output=True, text=True, timeout=240)
        records, torn = raw_lines(copy)
        report = last_report(copy)
        rerun = crawl(site.url, copy)
    assert full.returncode == ExitStatus.STORAGE_FAILURE, full.stderr[-3000:]
    assert "Traceback" not in full.stderr
    assert torn == 0 and 0 < len(records) < len(truth)
    assert report["exit_code"] == ExitStatus.STORAGE_FAILURE  # the reserve made room for it
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    clean(copy, truth)


def hold_state_lock(archive: Path, seconds: float, started: threading.Event) -> None:
    db = sqlite3.connect(archive / "state.sqlite3", isolation_level=None, timeout=30)
    db.execute("BEGIN EXCLUSIVE")
    started.set()
    time.sleep(seconds)
    db.execute("ROLLBACK")
    db.close()


def test_a_state_locked_from_outside_waits_or_stops_cleanly_and_nothing_is_written_twice(
        tmp_path):
    with Replica(articles=80, seed=6, crawl_delay=0) as site:
        truth = site.truth()
        for timeout, expected in (("1", ExitStatus.STORAGE_FAILURE), ("60", 0)):
            # A delay keeps the crawl writing for seconds after its tenth line: on a quiet
            # machine it otherwise archived all 80 articles before the lock was taken (exit 0).
            proc = popen_crawl(site.url, tmp_path, settings={**DURABLE, "DOWNLOAD_DELAY": "0.05",
                                                             "ARCHIVE_DB_TIMEOUT": timeout})
            wait_for_lines(tmp_path, proc, lines_written(tmp_path) + 10)
            started = threading.Event()
            holder = threading.Thread(target=hold_state_lock, args=(tmp_path, 2.5, started))
            holder.start()
            started.wait(30)
            code = proc.wait(timeout=240)
            holder.join()
            log = proc.stderr.read()
            assert code == expected, log[-3000:]
            if expected:
                assert "STORAGE FAILURE" in log and "database is locked" in log
            records, torn = raw_lines(tmp_path)
            assert torn == 0 and not outcome(tmp_path, truth).duplicated
    clean(tmp_path, truth)


# --- Crash safety with faults --------------------------------------------------------------------

def test_sigkill_at_random_moments_with_ten_percent_faults_loses_and_duplicates_nothing(tmp_path):
    rng = random.Random(10)
    settings = {**DURABLE, "DOWNLOAD_TIMEOUT": "1", "RETRY_TIMES": "8"}
    with Replica(articles=80, seed=7, crawl_delay=0, fault_rate=0.1, hang_seconds=1) as site:
        truth = site.truth()
        for _ in range(3):
            proc = popen_crawl(site.url, tmp_path, settings=settings)
            wait_for_lines(tmp_path, proc, lines_written(tmp_path) + rng.randint(1, 15))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        rerun = crawl(site.url, tmp_path, timeout=400, **settings)
        faults = site.requests.faults()
    assert sum(faults.values()) > 5, faults
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "stale lock is taken over" in rerun.stderr
    clean(tmp_path, truth)
    result = score_archive(tmp_path, truth)
    assert result.perfect, result.summary()


def test_sigterm_stops_the_run_with_the_interrupted_status_and_the_rerun_completes(tmp_path):
    with Replica(articles=60, seed=9, crawl_delay=0) as site:
        truth = site.truth()
        proc = popen_crawl(site.url, tmp_path, settings=DURABLE)
        wait_for_lines(tmp_path, proc, 10)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        report = last_report(tmp_path)
        rerun = crawl(site.url, tmp_path)
    assert code == 128 + signal.SIGTERM == report["exit_code"]
    assert report["stop_reason"] == "shutdown" and "SIGTERM" in report["exit_reason"]
    assert rerun.returncode == 0
    clean(tmp_path, truth)


# --- 5. Failures that used to exit 0 -------------------------------------------------------------

def test_a_dead_site_exits_site_unreachable(tmp_path):
    done = crawl(f"http://127.0.0.1:{closed_port()}", tmp_path, RETRY_TIMES="1")
    assert done.returncode == ExitStatus.SITE_UNREACHABLE, done.stderr[-3000:]
    assert "unreachable" in last_report(tmp_path)["exit_reason"]


def test_a_home_page_that_always_fails_exits_site_unreachable(tmp_path):
    routes = {"/robots.txt": lambda host, seen: Answer(404, "not here"),
              "/": lambda host, seen: Answer(503, "<html>down</html>")}
    with MiniSite(routes) as site:
        done = crawl(site.url, tmp_path, RETRY_TIMES="1")
    assert done.returncode == ExitStatus.SITE_UNREACHABLE, done.stderr[-3000:]
    assert "the home page" in last_report(tmp_path)["exit_reason"]


@pytest.mark.parametrize("robots, status", [
    ("disallow-all", ExitStatus.ROBOTS_FORBIDS),
    ("500", ExitStatus.ROBOTS_FORBIDS),
    ("hang", ExitStatus.ROBOTS_FORBIDS),
    ("404", ExitStatus.OK),
])
def test_robots_txt_follows_rfc_9309(tmp_path, robots, status):
    # RETRY_TIMES x DOWNLOAD_TIMEOUT would be minutes: robots.txt has its own budget.
    with Replica(articles=30, seed=8, crawl_delay=0, robots=robots, hang_seconds=30) as site:
        truth = site.truth()
        done = crawl(site.url, tmp_path, DOWNLOAD_TIMEOUT="30", RETRY_TIMES="5",
                     ROBOTSTXT_TIMEOUT="1", ROBOTSTXT_RETRY_TIMES="1")
    requests = site.requests.snapshot()  # after close: a hanging request is counted when it ends
    assert done.returncode == status, done.stderr[-3000:]
    if status == ExitStatus.OK:
        clean(tmp_path, truth)
        return
    assert requests["article"] == requests["home"] == 0, requests
    assert "robots.txt" in last_report(tmp_path)["exit_reason"]
    # ROBOTSTXT_RETRY_TIMES, not RETRY_TIMES: one retry of a robots.txt that fails.
    assert requests["robots"] == {"disallow-all": 1, "500": 2, "hang": 2}[robots], requests


def test_article_links_on_an_unknown_alias_exit_links_dropped_and_stay_open(tmp_path):
    with Replica(articles=200, seed=10, crawl_delay=0) as site:
        truth = site.truth()
        missed = crawl(site.url, tmp_path, SITE_HOST_ALIASES="example.invalid")
        report = last_report(tmp_path)
        lost_then = outcome(tmp_path, truth).lost
        state = CrawlState(tmp_path)
        walked = {row[0] for row in state.db.execute(
            "SELECT key FROM listings WHERE complete = 1")}
        state.close()
        fixed = crawl(site.url, tmp_path)  # the operator adds the alias
    assert missed.returncode == ExitStatus.LINKS_DROPPED, missed.stderr[-3000:]
    dropped = report["links_dropped"]
    assert dropped["count"] > 10 and set(dropped["by_host"]) == {"localhost"}
    assert dropped["examples"] and all("localhost" in url for url in dropped["examples"])
    # The listings that lost articles do not count as walked: the next nightly walks them.
    sections = {t["id"]: t["section"] for t in truth}
    lost_in = {f"/channel/{sections[i]}/" if sections[i].isdigit() else f"/{sections[i]}/"
               for i in lost_then}
    assert lost_then and report["listings"]["reopened"] > 0
    assert not lost_in & walked, lost_in & walked
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    clean(tmp_path, truth)


def test_an_unknown_spider_argument_is_a_usage_error(tmp_path):
    with Replica(articles=30, seed=8, crawl_delay=0) as site:
        done = crawl(site.url, tmp_path, "chanels=5083")
        assert site.requests.total == 0
    assert done.returncode == ExitStatus.USAGE
    assert "-a chanels=5083: unknown argument (did you mean -a channels=?)" in done.stderr


# --- 6. Time, retries, redirects, images ----------------------------------------------------------

VN = dt.timezone(dt.timedelta(hours=7))


def skewed_site() -> tuple[dict, dict[str, str]]:
    """A site whose clock runs ahead of ours: articles printed 30 min and 3 h in our future,
    on the page and on the listing alike."""
    ahead = {"aaaa001": 30, "aaaa002": 0, "aaaa003": 180}
    month = dt.datetime.now(VN).strftime("%Y%m")
    paths = {aid: f"/chinh-tri/{month}/bai-{aid}/" for aid in ahead}

    def printed(aid: str) -> dt.datetime:
        return dt.datetime.now(VN) + dt.timedelta(minutes=ahead[aid])

    def page(aid: str):
        def route(host: str, seen: int) -> Answer:
            html = article_html(0, title=f"Bài {aid} lúc {printed(aid):%H:%M}",
                                date_line=f"{printed(aid):%H:%M, %d/%m/%Y}")
            return Answer(body=html.replace("bài 0", f"bài {aid}"))
        return route

    def listing(host: str, seen: int) -> Answer:
        items = "".join(f'<li class="item"><h3 class="title"><a href="{path}">Bài {aid}</a></h3>'
                        f'<p class="time">Cập nhật lúc: {printed(aid):%H:%M |%d/%m/%Y}</p></li>'
                        for aid, path in paths.items())
        return Answer(body=f"<html><ul>{items}</ul></html>")

    routes = {"/": lambda h, s: Answer(body='<html><a href="/chinh-tri/">Chính trị</a></html>'),
              "/chinh-tri/": listing}
    routes.update({path: page(aid) for aid, path in paths.items()})
    return routes, paths


def test_clock_skew_takes_near_future_dates_as_printed_and_retries_later_ones(tmp_path):
    routes, paths = skewed_site()
    with MiniSite(routes) as site:
        first = crawl(site.url, tmp_path)
        second = crawl(site.url, tmp_path)
        hits = dict(site.hits)
    # The page 3 h ahead is left for the next run: a third of each night's pages, and so said.
    assert first.returncode == second.returncode == ExitStatus.INCOMPLETE
    records = {r["id"]: r for r in raw_lines(tmp_path)[0]}
    assert sorted(records) == ["aaaa001", "aaaa002"]
    assert records["aaaa001"]["published_at"] > records["aaaa001"]["fetched_at"]
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    (row,) = db.execute("SELECT id, retryable, reason, listing_raw FROM rejects").fetchall()
    db.close()
    assert row[:2] == ("aaaa003", 1) and row[2].startswith("date: future date")
    assert row[3].startswith("Cập nhật lúc: ")  # the listing time, kept for the retry
    assert hits[paths["aaaa003"]] == 2  # the next run fetched it again


def test_a_retried_reject_keeps_the_listing_time_it_was_found_with(tmp_path):
    with Replica(articles=80, seed=11, crawl_delay=0, fault_rate=0.15, hang_seconds=1) as site:
        truth = site.truth()
        crawl(site.url, tmp_path, RETRY_TIMES="0", DOWNLOAD_TIMEOUT="1")
        state = CrawlState(tmp_path)
        retried = [url for url, _ in state.retryable_rejects()]
        state.close()
        site.site.fault_rate = 0.0
        done = crawl(site.url, tmp_path)
    assert len(retried) > 5 and done.returncode == 0
    result = score_archive(tmp_path, truth)  # published_at included: from the listing
    assert result.perfect, result.summary()


def test_two_host_alias_redirects_in_a_row_are_not_a_loop(tmp_path):
    path = "/channel/5083/202201/bai-viet-2548123/"
    routes: dict = {
        "/": lambda h, s: Answer(body='<html><a href="/channel/5083/">Thời sự</a></html>'),
        "/channel/5083/": lambda h, s: Answer(
            body=f'<html><ul><li class="item"><h3><a href="{path}">Bài</a></h3></li></ul></html>'),
    }
    with MiniSite(routes) as site:
        def article(host: str, seen: int) -> Answer:
            if seen < 2:  # 127.0.0.1 -> localhost -> 127.0.0.1, then the page
                other = "localhost" if host == "127.0.0.1" else "127.0.0.1"
                return Answer(301, "", (("Location", f"http://{other}:{site.port}{path}"),))
            return Answer(body=article_html(2548123))
        routes[path] = article
        done = crawl(site.url, tmp_path)
    assert done.returncode == 0
    assert [r["id"] for r in raw_lines(tmp_path)[0]] == ["2548123"]
    assert not list((tmp_path / "rejects").glob("*.jsonl"))


def test_image_urls_are_canonical_whichever_alias_served_the_page(tmp_path):
    with Replica(articles=80, seed=12, crawl_delay=0, fault_rate=0.1, hang_seconds=1) as site:
        truth = site.truth()
        done = crawl(site.url, tmp_path, RETRY_TIMES="8", DOWNLOAD_TIMEOUT="1")
        redirects = site.requests.faults().get("redirect", 0)
    assert done.returncode == 0 and redirects > 0
    images = [image["url"] for r in raw_lines(tmp_path)[0] for image in r["images"]]
    assert images and all(url.startswith(site.url + "/") for url in images)
    result = score_archive(tmp_path, truth)
    assert result.perfect, result.summary()


# --- 7. A site that misbehaves cannot stall, flood or fool a run (issue 21) ----------------------
# Each probe runs against a stand-in of tests/misbehaving.py (loopback, every loop bounded) and is
# scored on what was archived, what was refused, and the exit status.


def listing_hits(site: MiniSite) -> int:
    return sum(n for path, n in site.hits.items()
               if path == LISTING or path.startswith(LISTING + "?"))


def rejects_of(archive: Path) -> list[dict]:
    return [json.loads(line) for path in sorted((archive / "rejects").glob("*.jsonl"))
            for line in path.read_text("utf-8").splitlines()]


def listing_complete(archive: Path, key: str) -> bool:
    state = CrawlState(archive)
    try:
        return state.listing_complete(key)
    finally:
        state.close()


@pytest.mark.parametrize("args", [(), ("mode=backfill", "since=2022-01-01")],
                         ids=["nightly", "backfill"])
def test_an_endless_listing_with_new_ids_on_every_page_is_cut_at_listing_max_pages(tmp_path,
                                                                                   args):
    routes, fallback = endless_listing(new_ids=True)
    with MiniSite(routes, fallback) as site:
        done = crawl(site.url, tmp_path, *args, LISTING_MAX_PAGES="4")
        pages = listing_hits(site)
    report = last_report(tmp_path)
    assert pages == 4, pages
    assert len(raw_lines(tmp_path)[0]) == 4 * PAGE_SIZE
    assert done.returncode == report["exit_code"] == ExitStatus.INCOMPLETE, done.stderr[-3000:]
    cut = report["undone"]["walks_cut"]
    assert cut["count"] == 1 and cut["walks"][0]["walk"] == f"listing {LISTING}"
    assert "LISTING_MAX_PAGES" in report["exit_reason"]
    assert done.stderr.count(f"WARNING: walk cut short: listing {LISTING}") == 1
    assert not listing_complete(tmp_path, LISTING)  # the next nightly walks it again


@pytest.mark.parametrize("args", [(), ("mode=backfill", "since=2022-01-01")],
                         ids=["nightly", "backfill"])
def test_a_listing_showing_the_same_ids_on_every_page_ends_at_the_first_page_adding_none(
        tmp_path, args):
    routes, fallback = endless_listing(new_ids=False)
    with MiniSite(routes, fallback) as site:
        done = crawl(site.url, tmp_path, *args)
        pages = listing_hits(site)
    report = last_report(tmp_path)
    assert pages == 2, pages
    assert sorted(int(r["id"]) for r in raw_lines(tmp_path)[0]) == \
        list(range(FIRST_ID, FIRST_ID + PAGE_SIZE))
    assert done.returncode == 0, done.stderr[-3000:]
    assert report["listings"]["ended_repeating"] == 1 and report["problems"] == []


def test_a_sitemap_index_listing_another_index_forever_is_cut_at_its_depth(tmp_path):
    routes, fallback = endless_sitemaps()
    with MiniSite(routes, fallback) as site:
        done = crawl(site.url, tmp_path)
        indexes = sorted(p for p in site.hits if p.startswith("/sitemap.xml"))
    report = last_report(tmp_path)
    # Depth 0 (named at a usual location), 1 and 2 are read; what the index at 2 lists is not.
    assert indexes == ["/sitemap.xml", "/sitemap.xml?n=1", "/sitemap.xml?n=2"], indexes
    assert sorted(int(r["id"]) for r in raw_lines(tmp_path)[0]) == \
        list(range(FIRST_ID, FIRST_ID + 4))
    assert done.returncode == report["exit_code"] == ExitStatus.INCOMPLETE, done.stderr[-3000:]
    (cut,) = report["undone"]["walks_cut"]["walks"]
    assert cut["walk"] == f"sitemap {site.url}/sitemap.xml?n=2" and "SITEMAP_MAX_DEPTH" in cut["why"]
    assert done.stderr.count("WARNING: walk cut short: sitemap") == 1


@pytest.mark.parametrize("bound", ["SITEMAP_MAX_FILES", "SITEMAP_MAX_BYTES"])
def test_a_run_reads_sitemaps_up_to_its_files_and_bytes(tmp_path, bound):
    routes, fallback = wide_sitemaps(12)
    index = len(routes["/sitemap.xml"]("", 0).body.encode())
    one = len(urlset(article_path(FIRST_ID + 10)).encode())
    # Files: /sitemap.xml and the three other usual locations, then two of the twelve sitemaps;
    # bytes: the index and two sitemaps (all of one size), not a third.
    value = "6" if bound == "SITEMAP_MAX_FILES" else str(index + 2 * one + one // 2)
    with MiniSite(routes, fallback) as site:
        done = crawl(site.url, tmp_path, **{bound: value})
        read = sum(n for p, n in site.hits.items() if p.startswith("/sitemap-bai.xml"))
    report = last_report(tmp_path)
    assert len(raw_lines(tmp_path)[0]) == 2
    assert read == (2 if bound == "SITEMAP_MAX_FILES" else 12)  # bytes are known on arrival
    assert done.returncode == ExitStatus.INCOMPLETE, done.stderr[-3000:]
    (cut,) = report["undone"]["walks_cut"]["walks"]
    assert cut["walk"] == "sitemaps" and bound in cut["why"]


def test_a_redirect_to_another_port_of_the_sites_host_is_not_followed(tmp_path):
    moved, good = article_path(FIRST_ID + 1), article_path(FIRST_ID + 2)
    # The other origin serves pages that would pass for the site's: none may be fetched.
    foreign_routes = {"/channel/5084/": listing(article_path(FIRST_ID + 3))}
    with MiniSite(foreign_routes, articles) as foreign:
        routes = {"/": home(LISTING, "/channel/5084/"),
                  LISTING: listing(moved, good),
                  moved: redirect(foreign.url + moved),
                  "/channel/5084/": redirect(foreign.url + "/channel/5084/")}
        with MiniSite(routes, articles) as site:
            done = crawl(site.url, tmp_path)
    assert foreign.hits == {}, foreign.hits
    assert [r["id"] for r in raw_lines(tmp_path)[0]] == [str(FIRST_ID + 2)]
    reasons = {r["url"]: r for r in rejects_of(tmp_path)}
    article = reasons[site.url + moved]
    assert article["reason"] == f"redirected off the site: {site.url}{moved} -> {foreign.url}{moved}"
    assert not article["retryable"]
    page = reasons[site.url + "/channel/5084/"]
    assert page["reason"].endswith(f"-> {foreign.url}/channel/5084/") and page["id"] is None
    report = last_report(tmp_path)
    # The listing that went elsewhere is work left: its walk failed.
    assert done.returncode == report["exit_code"] == ExitStatus.INCOMPLETE, done.stderr[-3000:]
    assert "listing pages failed" in report["exit_reason"]


def test_a_redirect_chain_on_the_site_is_followed_up_to_twenty_hops(tmp_path):
    short, long_, good = FIRST_ID + 1, FIRST_ID + 2, FIRST_ID + 3
    ends = {name: article_path(i) + "index.htm" for name, i in (("short", short), ("long", long_))}
    routes = {"/": home(LISTING),
              LISTING: listing(article_path(short), article_path(long_), article_path(good)),
              article_path(short): redirect("/r/short/1"),
              article_path(long_): redirect("/r/long/1")}
    hop_15, hop_30 = chain("short", 14, ends["short"]), chain("long", 29, ends["long"])
    with MiniSite(routes, lambda p, h, s: hop_15(p, h, s) or hop_30(p, h, s)
                  or articles(p, h, s)) as site:
        done = crawl(site.url, tmp_path)
        hits = dict(site.hits)
    # 15 hops: followed to the page; 30: given up after 20, for good, and not called a loop.
    assert sorted(r["id"] for r in raw_lines(tmp_path)[0]) == [str(short), str(good)]
    (reject,) = rejects_of(tmp_path)
    assert reject["id"] == str(long_) and not reject["retryable"]
    assert reject["reason"].startswith("too many redirects: more than 20 hops: ")
    assert hits.get("/r/long/20") == 1 and "/r/long/21" not in hits
    assert ends["long"] not in hits
    assert done.returncode == 0, done.stderr[-3000:]


def test_an_article_redirecting_to_another_articles_id_is_one_record_and_its_listing_walked(
        tmp_path):
    old, new, other = FIRST_ID + 1, FIRST_ID + 2, FIRST_ID + 3
    routes = {"/": home(LISTING), LISTING: listing(article_path(old), article_path(other)),
              article_path(old): redirect(article_path(new))}
    with MiniSite(routes, articles) as site:
        first = crawl(site.url, tmp_path)
        walked = listing_complete(tmp_path, LISTING)
        second = crawl(site.url, tmp_path)
    assert first.returncode == second.returncode == 0, first.stderr[-3000:]
    assert sorted(int(r["id"]) for r in raw_lines(tmp_path)[0]) == [new, other]
    assert not list((tmp_path / "rejects").glob("*.jsonl"))
    assert walked and listing_complete(tmp_path, LISTING)
    assert "lost articles" not in first.stderr + second.stderr


def test_a_retry_after_is_honoured_by_the_whole_slot_and_one_beyond_the_cap_left_for_later(
        tmp_path):
    far, near, good = (article_path(FIRST_ID + i) for i in (1, 2, 3))
    routes = {"/": home(LISTING), LISTING: listing(far, near, good),
              far: lambda h, s: Answer(429, "", (("Retry-After", "86400"),)),
              near: lambda h, s: Answer(429, "", (("Retry-After", "2"),)) if s == 0
              else Answer(body=article_html(FIRST_ID + 2))}
    with MiniSite(routes, articles) as site:
        # A delay, however short, makes Scrapy send one request at a time (with none it sends
        # all it holds at once): the log's order is then the order of the site's answers.
        done = crawl(site.url, tmp_path, SITE_RETRY_AFTER_MAX="3", DOWNLOAD_DELAY="0.05")
        log, hits = list(site.log), dict(site.hits)
    assert hits[far] == 1 and hits[near] == 2  # never asked again at once, nor 5 times
    for (at, path), (after, _) in pairwise(log):
        if path in (far, near) and at == min(t for t, p in log if p == path):
            # Whatever the next request was, the whole slot waited: 3 s (the cap), or 2 s.
            assert after - at >= (2.9 if path == far else 1.9), (path, after - at)
    assert sorted(int(r["id"]) for r in raw_lines(tmp_path)[0]) == [FIRST_ID + 2, FIRST_ID + 3]
    (reject,) = rejects_of(tmp_path)
    assert reject["url"].endswith(far) and reject["retryable"]
    assert "Retry-After" in reject["reason"] and "86400" in reject["reason"]
    report = last_report(tmp_path)
    assert report["undone"]["retry_after"] == {"asked": 2, "longest": 86400.0, "refused": 1}
    assert done.returncode == report["exit_code"] == ExitStatus.INCOMPLETE, done.stderr[-3000:]
    assert any("the site asked us to slow down" in p["message"] for p in report["problems"])


def test_a_backfill_with_forty_percent_faults_and_no_retries_says_what_it_left(tmp_path):
    with Replica(articles=120, seed=13, crawl_delay=0, fault_rate=0.4, hang_seconds=1) as site:
        truth = site.truth()
        faulty = crawl(site.url, tmp_path, "mode=backfill", "since=2010-01-01",
                       RETRY_TIMES="0", DOWNLOAD_TIMEOUT="1")
        report = last_report(tmp_path)
        site.site.fault_rate = 0.0
        rerun = crawl(site.url, tmp_path, "mode=backfill", "since=2010-01-01")
    assert outcome(tmp_path, truth).lost == []  # the next run took up what was left
    assert faulty.returncode == report["exit_code"] == ExitStatus.INCOMPLETE, \
        faulty.stderr[-3000:]
    assert report["problems"] and report["undone"]["articles_left"] > 0
    messages = " ".join(p["message"] for p in report["problems"])
    assert "left for the next run" in messages and "listing pages failed" in messages
    assert rerun.returncode == 0, rerun.stderr[-3000:]


def test_a_run_whose_every_listing_failed_is_not_finished(tmp_path):
    routes = {"/": home(LISTING, "/channel/5084/"),
              LISTING: lambda h, s: Answer(500, "<html>down</html>"),
              "/channel/5084/": lambda h, s: Answer(500, "<html>down</html>")}
    with MiniSite(routes, articles) as site:
        done = crawl(site.url, tmp_path, RETRY_TIMES="1")
        routes[LISTING] = listing(article_path(FIRST_ID))
        routes["/channel/5084/"] = listing(article_path(FIRST_ID + 1, "5084"))
        again = crawl(site.url, tmp_path)
    report = last_report(tmp_path)
    assert done.returncode == ExitStatus.INCOMPLETE, done.stderr[-3000:]
    assert "every listing failed" in done.stderr
    assert "the previous run did not finish" in again.stderr  # so it walks every listing
    assert again.returncode == 0 and report["exit_code"] == 0
