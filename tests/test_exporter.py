"""ArchiveItemExporter: the one serialisation of archive records, on a BytesIO and as a crawl's feed."""

from __future__ import annotations

import io
import json
import subprocess

import pytest

from crawler.items import RECORD_FIELDS, ArticleItem, RejectItem
from crawler.store.archive import Archive, content_hash
from crawler.store.exporter import ArchiveItemExporter
from tests.crawling import REPO, archive_lines, crawl_command
from tests.replica import Replica


def article(article_id: str = "2548123") -> ArticleItem:
    item = ArticleItem(
        url=f"https://baonamdinh.vn/channel/5083/202201/dang-uy-khoi-{article_id}/",
        fetched_at="2022-01-15T08:00:00+07:00", id=article_id, cms="old",
        title="Đảng ủy Khối triển khai nhiệm vụ năm 2022", body="Sáng 14-1, Đảng ủy Khối họp.",
        published_date="2022-01-14", published_precision="day", section="5083",
        provenance={"title": "site"}, authors=["Văn Trọng"], version=1,
    )
    item.content_hash = content_hash(item.to_record())
    return item


def exported(*items: object, **kwargs: object) -> list[bytes]:
    buffer = io.BytesIO()
    exporter = ArchiveItemExporter(buffer, **kwargs)
    exporter.start_exporting()
    for item in items:
        exporter.export_item(item)
    exporter.finish_exporting()
    return buffer.getvalue().splitlines(keepends=True)


def test_an_article_is_one_utf8_line_in_schema_order():
    (line,) = exported(article())
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    text = line.decode("utf-8")
    assert "Đảng ủy" in text and "\\u" not in text  # Vietnamese as is, never escaped
    assert ", " not in text.split('"body"')[0]  # compact separators
    record = json.loads(text)
    assert list(record) == list(RECORD_FIELDS)
    assert record == article().to_record()


def test_a_feed_holds_articles_only():
    reject = RejectItem(url="https://baonamdinh.vn/x", reason="HTTP 404", stage="fetch",
                        fetched_at="2022-01-15T08:00:00+07:00")
    lines = exported(reject, article("1"), reject, article("2"))
    assert [json.loads(line)["id"] for line in lines] == ["1", "2"]


def test_serialize_item_of_a_reject_is_its_record():
    reject = RejectItem(url="https://baonamdinh.vn/x", reason="HTTP 404", stage="fetch",
                        fetched_at="2022-01-15T08:00:00+07:00", id="1")
    line = ArchiveItemExporter().serialize_item(reject)
    assert json.loads(line) == reject.to_record()


def test_feed_export_fields_choose_and_rename():
    (line,) = exported(article(), fields_to_export={"id": "article_id", "title": "title"})
    assert json.loads(line) == {"article_id": "2548123",
                                "title": "Đảng ủy Khối triển khai nhiệm vụ năm 2022"}


def test_the_archive_writes_exactly_the_exporters_bytes(tmp_path):
    item = article()
    with Archive(tmp_path, fsync=False) as archive:
        rel = archive.put_article(item.to_record())
    assert (tmp_path / rel).read_bytes() == ArchiveItemExporter().serialize_item(item)


@pytest.mark.slow
def test_a_crawl_feed_in_archive_format_equals_the_archive(tmp_path):
    """``-O out.jsonl:archive`` gives a plain feed with the very lines the archive holds."""
    feed = tmp_path / "out.jsonl"
    with Replica(articles=60, seed=5, crawl_delay=0) as site:
        command = crawl_command(site.url, tmp_path / "archive") + ["-O", f"{feed}:archive"]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-4000:]
    archived = sorted(
        line for path in sorted((tmp_path / "archive" / "articles").glob("*.jsonl"))
        for line in path.read_bytes().splitlines(keepends=True))
    assert len(archived) == len(archive_lines(tmp_path / "archive")) > 50
    assert sorted(feed.read_bytes().splitlines(keepends=True)) == archived
