"""No two articles share a key (issue 25): an old-CMS number and a new-CMS 7-hex id that is all
digits are the same string, and two articles. The archive keys them on their CMS generation and
id (``key``: ``old:2548123``, ``new:2548123``); the replica makes such pairs (36 among 250,000
articles by chance, any number on demand); an archive keyed on the id alone is migrated; and a
key the crawler still cannot tell apart is a reject that says so."""

from __future__ import annotations

import html
import json
import logging
import sqlite3
import subprocess
import sys
import unicodedata
import urllib.request
from pathlib import Path

import pytest

from crawler.analysis.export import export
from crawler.analysis.manifest import read_manifest
from crawler.analysis.report import collect
from crawler.analysis.verify import verify
from crawler.items import RejectItem, article_key, record_key
from crawler.process.processing import OfflineStats
from crawler.site.urls import parse_article_url
from crawler.store.archive import COLLISION, NEW, Archive, content_hash
from crawler.store.state import CrawlState
from pipelines.archive import ArchivePipeline
from tests.crawling import REPO, archive_lines, run_crawl
from tests.replica import Replica
from tests.replica.dataset import Dataset
from tests.scoring import score_archive


def test_the_replicas_own_pairs_at_250000_articles_are_two_articles_each() -> None:
    dataset = Dataset(250_000, 1)
    pairs = dataset.collisions()
    assert len(pairs) >= 30, "seed 1 at 250,000 articles gave 36 pairs when this was written"
    for old, new in pairs:
        assert old.id == new.id and old.cms == "old" and new.cms == "new"
        old_ref = parse_article_url("http://x" + dataset.path(old))
        new_ref = parse_article_url("http://x" + dataset.path(new))
        assert old_ref is not None and new_ref is not None
        assert old_ref.id == new_ref.id and old_ref.key != new_ref.key
        assert dataset.by_key[("old", old.id)] is old and dataset.by_key[("new", new.id)] is new


def test_the_replica_serves_both_articles_of_a_shared_id() -> None:
    with Replica(articles=300, seed=3, collisions=4) as site:
        pairs = site.dataset.collisions()
        assert len(pairs) == 4
        for old, new in pairs:
            pages = []
            for meta in (old, new):
                with urllib.request.urlopen(site.url + site.dataset.path(meta)) as answer:
                    pages.append(unicodedata.normalize(
                        "NFC", html.unescape(answer.read().decode("utf-8"))))
            assert site.dataset.head(old.index).title in pages[0]
            assert site.dataset.head(new.index).title in pages[1]


@pytest.mark.slow
def test_a_crawl_archives_both_articles_of_every_shared_id_and_the_analysts_see_both(
        tmp_path: Path) -> None:
    with Replica(articles=300, seed=3, collisions=4, crawl_delay=0) as site:
        truth = site.truth()
        pairs = site.dataset.collisions()
        run_crawl(site.url, tmp_path)
    result = score_archive(str(tmp_path), truth)
    assert result.perfect, result.summary()
    lines = archive_lines(tmp_path)
    for old, new in pairs:
        found = {line["key"] for line in lines if line["id"] == old.id}
        assert found == {f"old:{old.id}", f"new:{new.id}"}
    assert verify(tmp_path).ok, [str(p) for p in verify(tmp_path).problems]
    manifest = read_manifest(tmp_path)
    assert manifest is not None
    assert manifest["totals"]["articles"] == len(truth)
    assert len({i for e in manifest["files"] for i in e.get("ids", [])}) == len(truth) - 4
    assert collect(tmp_path).articles == len(truth)
    done = export(tmp_path, "parquet", output=tmp_path / "out.parquet")
    assert done.rows == len(truth)
    import pyarrow.parquet as pq

    keys = pq.read_table(tmp_path / "out.parquet", columns=["key"]).column("key").to_pylist()
    assert sorted(keys) == sorted(article_key(t["cms"], t["id"]) for t in truth)


def _record(article_id: str, url: str, body: str = "Nội dung.") -> dict:
    ref = parse_article_url(url)
    assert ref is not None
    record = {"id": ref.id, "cms": ref.cms, "key": ref.key, "url": url, "title": "Bài",
              "body": body, "published_date": f"{ref.month[:4]}-{ref.month[4:]}-14",
              "published_month": f"{ref.month[:4]}-{ref.month[4:]}",
              "fetched_at": "2025-06-30T08:00:00+07:00"}
    record["content_hash"] = content_hash(record)
    return record


OLD_URL = "https://baonamdinh.vn/channel/5083/202201/bai-cu-2548123/"
NEW_URL = "https://baonamdinh.vn/chinh-tri/202403/bai-moi-2548123/"
# The old CMS's counter was shared with sister papers: the same number, another month.
OTHER_OLD_URL = "https://baonamdinh.vn/channel/5090/201905/bai-khac-2548123/"


def test_records_of_both_generations_of_one_id_are_two_articles(tmp_path: Path) -> None:
    with Archive(tmp_path, fsync=False) as archive:
        assert archive.store_article(_record("2548123", OLD_URL))[0] == NEW
        assert archive.store_article(_record("2548123", NEW_URL))[0] == NEW
        assert archive.lookup("old:2548123") and archive.lookup("new:2548123")
        assert archive.count() == 2


def test_the_sqlite_export_keeps_both_articles_of_a_shared_id(tmp_path: Path) -> None:
    # Its articles table (and serve's row URLs) is keyed on the key, as the archive: two
    # articles of the two CMS generations that share an id are two rows, neither replaced.
    from crawler.analysis.database import refresh

    with Archive(tmp_path, fsync=False) as archive:
        archive.store_article(_record("2548123", OLD_URL, "Bài cũ."))
        archive.store_article(_record("2548123", NEW_URL, "Bài mới."))
        archive.store_article(_record("2548124", OLD_URL.replace("2548123", "2548124")))
    done = refresh(tmp_path, tmp_path / "out.sqlite")
    assert not done.warnings and (done.added, done.updated) == (3, 0)
    db = sqlite3.connect(tmp_path / "out.sqlite")
    assert db.execute("SELECT key, id, body FROM articles ORDER BY key").fetchall() == [
        ("new:2548123", "2548123", "Bài mới."), ("old:2548123", "2548123", "Bài cũ."),
        ("old:2548124", "2548124", "Nội dung.")]
    assert db.execute("SELECT key, id, version, latest FROM versions ORDER BY key").fetchall() \
        == [("new:2548123", "2548123", 1, 1), ("old:2548123", "2548123", 1, 1),
            ("old:2548124", "2548124", 1, 1)]


def test_a_key_another_article_holds_is_a_reject_that_says_so(tmp_path: Path) -> None:
    pipeline = ArchivePipeline(str(tmp_path), fsync=False, timeout=5, stats=OfflineStats())
    pipeline.open_spider()
    try:
        from crawler.items import ArticleItem

        def item(url: str) -> ArticleItem:
            record = _record("2548123", url)
            return ArticleItem(**{k: v for k, v in record.items() if k != "content_hash"})

        assert pipeline.process_item(item(OLD_URL)).version == 1
        assert pipeline.archive is not None
        assert pipeline.archive.classify(_record("2548123", OTHER_OLD_URL))[0] == COLLISION
        result = pipeline.process_item(item(OTHER_OLD_URL))
        assert isinstance(result, RejectItem)
        assert result.reason.startswith("id collision: old:2548123 is already the key of "
                                        + OLD_URL)
    finally:
        pipeline.close_spider()
    lines = [json.loads(x) for p in (tmp_path / "articles").glob("*.jsonl")
             for x in p.read_text("utf-8").splitlines()]
    assert [line["url"] for line in lines] == [OLD_URL]  # the first one stays, alone
    (reject,) = [json.loads(x) for p in (tmp_path / "rejects").glob("*.jsonl")
                 for x in p.read_text("utf-8").splitlines()]
    assert reject["url"] == OTHER_OLD_URL and "id collision" in reject["reason"]


def _to_the_state_before_keys(root: Path) -> None:
    """Rewrite a state database as it was before issue 25: keyed on the article id alone."""
    db = sqlite3.connect(root / "state.sqlite3", isolation_level=None)
    db.executescript("""
        CREATE TABLE articles_old (id TEXT PRIMARY KEY, content_hash TEXT NOT NULL,
            version INTEGER NOT NULL, published_date TEXT, url TEXT, file TEXT NOT NULL,
            archived_at TEXT);
        INSERT OR REPLACE INTO articles_old SELECT id, content_hash, version, published_date,
            url, file, archived_at FROM articles ORDER BY key;
        DROP TABLE articles; ALTER TABLE articles_old RENAME TO articles;
        CREATE TABLE rechecks_old (id TEXT PRIMARY KEY, at TEXT);
        INSERT INTO rechecks_old SELECT substr(key, 5), at FROM rechecks;
        DROP TABLE rechecks; ALTER TABLE rechecks_old RENAME TO rechecks;
        CREATE TABLE sitemap_lastmods_old (id TEXT PRIMARY KEY, lastmod TEXT NOT NULL);
        DROP TABLE sitemap_lastmods; ALTER TABLE sitemap_lastmods_old RENAME TO sitemap_lastmods;
        DROP INDEX rejects_key; ALTER TABLE rejects DROP COLUMN key;
        ALTER TABLE files DROP COLUMN committed_sha256;
    """)
    db.close()


def _state_problems(root: Path) -> list[str]:
    """What verify finds wrong between the state and the files (these records are not whole)."""
    return [str(p) for p in verify(root).problems if "state" in p.what or "state" in p.place]


def test_a_state_keyed_on_the_id_alone_is_migrated_and_its_listings_walked_again(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Archive(tmp_path, fsync=False) as archive:
        archive.store_article(_record("2548123", OLD_URL))
        archive.store_article(_record("c9408c0", "https://baonamdinh.vn/xa-hoi/202402/x-c9408c0/"))
    with CrawlState(tmp_path) as state:
        state.mark_listing_complete("/channel/5083/", "2025-06-30T09:00:00+07:00")
        state.mark_rechecked("old:2548123", "2025-06-30T09:00:00+07:00")
    _to_the_state_before_keys(tmp_path)
    assert _state_problems(tmp_path) == []  # a reader copes with the old layout
    with caplog.at_level(logging.WARNING), CrawlState(tmp_path) as state:
        assert state.archived_date("old:2548123") == "2022-01-14"
        assert state.archived_date("new:c9408c0") == "2024-02-14"
        assert state.archived_date("new:2548123") is None  # the other generation's: not held
        assert state.rechecked("old:2548123")
        assert not state.listing_complete("/channel/5083/")  # walked to its end once
    assert "keyed on their CMS generation and id" in caplog.text
    with Archive(tmp_path, fsync=False) as archive:  # and an article of the new CMS with the
        assert archive.store_article(_record("2548123", NEW_URL))[0] == NEW  # old one's number
    assert _state_problems(tmp_path) == []
    assert sorted(record_key(line) for line in archive_lines(tmp_path)) == [
        "new:2548123", "new:c9408c0", "old:2548123"]


def test_the_replica_command_plants_pairs_on_demand(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "tests.replica", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert "--collisions" in done.stdout
