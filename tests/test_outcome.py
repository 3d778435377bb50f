"""Exit statuses (crawler/run/outcome.py): one per kind of failure, the worst wins, unknown -a refused."""

from __future__ import annotations

import errno
import signal
import sqlite3

import pytest
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.extract.listings import parse_listing
from crawler.run.outcome import ExitStatus, exit_status, is_storage_error, report_problem
from crawler.run.undone import threshold, undone_problems
from spiders.options import CrawlOptions

S = ExitStatus


def problems(*statuses: ExitStatus) -> list[dict]:
    stats = MemoryStatsCollector(get_crawler())
    for status in statuses:
        report_problem(stats, status, f"{status.name} happened")
        report_problem(stats, status, f"{status.name} happened")  # recorded once
    return stats.get_value("archive/run/problems") or []


@pytest.mark.parametrize("statuses, expected", [
    ((), 0),
    ((S.COVERAGE_ALARM,), 3),
    ((S.COVERAGE_ALARM, S.LINKS_DROPPED), 7),
    ((S.LINKS_DROPPED, S.SITE_UNREACHABLE), 4),
    ((S.SITE_UNREACHABLE, S.ROBOTS_FORBIDS), 5),
    ((S.ROBOTS_FORBIDS, S.INTERRUPTED), 130),
    ((S.INTERRUPTED, S.STORAGE_FAILURE, S.COVERAGE_ALARM), 6),
    ((S.INCOMPLETE, S.COVERAGE_ALARM, S.LINKS_DROPPED), 9),
    ((S.INCOMPLETE, S.SITE_UNREACHABLE), 4),
])
def test_the_worst_problem_is_the_exit_status(statuses, expected):
    found = problems(*statuses)
    assert len(found) == len(statuses)
    assert exit_status(found) == expected


def test_a_signal_gives_128_plus_its_number():
    assert exit_status(problems(S.INTERRUPTED), signal.SIGTERM) == 143


def test_statuses_are_distinct():
    assert len({int(s) for s in ExitStatus}) == len(ExitStatus)


@pytest.mark.parametrize("exc, storage", [
    (OSError(errno.ENOSPC, "No space left on device"), True),
    (OSError(errno.EIO, "Input/output error"), True),
    (PermissionError(errno.EACCES, "Permission denied"), True),
    (sqlite3.OperationalError("database is locked"), True),
    (sqlite3.OperationalError("database or disk is full"), True),
    (sqlite3.OperationalError("no such column: x"), False),
    (ValueError("a bug"), False),
    (KeyError("a bug"), False),
])
def test_storage_errors_are_told_from_bugs(exc, storage):
    assert is_storage_error(exc) is storage


@pytest.mark.parametrize("args, message", [
    ({"chanels": "5083"}, "-a chanels=5083: unknown argument (did you mean -a channels=?)"),
    ({"mode": "backfill", "sinse": "2024-01-01"}, "(did you mean -a since=?)"),
    ({"zzz": "1"}, "known: mode, since, until, channels"),
])
def test_unknown_spider_arguments_are_refused(args, message):
    with pytest.raises(ValueError) as caught:
        CrawlOptions.parse(**args)
    assert message in str(caught.value)


def test_article_links_on_other_hosts_are_returned_not_followed():
    html = ('<html><a href="https://baonamdinh.vn/channel/5083/202201/a-2548001/">a</a>'
            '<a href="https://beta.baonamdinh.vn/channel/5083/202201/b-2548002/">b</a>'
            '<a href="https://beta.baonamdinh.vn/channel/5083/202201/b-2548002/">b again</a>'
            '<a href="https://facebook.com/sharer?u=x">share</a></html>')
    page = parse_listing(html, "https://baonamdinh.vn/channel/5083/", frozenset({"baonamdinh.vn"}))
    assert [entry.ref.id for entry in page.entries] == ["2548001"]
    assert page.dropped_links == ["https://beta.baonamdinh.vn/channel/5083/202201/b-2548002/"]


@pytest.mark.parametrize("value, nightly, backfill", [
    ({"nightly": 0.1, "backfill": 0.0}, 0.1, 0.0),  # the default's shape
    ("0.25", 0.25, 0.25),  # -s NAME=0.25: both modes
    ('{"nightly": 0.5, "backfill": 0.02}', 0.5, 0.02),
    (1, 1.0, 1.0),
])
def test_thresholds_are_one_share_or_one_per_mode(value, nightly, backfill):
    settings = Settings({"REPORT_ARTICLES_LEFT_MAX": value})
    assert threshold(settings, "REPORT_ARTICLES_LEFT_MAX", "nightly") == nightly
    assert threshold(settings, "REPORT_ARTICLES_LEFT_MAX", "backfill") == backfill


@pytest.mark.parametrize("value", ["1.5", "-0.1", '{"nightly": 0.1}', '{"weekly": 0.1}', "lots"])
def test_a_bad_threshold_is_refused(value):
    with pytest.raises(ValueError):
        threshold(Settings({"REPORT_ARTICLES_LEFT_MAX": value}), "REPORT_ARTICLES_LEFT_MAX",
                  "nightly")


def report_with(**undone_values) -> dict:
    undone = {"walks_cut": {"count": 0, "walks": []}, "listing_pages": 20,
              "listing_pages_failed": 0, "every_listing_failed": False, "articles": 100,
              "articles_left": 0, "articles_rejected": 0, "retry_after": {}}
    return {"mode": "nightly", "undone": {**undone, **undone_values}}


LIMITS = {"listing_pages_failed": 0.1, "articles_left": 0.1, "articles_rejected": 0.5}


@pytest.mark.parametrize("undone, said", [
    ({}, []),
    ({"articles_left": 10, "listing_pages_failed": 2, "articles_rejected": 50}, []),  # at most
    ({"articles_left": 11}, ["11 of 100 (11%, above REPORT_ARTICLES_LEFT_MAX=0.1 for a nightly)"
                             " article pages are left for the next run"]),
    ({"listing_pages_failed": 3}, ["3 of 20 (15%, above REPORT_LISTINGS_FAILED_MAX=0.1"]),
    ({"articles_rejected": 51}, ["51 of 100 (51%, above REPORT_ARTICLES_REJECTED_MAX=0.5"]),
    ({"walks_cut": {"count": 1, "walks": [{"walk": "listing /channel/5083/", "why": "4 pages"}]}},
     ["1 walk(s) cut short: listing /channel/5083/ (4 pages)"]),
    ({"every_listing_failed": True, "listing_pages_failed": 20},
     ["every listing failed (20 listing pages after every retry)"]),
    ({"retry_after": {"asked": 3, "longest": 86400.0, "refused": 2}},
     ["the site asked us to slow down: Retry-After up to 86400 s, more than "
      "SITE_RETRY_AFTER_MAX=300 s, on 2 page(s)"]),
])
def test_work_left_for_the_next_run_is_said(undone, said):
    problems = undone_problems(report_with(**undone), LIMITS, cap=300.0)
    assert len(problems) == len(said), problems
    for message, start in zip(problems, said, strict=True):
        assert message.startswith(start), message
