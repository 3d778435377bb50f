"""CrawlStats (crawler/run/stats.py): Scrapy's MemoryStatsCollector without the deprecation
hook on every attribute access, and the same figures for the same calls."""

from __future__ import annotations

import random

from scrapy import Spider
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler

from crawler.process.processing import project_settings
from crawler.run.stats import CrawlStats


def test_the_same_calls_give_the_same_figures() -> None:
    crawler = get_crawler()
    ours, scrapys = CrawlStats(crawler), MemoryStatsCollector(crawler)
    rng = random.Random(5)
    keys = [f"archive/k{n}" for n in range(6)]
    for _ in range(2000):
        name = rng.choice(["inc_value", "max_value", "min_value", "set_value", "get_value"])
        key = rng.choice(keys)
        args = (key,) if name == "get_value" else \
            (key, rng.randrange(-5, 50)) if name != "inc_value" or rng.random() < 0.5 else (key,)
        assert getattr(ours, name)(*args) == getattr(scrapys, name)(*args)
    assert ours.get_stats() == scrapys.get_stats() and len(ours.get_stats()) == len(keys)
    ours.inc_value("archive/k0", 2, spider=None)  # a spider argument is still taken
    ours.clear_stats()
    assert ours.get_stats() == {}


def test_the_project_collects_with_it_and_keeps_a_runs_stats_under_the_spiders_name() -> None:
    crawler = get_crawler(Spider)
    crawler.spider = Spider("baonamdinh")
    stats = load_object(project_settings()["STATS_CLASS"])(crawler)
    assert isinstance(stats, CrawlStats)
    stats.open_spider()
    stats.set_value("archive/articles/new", 3)
    stats.close_spider(reason="finished")
    assert stats.spider_stats["baonamdinh"] == {"archive/articles/new": 3}
