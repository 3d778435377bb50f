"""The articles each listing showed in a run, kept in a temporary SQLite table (ListedArticles)
instead of a dict of sets in memory: the same answers, and a failure to keep them stops the run
as a storage failure instead of letting a listing count as walked."""

from __future__ import annotations

import random
import sqlite3
import urllib.request

import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.run.outcome import PROBLEMS_KEY, ExitStatus
from crawler.store.state import CrawlState, ListedArticles
from spiders.baonamdinh import BaoNamDinhSpider
from tests.replica import Replica


def _fill(state: CrawlState, rng: random.Random) -> tuple[dict[str, set[str]], ListedArticles]:
    """The same listings, as the spider used to keep them and as it keeps them now."""
    as_dict: dict[str, set[str]] = {}
    listed = ListedArticles(state.db)
    ids = [f"{n:07d}" for n in range(300)]
    for _page in range(120):
        key = f"/channel/{5080 + rng.randrange(12)}/"
        shown = rng.sample(ids, rng.randrange(0, 6))  # a page may list no wanted article
        as_dict.setdefault(key, set()).update(shown)
        listed.add(key, shown)
    for key in ("/empty/", "/thoi-su/"):  # listings whose pages showed no wanted article
        as_dict.setdefault(key, set())
        listed.add(key, [])
    # Some ids archived, some rejected for good, some rejected for now, the rest lost.
    for article_id in ids[:120]:
        state.db.execute("INSERT INTO articles(key, id, content_hash, version, published_date,"
                         " file) VALUES(?, ?, 'h', 1, '2024-01-01', 'articles/2024-01.jsonl')",
                         (article_id, article_id))
    for n, article_id in enumerate(ids[120:200]):
        state.db.execute("INSERT INTO rejects(url, id, key, reason, retryable)"
                         " VALUES(?, ?, ?, 'r', ?)",
                         (f"http://x/{article_id}", article_id, article_id, n % 2))
    return as_dict, listed


def test_listed_articles_answer_as_the_dict_of_sets_they_replace(tmp_path):
    state = CrawlState(tmp_path)
    try:
        as_dict, listed = _fill(state, random.Random(3))
        assert listed.keys() == set(as_dict)
        for key in as_dict:
            assert listed.get(key, set()) == as_dict[key]
        missing: set[str] = set()
        assert listed.get("/channel/1/", missing) is missing
        walked = set(list(as_dict)[::2]) | {"/empty/", "/never-listed/"}
        keep_open = frozenset(list(as_dict)[1:3])
        for finished in (True, False):
            by_dict = state.settle_listings(as_dict, walked, "2025-01-01T00:00:00+07:00",
                                            finished=finished, keep_open=keep_open)
            by_table = state.settle_listings(listed, walked, "2025-01-01T00:00:00+07:00",
                                             finished=finished, keep_open=keep_open)
            assert by_table == by_dict
            assert by_dict["complete"] or not finished
            assert by_dict["reopened"]
            assert "/empty/" in by_table["complete" if finished else "open"]
    finally:
        state.close()


def test_the_table_lives_only_as_long_as_its_connection(tmp_path):
    state = CrawlState(tmp_path)
    ListedArticles(state.db).add("/channel/5083/", ["1", "2"])
    state.close()
    state = CrawlState(tmp_path)
    try:
        assert ListedArticles(state.db).keys() == set()  # a new run starts empty
    finally:
        state.close()


class _Buggy:
    def add(self, key: str, ids: list[str], shown: list[str] = ()) -> int:
        raise ValueError("a bug")


class _FullTempStore:
    def add(self, key: str, ids: list[str], shown: list[str] = ()) -> int:
        raise sqlite3.OperationalError("database or disk is full")


def test_a_listing_that_cannot_be_remembered_stops_the_run_as_a_storage_failure(tmp_path):
    with Replica(articles=40, seed=2, crawl_delay=0) as site:
        url = site.url + "/channel/5083/"
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = answer.read()
    crawler = get_crawler(BaoNamDinhSpider, settings_dict={
        "ARCHIVE_DIR": str(tmp_path), "SITE_URL": site.url, "SITE_HOST_ALIASES": "localhost"})
    spider = BaoNamDinhSpider.from_crawler(crawler)
    crawler.spider = spider
    try:
        spider.listed = _FullTempStore()
        response = HtmlResponse(url, body=body, encoding="utf-8")
        requests = list(spider.parse_listing(response, key="/channel/5083/"))
        # The articles listed were asked for; the next page is not, and the run stops.
        assert requests and all(r.callback == spider.parse_article for r in requests)
        problems = crawler.stats.get_value(PROBLEMS_KEY)
        assert [p["status"] for p in problems] == [ExitStatus.STORAGE_FAILURE]
        assert "/channel/5083/" in problems[0]["message"]
        spider.listed = _Buggy()
        with pytest.raises(ValueError):  # a bug is no storage failure: it is not swallowed
            list(spider.parse_listing(response, key="/channel/5083/"))
    finally:
        spider.state.close()
