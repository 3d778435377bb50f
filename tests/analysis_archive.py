"""One archive for the analysts' side tests: two real crawls of a faulty replica, plus edits.

The first night runs with faults and no retries, so some articles end as rejects (5xx, timeouts,
truncated pages) or are never fetched (a listing that stayed truncated): holes the report must
show. The second night, a day later, adds new articles and a second run report. Two articles are
then edited through the archive's own API (as the archive pipeline writes an edit: a new line,
version 2), so there are versions to choose from; some records have no time of day
(``published_at`` null). The replica is the demo's (seed 1, 200 articles), where no article of the
first few dozen month files has a kicker: reading the JSON Lines without ``union_by_name`` then
loses every kicker, which the README test must notice. Built once per test session; tests that
change it work on a copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crawler.analysis.manifest import write_manifest
from crawler.store.archive import Archive, content_hash, iter_records
from tests.crawling import run_crawl
from tests.replica import Replica

NIGHTS = ("2025-06-28T23:00:00+07:00", "2025-06-29T23:00:00+07:00")
FAULTY = {"RETRY_TIMES": "0", "DOWNLOAD_TIMEOUT": "1"}
EDITED = " Bài viết đã được cập nhật."


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
