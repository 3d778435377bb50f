"""One archive for the analysts' side tests: two real crawls of a faulty replica, plus edits.

The first night runs with faults and no retries, so some articles end as rejects (5xx, timeouts,
truncated pages) or are never fetched (a listing that stayed truncated): holes the report must
show. The second night, a day later, adds new articles and a second run report. Two articles are
then edited through the archive's own API (as the archive pipeline writes an edit: a new line,
version 2), so there are versions to choose from. Two pages go in as ``extract`` would put them:
the seed dump (a day, no time of day: ``published_at`` null) and a page without a readable date
(only its URL's month: ``published_date`` null, precision ``month``), so the exports meet nulls. The replica is the demo's (seed 1, 200 articles), where no article of the
first few dozen month files has a kicker: reading the JSON Lines without ``union_by_name`` then
loses every kicker, which the README test must notice. Built once per test session; tests that
change it work on a copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crawler.analysis.manifest import write_manifest
from crawler.extract.response import item_from_response, response_from_file
from crawler.extract.textdump import parse_text_dump
from crawler.process.processing import ItemProcessor, project_settings
from crawler.store.archive import Archive, content_hash, iter_records
from tests.crawling import run_crawl
from tests.replica import Replica

NIGHTS = ("2025-06-28T23:00:00+07:00", "2025-06-29T23:00:00+07:00")
FAULTY = {"RETRY_TIMES": "0", "DOWNLOAD_TIMEOUT": "1"}
EDITED = " Bài viết đã được cập nhật."
REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "tests" / "fixtures" / "dumps" / "seed-2022-01-14" / "dump.txt"
# Ids far from the replica's (about 2,100,000-2,550,000 and 7-hex): no collision.
SEED_URL = "https://baonamdinh.vn/channel/5083/202201/dang-uy-khoi-9999901/"
UNDATED_URL = "https://baonamdinh.vn/channel/5087/201905/le-hoi-lang-nghe-9999902/"
UNDATED_PAGE = (
    "<!DOCTYPE html><html><head><title>Lễ hội làng nghề</title></head><body>"
    "<h1>Lễ hội làng nghề truyền thống thu hút du khách</h1>"
    + "".join(f"<p>Đoạn {i}: lễ hội làng nghề năm nay thu hút đông đảo du khách gần xa, với "
              "nhiều hoạt động văn hóa, thể thao và trưng bày sản phẩm thủ công.</p>"
              for i in range(4))
    + "</body></html>"
)


def build(root: Path) -> None:
    """Crawl two nights of a faulty replica into ``root``, edit two articles, write the manifest."""
    with Replica(articles=200, seed=1, crawl_delay=0, now=NIGHTS[0], fault_rate=0.12,
                 hang_seconds=1) as site:
        run_crawl(site.url, root, settings=FAULTY, check=False)
        site.set_now(NIGHTS[1])
        run_crawl(site.url, root, settings=FAULTY, check=False)
    records = sorted(iter_records(root), key=lambda r: r["id"])
    with Archive(root, fsync=False) as archive:
        for record in (records[0], records[-1]):
            edited = dict(record, body=record["body"] + EDITED)
            edited["content_hash"] = content_hash(edited)
            _status, edited["version"] = archive.classify(edited)
            archive.put_article(edited)
    settings = project_settings({"ARCHIVE_DIR": str(root), "ARCHIVE_FSYNC": False})
    fetched = "2025-06-30T08:00:00+07:00"
    with ItemProcessor(settings) as processor:
        for item in (parse_text_dump(SEED.read_text("utf-8"), url=SEED_URL, fetched_at=fetched),
                     item_from_response(response_from_file(UNDATED_PAGE.encode(), UNDATED_URL),
                                        fetched_at=fetched)):
            result, dropped = processor.process(item)
            assert dropped is None and result.__class__.__name__ == "ArticleItem", result
    write_manifest(root)


_BUILT: list[Path] = []


def shared_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the session's archive, built on first use (do not change it: ``archive_copy`` it)."""
    if not _BUILT:
        root = tmp_path_factory.mktemp("analysis") / "archive"
        build(root)
        _BUILT.append(root)
    return _BUILT[0]


def archive_copy(source: Path, target: Path) -> Path:
    """Copy an archive (files and state) to ``target`` and return it."""
    shutil.copytree(source, target)
    return target
