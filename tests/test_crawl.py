"""Whole crawls of the replica on loopback: full, nightly, backfill, SIGKILL and resume, faults."""

from __future__ import annotations

import calendar
import json
import os
import signal
import subprocess
import time
from collections import Counter

import pytest

from crawler.analysis.readonly import open_state
from crawler.items import article_key, record_key
from crawler.run.alarms import coverage_alarms, run_kind
from crawler.site.urls import parse_article_url
from crawler.store.sections import SectionBook
from crawler.store.state import CrawlState
from tests.crawling import REPO, archive_lines, crawl_command, last_report, run_crawl
from tests.replica import Replica
from tests.scoring import score, score_archive

pytestmark = pytest.mark.slow


def assert_once(lines: list[dict]) -> None:
    counts = Counter((record_key(line), line["version"]) for line in lines)
    assert max(counts.values()) == 1, [k for k, n in counts.items() if n > 1][:5]


def test_full_crawl_archives_every_article_once_with_the_right_fields(tmp_path):
    with Replica(articles=200, seed=7, crawl_delay=0) as site:
        truth = site.truth()
        jobs = tmp_path.parent / f"{tmp_path.name}-jobs"
        done = run_crawl(site.url, tmp_path, settings={"REMOTE_CONTROL_JOBS_DIR": str(jobs)})
        # Scrapy's remote control (a code-running HTTP server and a job file) is off.
        assert "Remote control" not in done.stderr and not jobs.exists()
        # One request an article, though the home page and the listings show many twice:
        # the spider's marks do it (article requests skip Scrapy's dupefilter).
        assert site.requests["article"] == len(truth), site.requests.snapshot()
    result = score_archive(tmp_path, truth)
    assert result.perfect, result.summary()
    lines = archive_lines(tmp_path)
    assert len(lines) == len(truth)
    assert_once(lines)
    report = last_report(tmp_path)
    assert report["counts"]["new"] == len(truth)
    assert report["coverage"]["fields"]["body"] == 1.0
    assert report["exit_code"] == 0
    # The replica serves three templates over time; the report shows which applied to how many.
    served = Counter(t["template"] for t in truth)
    assert set(served) == {"old-cms", "docbao-2019", "new-cms"}
    assert report["coverage"]["site_templates"] == dict(sorted(served.items()))
    docbao = {t["id"] for t in truth if t["template"] == "docbao-2019"}
    for line in lines:
        if line["id"] in docbao:  # the 2019 markup: body and sapo from the site, title not
            assert (line["provenance"]["body"], line["provenance"]["lead"],
                    line["provenance"]["title"]) == ("site", "site", "heuristic")
    # Sections (issue 22): the 2019 markup names its section only in the menu; the crawl paired
    # the old channels with the new slugs printed under the same name, and says which.
    layers = Counter((t["template"], line["provenance"].get("section_name"))
                     for line in lines for t in truth if t["id"] == line["id"])
    assert set(layers) == {("old-cms", "site"), ("docbao-2019", "heuristic"), ("new-cms", "site")}
    learnt = SectionBook.snapshot(open_state(tmp_path)).channels()
    assert learnt == {"5084": "kinh-te", "5087": "xa-hoi", "5091": "the-thao", "5093": "phap-luat"}
    assert "5093=phap-luat" in done.stderr and "5083 'Thời sự'" in done.stderr
    assert report["coverage"]["fields"]["section_name"] == 1.0


def test_nights_archive_only_new_and_edited_articles(tmp_path):
    with Replica(articles=200, seed=7, crawl_delay=0, now="2025-06-28T23:00:00+07:00") as site:
        night1 = {article_key(t["cms"], t["id"]) for t in site.truth()}
        run_crawl(site.url, tmp_path)
        full_requests = site.requests.total

        site.set_now("2025-06-29T23:00:00+07:00")
        truth2 = site.truth()
        new_ids = {article_key(t["cms"], t["id"]) for t in truth2} - night1
        assert new_ids, "the replica published nothing that day: pick another date"
        edited = {article_key(s["cms"], s["id"]) for s in site.schedule() if s["edited_at"] and
                  "2025-06-28T23:00" < s["edited_at"] <= "2025-06-29T23:00"}
        site.requests.reset()
        run_crawl(site.url, tmp_path)
        report = last_report(tmp_path)
        assert report["counts"]["new"] == len(new_ids)
        assert report["counts"]["updated"] == len(edited)
        # About K article requests plus listing pages: new ones and the recent re-checks.
        assert site.requests["article"] <= len(new_ids) + report["counts"]["unchanged"] + \
            len(edited)
        assert site.requests.total < full_requests / 4

        site.requests.reset()
        run_crawl(site.url, tmp_path)  # a night with nothing new
        quiet = last_report(tmp_path)
        assert quiet["counts"]["new"] == quiet["counts"]["updated"] == 0
        assert site.requests.total <= 40, site.requests.snapshot()
        # Only last night's new articles get their one re-check for edits.
        assert site.requests["article"] <= len(new_ids)

        site.requests.reset()
        run_crawl(site.url, tmp_path)  # another quiet night: listing pages only
        assert site.requests["article"] == 0, site.requests.snapshot()

    lines = archive_lines(tmp_path)
    assert_once(lines)
    latest = {record_key(line): line for line in lines}
    assert new_ids <= set(latest)
    assert {i for i in edited if latest[i]["version"] == 2} == edited
    result = score({i: latest[i] for i in new_ids | edited},
                   [t for t in truth2 if article_key(t["cms"], t["id"]) in new_ids | edited])
    assert result.perfect, result.summary()


def test_backfill_of_one_month_touches_no_article_outside_it(tmp_path):
    with Replica(articles=300, seed=11, crawl_delay=0) as site:
        truth = site.truth()
        month = Counter(t["published_date"][:7] for t in truth
                        if t["published_date"] < "2025").most_common(1)[0][0]
        year, mon = map(int, month.split("-"))
        since, until = f"{month}-01", f"{month}-{calendar.monthrange(year, mon)[1]:02d}"
        run_crawl(site.url, tmp_path, "mode=backfill", f"since={since}", f"until={until}")
        fetched = site.requests.article_paths()
    wanted = [t for t in truth if t["published_date"].startswith(month)]
    assert fetched, "the backfill fetched no article"
    months = {parse_article_url(path).month for path in fetched}
    assert months == {month.replace("-", "")}
    result = score_archive(tmp_path, wanted)
    assert result.perfect, result.summary()


def test_sigkill_at_any_moment_then_rerun_loses_and_duplicates_nothing(tmp_path):
    with Replica(articles=300, seed=3, crawl_delay=0) as site:
        truth = site.truth()
        command = crawl_command(site.url, tmp_path, settings={"ARCHIVE_FSYNC": "True",
                                                              "CONCURRENT_REQUESTS_PER_DOMAIN": "2"})
        for wanted in (5, 60, 150):  # kill three times, deeper each time
            proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                written = sum(p.stat().st_size > 0 and sum(1 for _ in p.open("rb"))
                              for p in (tmp_path / "articles").glob("*.jsonl"))
                if written >= wanted:
                    break
                time.sleep(0.02)
            assert proc.poll() is None, "the crawl ended before it could be killed"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        run_crawl(site.url, tmp_path)
    lines = archive_lines(tmp_path)  # fails on any torn line
    assert_once(lines)
    result = score_archive(tmp_path, truth)
    assert result.perfect, result.summary()
    assert len(lines) == len(truth)


def test_crawl_at_ten_percent_faults_still_archives_everything(tmp_path):
    with Replica(articles=150, seed=5, crawl_delay=0, fault_rate=0.1, hang_seconds=3) as site:
        truth = site.truth()
        run_crawl(site.url, tmp_path, settings={"DOWNLOAD_TIMEOUT": "1", "RETRY_TIMES": "8"},
                  timeout=400)
        faults = site.requests.faults()
    assert sum(faults.values()) > 10, faults
    assert len(faults) >= 5, faults  # most kinds of fault were met
    result = score_archive(tmp_path, truth)
    assert result.perfect, result.summary()
    assert_once(archive_lines(tmp_path))


def test_coverage_drop_against_earlier_runs_exits_non_zero(tmp_path):
    with Replica(articles=160, seed=9, crawl_delay=0, now="2025-06-20T00:00:00+07:00") as site:
        run_crawl(site.url, tmp_path)
        normal = last_report(tmp_path)
        assert normal["alarms"] == []
        # Earlier runs where every article had images: this run's share is far lower.
        state = CrawlState(tmp_path)
        for day in ("2000-01-01", "2000-01-02", "2000-01-03"):
            fake = json.loads(json.dumps(normal))
            fake["coverage"]["fields"]["images"] = 1.0
            state.add_run(f"{day}T00:00:00+07:00", "nightly", fake)
        state.close()
        site.set_now("2025-06-30T23:00:00+07:00")  # the next night's new articles
        done = run_crawl(site.url, tmp_path, check=False,
                         settings={"REPORT_COVERAGE_DROP": "0.1", "REPORT_MIN_RECORDS": "1"})
    report = last_report(tmp_path)
    # Precondition, fixed by the replica's seed: some of the night's articles have no image.
    assert report["counts"]["new"] > 0 and report["coverage"]["fields"]["images"] < 0.9
    assert any("coverage of images" in alarm for alarm in report["alarms"]), report["alarms"]
    assert done.returncode == 3
    assert "COVERAGE ALARM" in done.stderr


@pytest.mark.parametrize("args, message", [
    (["mode=weekly"], "expected one of nightly, backfill"),
    (["since=2024-13-01"], "expected a date as YYYY-MM-DD"),
    (["since=2024-02-01", "until=2024-01-01"], "is after"),
    (["channels=,"], "is empty"),
    (["chanels=5083"], "-a chanels=5083: unknown argument (did you mean -a channels=?)"),
    (["mode=backfill", "sinse=2024-01-01"], "unknown argument"),
    (["mode=backfill", "source=archive.today"], "expected one of live, wayback, commoncrawl"),
    (["source=wayback"], "give -a mode=backfill too"),
])
def test_bad_spider_arguments_are_a_usage_error(tmp_path, args, message):
    done = subprocess.run(crawl_command("http://127.0.0.1:9", tmp_path, *args), cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr


@pytest.mark.parametrize("current, previous, alarms", [
    ({"records": 50, "fields": {"body": 0.5}, "site_layer": {}},
     [{"coverage": {"records": 50, "fields": {"body": 1.0}, "site_layer": {}}}], 1),
    ({"records": 50, "fields": {"body": 0.9}, "site_layer": {}},
     [{"coverage": {"records": 50, "fields": {"body": 1.0}, "site_layer": {}}}], 0),
    ({"records": 50, "fields": {}, "site_layer": {"title": 0.0}},
     [{"coverage": {"records": 50, "fields": {}, "site_layer": {"title": 1.0}}}], 1),
    ({"records": 3, "fields": {"body": 0.0}, "site_layer": {}},
     [{"coverage": {"records": 50, "fields": {"body": 1.0}, "site_layer": {}}}], 0),
])
def test_coverage_alarms(current, previous, alarms):
    assert len(coverage_alarms(current, previous, drop=0.3, min_records=10)) == alarms


def _run(mode: str, since: str | None, by_template: dict[str, tuple[int, float]],
         fields: dict[str, float] | None = None) -> dict:
    records = sum(n for n, _share in by_template.values())
    matched = 1 - by_template.get("none", (0, 0))[0] / records
    return {"mode": mode, "since": since, "until": None, "coverage": {
        "records": records, "fields": fields or {}, "templates_matched": matched,
        "by_template": {t: {"records": n, "site_layer": {"title": share}}
                        for t, (n, share) in by_template.items()}}}


NIGHTLY = _run("nightly", None, {"new-cms": (40, 1.0)}, {"authors": 0.9})


@pytest.mark.parametrize("current, alarms", [
    # A template met for the first time (no title selector) is no redesign of the others.
    (_run("nightly", None, {"new-cms": (20, 1.0), "docbao-2019": (20, 0.0)}), []),
    # The same template's selectors stopped giving the title: the markup changed.
    (_run("nightly", None, {"new-cms": (40, 0.2)}),
     ["site-profile share of title on new-cms pages"]),
    # Pages no template matches: a redesign.
    (_run("nightly", None, {"none": (30, 0.0), "new-cms": (10, 1.0)}),
     ["share of records a site template matched"]),
    # A backfill of another era is not judged by the nightlies' field coverage...
    (_run("backfill", "2011-01-01", {"old-cms": (40, 1.0)}, {"authors": 0.3}), []),
    # ...but a nightly is.
    (_run("nightly", None, {"new-cms": (40, 1.0)}, {"authors": 0.3}), ["coverage of authors"]),
])
def test_coverage_alarms_compare_like_with_like(current, alarms):
    found = coverage_alarms(current["coverage"], [NIGHTLY, NIGHTLY], drop=0.3, min_records=10,
                            kind=run_kind(current))
    assert [a.split(" fell")[0] for a in found] == alarms
