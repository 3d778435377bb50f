"""Politeness middlewares: one slot for all host aliases, and robots.txt's Crawl-delay as a floor."""

from __future__ import annotations

from types import SimpleNamespace

from scrapy.http import Request, Response, TextResponse
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.run.politeness import SITE_SLOT, CrawlDelayMiddleware, SiteSlotMiddleware

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
