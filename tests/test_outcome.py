"""Exit statuses (crawler/run/outcome.py): one per kind of failure, the worst wins, unknown -a refused."""

from __future__ import annotations

import errno
import signal
import sqlite3

import pytest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.extract.listings import parse_listing
from crawler.run.outcome import ExitStatus, exit_status, is_storage_error, report_problem
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
