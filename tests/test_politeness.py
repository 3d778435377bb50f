"""Politeness: one slot for all host aliases, robots.txt's Crawl-delay as a floor, archives at their rate."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy.http import Request, Response, TextResponse
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.run.politeness import (
    RETRY_AFTER_STATS,
    SITE_SLOT,
    ArchiveBackoffMiddleware,
    ArchiveSlotMiddleware,
    ArchiveSlots,
    CrawlDelayMiddleware,
    SiteAskedToWait,
    SiteSlotMiddleware,
    backoff_seconds,
    retry_after_seconds,
)

SETTINGS = {"SITE_URL": "https://baonamdinh.vn", "SITE_HOST_ALIASES": ["baonamdinh.com.vn"],
            "ROBOTSTXT_OBEY": True, "CRAWL_DELAY_MAX": 30.0, "USER_AGENT": "bnd-test"}


def test_every_host_alias_shares_one_slot():
    mw = build_from_crawler(SiteSlotMiddleware, get_crawler(settings_dict=SETTINGS))
    slots = []
    for url in ("https://baonamdinh.vn/", "http://www.baonamdinh.com.vn/channel/5083/",
                "https://example.org/x"):
        request = Request(url)
        mw.process_request(request)
        slots.append(request.meta.get("download_slot"))
    assert slots == [SITE_SLOT, SITE_SLOT, None]


class FakeDownloader:
    def __init__(self):
        self.slots = {SITE_SLOT: SimpleNamespace(delay=0.0)}

    def get_slot_key(self, request):
        return request.meta.get("download_slot", "other")


def crawl_delay_middleware(max_delay=30.0):
    crawler = get_crawler(settings_dict={**SETTINGS, "CRAWL_DELAY_MAX": max_delay})
    crawler.stats = SimpleNamespace(set_value=lambda *a: None)
    crawler.engine = SimpleNamespace(downloader=FakeDownloader())
    return build_from_crawler(CrawlDelayMiddleware, crawler), crawler.engine.downloader


def robots(body: bytes) -> tuple[Request, Response]:
    request = Request("https://baonamdinh.vn/robots.txt", meta={"download_slot": SITE_SLOT})
    return request, Response(request.url, body=body, request=request)


def test_crawl_delay_becomes_the_slots_floor_even_after_autothrottle_lowers_it():
    mw, downloader = crawl_delay_middleware()
    mw.process_response(*robots(b"User-agent: *\nCrawl-delay: 4\nDisallow: /search/\n"))
    slot = downloader.slots[SITE_SLOT]
    assert slot.delay == 4.0
    slot.delay = 0.5  # AutoThrottle adjusting down on a fast response
    page = Request("https://baonamdinh.com.vn/channel/5083/", meta={"download_slot": SITE_SLOT})
    mw.process_response(page, TextResponse(page.url, body=b"", request=page))
    assert slot.delay == 4.0  # the alias shares the slot, and so its floor


def test_crawl_delay_is_capped():
    mw, downloader = crawl_delay_middleware(max_delay=10.0)
    mw.process_response(*robots(b"User-agent: *\nCrawl-delay: 3600\n"))
    assert downloader.slots[SITE_SLOT].delay == 10.0


def test_no_crawl_delay_leaves_the_slot_alone():
    mw, downloader = crawl_delay_middleware()
    mw.process_response(*robots(b"User-agent: *\nDisallow: /search/\n"))
    assert downloader.slots[SITE_SLOT].delay == 0.0


# --- web archives ---------------------------------------------------------------------------------

ARCHIVES = {**SETTINGS, "SITE_URL": "http://127.0.0.1:8088", "SITE_HOST_ALIASES": ["localhost"],
            "WAYBACK_URL": "http://127.0.0.1:9000/ia", "COMMONCRAWL_INDEX_URL":
            "http://127.0.0.1:9000/cc-index", "COMMONCRAWL_DATA_URL": "http://127.0.0.1:9000/cc",
            "WAYBACK_RATE": 0.5, "COMMONCRAWL_RATE": 4.0, "SOURCES_OBEY_ROBOTSTXT": False,
            "SOURCES_BACKOFF_BASE": 5.0, "SOURCES_BACKOFF_MAX": 60.0}


def test_each_archive_gets_one_slot_at_its_rate():
    settings = Settings(ARCHIVES)
    ArchiveSlots().update_settings(settings)
    slots = settings.getdict("DOWNLOAD_SLOTS")
    # jitter for Scrapy 2.19, randomize_delay for 2.18 (the declared minimum): no random part.
    assert slots["wayback"] == {"concurrency": 1, "delay": 2.0, "jitter": 0.0,
                                "randomize_delay": False}
    assert slots["commoncrawl"]["delay"] == 0.25
    with pytest.raises(ValueError, match="WAYBACK_RATE"):
        ArchiveSlots().update_settings(Settings({**ARCHIVES, "WAYBACK_RATE": 0}))


def test_archive_requests_are_routed_to_their_slot_and_the_site_keeps_its_own():
    crawler = get_crawler(settings_dict=ARCHIVES)
    archive_mw = build_from_crawler(ArchiveSlotMiddleware, crawler)
    site_mw = build_from_crawler(SiteSlotMiddleware, crawler)
    seen = {}
    for url in ("http://127.0.0.1:9000/ia/cdx/search/cdx?url=baonamdinh.vn/",
                "http://127.0.0.1:9000/cc-index/collinfo.json",
                "http://127.0.0.1:9000/cc/crawl-data/x.warc.gz",
                "http://127.0.0.1:8088/channel/5083/"):
        request = Request(url)
        archive_mw.process_request(request)
        site_mw.process_request(request)  # the same host, another port: the site's slot
        seen[url.split("/")[3]] = (request.meta.get("download_slot"),
                                   request.meta.get("dont_obey_robotstxt"),
                                   request.meta.get("autothrottle_dont_adjust_delay"))
    assert seen == {"ia": ("wayback", True, True), "cc-index": ("commoncrawl", True, True),
                    "cc": ("commoncrawl", True, True), "channel": (SITE_SLOT, None, None)}


@pytest.mark.parametrize(("header", "want"), [
    (b"7", 7.0), ("120", 120.0), (None, None), (b"", None), (b"soon", None),
    (b"Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
])
def test_retry_after(header, want):
    now = 1445412480.0  # 2015-10-21T07:28:00Z
    assert retry_after_seconds(header, now=now) == want


@pytest.mark.parametrize(("retry_after", "retries", "want"), [
    (None, 0, 5.0), (None, 1, 10.0), (None, 3, 40.0), (None, 9, 60.0), (7.0, 4, 7.0),
    (600.0, 0, 600.0),  # the archive's own word, not capped
])
def test_backoff_doubles_and_is_capped(retry_after, retries, want):
    assert backoff_seconds(retry_after, retries, base=5.0, cap=60.0) == want


def backoff_middleware():
    settings = Settings(ARCHIVES)
    ArchiveSlots().update_settings(settings)
    crawler = get_crawler(settings_dict={**ARCHIVES,
                                         "DOWNLOAD_SLOTS": settings.getdict("DOWNLOAD_SLOTS")})
    crawler.stats = SimpleNamespace(inc_value=lambda *a, **k: None)
    slot = SimpleNamespace(delay=2.0)
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots={"wayback": slot}))
    return build_from_crawler(ArchiveBackoffMiddleware, crawler), slot


def answer(status: int, retries: int = 0, headers: dict | None = None) -> dict:
    request = Request("http://127.0.0.1:9000/ia/web/2019id_/x",
                      meta={"download_slot": "wayback", "retry_times": retries})
    response = Response(request.url, status=status, headers=headers or {}, request=request)
    return {"response": response, "request": request, "spider": None}


def test_an_archive_rests_after_refusals_and_resumes_its_pace_after_an_answer():
    mw, slot = backoff_middleware()
    mw.response_downloaded(**answer(429, headers={"Retry-After": "30"}))
    assert slot.delay == 30.0  # Retry-After honoured
    mw.response_downloaded(**answer(503, retries=2))
    assert slot.delay == 30.0  # 5 * 2^2 = 20 is shorter than the rest already asked for
    mw.response_downloaded(**answer(200))
    assert slot.delay == 2.0  # its own rate again
    mw.response_downloaded(**answer(502, retries=3))
    assert slot.delay == 40.0
    mw.response_downloaded(**answer(404))  # an answer, not a refusal
    assert slot.delay == 2.0
    mw.process_exception(answer(200, retries=1)["request"], TimeoutError())
    assert slot.delay == 10.0


def test_the_site_is_not_touched_by_archive_backoff():
    mw, slot = backoff_middleware()
    request = Request("http://127.0.0.1:8088/x", meta={"download_slot": SITE_SLOT})
    mw.response_downloaded(Response(request.url, status=503, request=request), request)
    assert slot.delay == 2.0


def site_backoff_middleware(cap: float = 300.0):
    crawler = get_crawler(settings_dict={**SETTINGS, "SITE_RETRY_AFTER_MAX": cap})
    stats = {}
    crawler.stats = SimpleNamespace(
        inc_value=lambda key, n=1: stats.__setitem__(key, stats.get(key, 0) + n),
        max_value=lambda key, value: stats.__setitem__(key, max(stats.get(key, value), value)),
        get_value=lambda key, default=None: stats.get(key, default))
    slot = SimpleNamespace(delay=1.0, jitter=0.5, waits_cancelled=0)
    # Slot.close cancels the next request's wait, scheduled a whole rest after the last one.
    slot.close = lambda: setattr(slot, "waits_cancelled", slot.waits_cancelled + 1)
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots={SITE_SLOT: slot}))
    return build_from_crawler(ArchiveBackoffMiddleware, crawler), slot, stats


def site_answer(status: int, retry_after: str | None = None, path: str = "/x",
                latency: float = 0.0) -> tuple[Request, Response]:
    request = Request(f"https://baonamdinh.vn{path}",
                      meta={"download_slot": SITE_SLOT, "download_latency": latency})
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return request, Response(request.url, status=status, headers=headers, request=request)


def test_the_site_rests_as_its_retry_after_asks_up_to_the_cap_and_then_gets_its_pace_back():
    mw, slot, stats = site_backoff_middleware(cap=300.0)
    request, response = site_answer(503)  # no Retry-After: Scrapy's retries, no rest
    mw.response_downloaded(response, request)
    assert (slot.delay, slot.jitter) == (1.0, 0.5)
    request, response = site_answer(429, "120")
    mw.response_downloaded(response, request)
    assert (slot.delay, slot.jitter) == (120.0, 0.0)  # as long as asked, without jitter
    assert mw.process_response(request, response) is response  # within the cap: retried
    # An answer to a request sent before the site asked does not end the rest...
    request, response = site_answer(200, latency=60.0)
    mw.response_downloaded(response, request)
    assert slot.delay == 120.0 and slot.waits_cancelled == 0
    # ... one sent after it does, and the next request no longer waits out the rest.
    request, response = site_answer(200)
    mw.response_downloaded(response, request)
    assert (slot.delay, slot.jitter, slot.waits_cancelled) == (1.0, 0.5, 1)
    request, response = site_answer(503, "86400")
    mw.response_downloaded(response, request)
    assert slot.delay == 300.0  # slowed as far as the cap
    with pytest.raises(SiteAskedToWait, match="86400 s .* SITE_RETRY_AFTER_MAX=300 s"):
        mw.process_response(request, response)
    assert stats == {RETRY_AFTER_STATS + "asked": 2, RETRY_AFTER_STATS + "longest": 86400.0,
                     RETRY_AFTER_STATS + "refused": 1}
    # robots.txt keeps RFC 9309's reading of its status.
    request, response = site_answer(429, "86400", path="/robots.txt")
    assert mw.process_response(request, response) is response


@pytest.mark.parametrize("header", ["\u0663\u0660", "\uff13\uff10", "\u00b3"])
def test_a_retry_after_in_other_digits_is_no_number(header):
    assert retry_after_seconds(header) is None
