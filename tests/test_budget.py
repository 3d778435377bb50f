"""The time budget of a page (crawler/process/budget.py), in the calling process.

A page whose extraction and pipelines up to validation take more than PROCESSING_TIMEOUT seconds
becomes the reject "timeout in STAGE", STAGE being where it was when the time ran out; the
archive is never under the budget. Whole crawls, worker processes and ``reextract``:
tests/test_faults_content.py.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from scrapy.http import HtmlResponse

import crawler.extract.response as response_module
from crawler.extract.response import read_page
from crawler.items import ArticleItem, RejectItem
from crawler.process.budget import StageSlots, StageTimeout, timeout_reason, within
from crawler.process.processing import ItemProcessor, project_settings
from tests.badsite import article_html

URL = "https://baonamdinh.vn/channel/5083/202201/bai-viet-2548123/"
FETCHED_AT = "2022-01-15T09:30:00+07:00"


def page():
    response = HtmlResponse(url=URL, body=article_html(2548123).encode(), status=200,
                            headers={"Content-Type": "text/html; charset=utf-8"})
    return read_page(response, fetched_at=FETCHED_AT)


def test_an_extraction_over_the_budget_is_a_timeout_reject_naming_the_stage(monkeypatch):
    real = response_module.extract_article

    def spin(*args, **kwargs):
        deadline = time.monotonic() + 30  # bounded: a budget that failed fails the test
        while time.monotonic() < deadline:
            pass
        return real(*args, **kwargs)

    monkeypatch.setattr(response_module, "extract_article", spin)
    settings = project_settings({"ARCHIVE_ENABLED": False, "PROCESSING_TIMEOUT": "0.3"})
    started = time.monotonic()
    with ItemProcessor(settings) as processor:
        item, dropped = processor.process(page())
        assert processor.stats.get_value("archive/timeouts/extract") == 1
    assert time.monotonic() - started < 10
    assert dropped is None and isinstance(item, RejectItem)
    assert (item.stage, item.id, item.retryable, item.url) == ("extract", "2548123", False, URL)
    assert item.reason == timeout_reason("extract", 0.3) == (
        "timeout in extract: the page took more than 0.3 s (PROCESSING_TIMEOUT)")


def _spin(seconds: float) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"


def _overrun(budget: float) -> float:
    """Seconds within(budget) let a 10 s spin run before it raised StageTimeout."""
    started = time.monotonic()
    with pytest.raises(StageTimeout):
        within(budget, lambda: _spin(10))
    return time.monotonic() - started


def test_the_timer_left_armed_between_pages_still_keeps_each_budget():
    # The timer stays armed from one page to the next. Each page still gets its own deadline:
    # after a longer budget's page, after pages that ended in time, after the timer fired with
    # no page under way, when it fires first for an earlier page's deadline, after other code
    # took the signal and cleared the timer, and in a forked child (which has no timer of its
    # own, whatever its parent had armed).
    assert within(30, lambda: _spin(0.01)) == "done"
    assert 0.2 <= _overrun(0.2) < 2
    for _ in range(4):
        assert within(0.15, lambda: _spin(0.05)) == "done"
    within(0.05, lambda: None)
    time.sleep(0.15)  # the timer fires with no page under way
    assert 0.2 <= _overrun(0.2) < 2
    within(0.3, lambda: None)
    assert 0.5 <= _overrun(0.5) < 2  # it fires at 0.3 s, for the page before
    within(0.3, lambda: None)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)  # other code takes the signal and the timer
    signal.setitimer(signal.ITIMER_REAL, 0)
    assert 0.5 <= _overrun(0.5) < 2
    within(0.5, lambda: None)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        os._exit(0 if 0.6 <= _overrun(0.6) < 2 else 1)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def test_a_page_within_the_budget_is_a_record_as_before():
    settings = project_settings({"ARCHIVE_ENABLED": False, "PROCESSING_TIMEOUT": "30"})
    with ItemProcessor(settings) as processor:
        item, dropped = processor.process(page())
    assert dropped is None and isinstance(item, ArticleItem) and item.id == "2548123"


def test_a_workers_slot_says_which_page_and_stage_it_is_at():
    slots = StageSlots(2)
    assert slots.read(1) == (0.0, 0, "")
    slots.begin(1)
    slots.stage(1, "bylines")
    started, pages, stage = slots.read(1)
    assert 0 < started <= time.monotonic() and (pages, stage) == (1, "bylines")
    slots.end(1)
    assert slots.read(1)[:2] == (0.0, 1) and slots.read(0) == (0.0, 0, "")
