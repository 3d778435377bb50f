"""The state follows the files (crawler/store/reconcile.py, crawler/store/statedb.py).

Lines deleted, month files deleted, garbage lines, torn tails, a deleted or damaged state
database: opening the archive makes the state true to the files again, never fatally, and says
what it did; ``dry_run`` says the same without changing anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3

from crawler.store.archive import NEW, UNCHANGED, UPDATED, Archive, content_hash, iter_records
from crawler.store.reconcile import open_archive_db, reconcile
from crawler.store.state import CrawlState


def record(article_id: str, body: str = "Nội dung.", date: str = "2022-01-14") -> dict:
    rec = {"id": article_id, "title": f"Bài {article_id}", "body": body, "published_date": date,
           "fetched_at": "2022-01-15T08:00:00+07:00",
           "url": f"https://baonamdinh.vn/channel/5083/202201/bai-{article_id}/"}
    rec["content_hash"] = content_hash(rec)
    return rec


def archive_of(root, ids=("1", "2", "3", "4"), december=("9",)):
    with Archive(root, fsync=False) as archive:
        for article_id in ids:
            archive.store_article(record(article_id))
        for article_id in december:
            archive.store_article(record(article_id, date="2021-12-24"))
    state = CrawlState(root)
    state.mark_listing_complete("/channel/5083/", "2022-01-15T09:00:00+07:00")
    state.close()


def january(root):
    return root / "articles" / "2022-01.jsonl"


def listing_complete(root) -> bool:
    state = CrawlState(root)
    try:
        return state.listing_complete("/channel/5083/")
    finally:
        state.close()


def retry_urls(root) -> list[str]:
    state = CrawlState(root)
    try:
        return [url for url, _ in state.retryable_rejects()]
    finally:
        state.close()


def test_unchanged_files_are_not_read(tmp_path):
    archive_of(tmp_path)
    db, found = open_archive_db(tmp_path)
    db.close()
    assert not found.changed and found.checks == [] and not found.deep


def test_a_deleted_line_makes_its_article_fetched_again_and_its_listing_walked(tmp_path):
    archive_of(tmp_path)
    lines = january(tmp_path).read_bytes().splitlines(keepends=True)
    january(tmp_path).write_bytes(b"".join(lines[:1] + lines[2:]))  # article 2 is gone

    db = sqlite3.connect(tmp_path / "state.sqlite3", isolation_level=None)
    planned = reconcile(tmp_path, db, dry_run=True)
    assert [lost[0] for lost in planned.lost] == ["2"]
    assert any("to fetch again" in line for line in planned.summary())
    assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 5  # dry run: unchanged
    db.close()

    with Archive(tmp_path, fsync=False) as archive:
        assert [lost[0] for lost in archive.reconciliation.lost] == ["2"]
        assert archive.lookup("2") is None
        assert archive.store_article(record("2"))[0] == NEW
        assert archive.store_article(record("1"))[0] == UNCHANGED
    assert not listing_complete(tmp_path)
    assert sorted(r["id"] for r in iter_records(tmp_path)) == ["1", "2", "3", "4", "9"]


def test_a_deleted_month_file_makes_its_articles_fetched_again(tmp_path, caplog):
    archive_of(tmp_path)
    january(tmp_path).unlink()
    with caplog.at_level("WARNING"), Archive(tmp_path, fsync=False) as archive:
        assert sorted(lost[0] for lost in archive.reconciliation.lost) == ["1", "2", "3", "4"]
        assert archive.count() == 1
    assert "articles/2022-01.jsonl is gone" in caplog.text
    assert len(retry_urls(tmp_path)) == 4 and not listing_complete(tmp_path)


def test_a_lost_newest_version_falls_back_to_the_one_on_disk(tmp_path):
    with Archive(tmp_path, fsync=False) as archive:
        archive.store_article(record("1"))
        assert archive.store_article(record("1", body="Sửa."))[0] == UPDATED
    lines = january(tmp_path).read_bytes().splitlines(keepends=True)
    january(tmp_path).write_bytes(lines[0])
    with Archive(tmp_path, fsync=False) as archive:
        assert archive.reconciliation.fallen_back == [("1", 2, 1, record("1")["url"])]
        assert archive.lookup("1") == (record("1")["content_hash"], 1)
        assert archive.store_article(record("1", body="Sửa.")) == (UPDATED, 2)
    assert retry_urls(tmp_path) == []  # archiving it forgot the retry


def test_a_garbage_line_is_moved_aside_and_named(tmp_path, caplog):
    archive_of(tmp_path)
    lines = january(tmp_path).read_bytes().splitlines(keepends=True)
    january(tmp_path).write_bytes(b"".join(lines[:2] + [b"{garbage, not json\n"] + lines[2:]))
    with caplog.at_level("WARNING"), Archive(tmp_path, fsync=False) as archive:
        (where,) = archive.reconciliation.quarantine_files
        assert archive.count() == 5 and not archive.reconciliation.lost
    assert "articles/2022-01.jsonl line 3" in caplog.text and where in caplog.text
    assert (tmp_path / where).read_bytes() == b"{garbage, not json\n"
    assert january(tmp_path).read_bytes() == b"".join(lines)
    assert listing_complete(tmp_path)  # nothing was lost


def test_a_torn_tail_is_kept_aside_not_deleted(tmp_path):
    archive_of(tmp_path)
    with january(tmp_path).open("ab") as fh:
        fh.write('{"id": "5", "title": "Bài bị c'.encode())
    with Archive(tmp_path, fsync=False) as archive:
        (where,) = archive.reconciliation.quarantine_files
        assert archive.store_article(record("5"))[0] == NEW
    assert (tmp_path / where).read_text("utf-8") == '{"id": "5", "title": "Bài bị c\n'
    assert [json.loads(line)["id"] for line in january(tmp_path).read_bytes().splitlines()] == [
        "1", "2", "3", "4", "5"]


def test_a_deleted_state_is_rebuilt_from_the_files(tmp_path):
    archive_of(tmp_path)
    for path in tmp_path.glob("state.sqlite3*"):
        path.unlink()
    with Archive(tmp_path, fsync=False) as archive:
        assert archive.count() == 5
        assert archive.store_article(record("3"))[0] == UNCHANGED


def test_a_damaged_state_is_set_aside_and_rebuilt_with_its_run_history(tmp_path, caplog):
    archive_of(tmp_path)
    with Archive(tmp_path, fsync=False) as archive:
        archive.put_reject({"url": "https://baonamdinh.vn/channel/5083/202201/x-7/", "id": "7",
                            "reason": "HTTP 503", "stage": "fetch", "retryable": True,
                            "fetched_at": "2022-01-15T08:00:00+07:00", "listing_raw": "10:00"})
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "20220115T080000-baonamdinh.json").write_text(json.dumps(
        {"started_at": "2022-01-15T08:00:00+07:00", "mode": "nightly", "coverage": {}}))
    for path in tmp_path.glob("state.sqlite3-*"):
        path.unlink()
    (tmp_path / "state.sqlite3").write_bytes(b"this is not a database" * 200)
    with caplog.at_level("WARNING"), Archive(tmp_path, fsync=False) as archive:
        aside = archive.reconciliation.rebuilt_from
        assert aside is not None and aside.read_bytes().startswith(b"this is not a database")
        assert archive.count() == 5
        assert archive.store_article(record("1"))[0] == UNCHANGED
    assert "is damaged" in caplog.text and aside.name in caplog.text
    state = CrawlState(tmp_path)
    try:
        assert state.retryable_rejects() == [
            ("https://baonamdinh.vn/channel/5083/202201/x-7/", "10:00")]
        assert [run["started_at"] for run in state.previous_runs()] == [
            "2022-01-15T08:00:00+07:00"]
        assert not state.listing_complete("/channel/5083/")  # walked to the end again
    finally:
        state.close()


def test_lines_written_after_the_last_commit_are_adopted_from_the_tail_only(tmp_path):
    archive_of(tmp_path)
    rec = dict(record("5"), version=1)
    with january(tmp_path).open("ab") as fh:  # killed after the write, before the commit
        fh.write((json.dumps(rec, ensure_ascii=False) + "\n").encode())
    with Archive(tmp_path, fsync=False) as archive:
        found = archive.reconciliation
        assert not found.deep and [c.start > 0 for c in found.checks] == [True]
        assert found.adopted == [("articles/2022-01.jsonl", "5", 1)]


def test_an_archive_from_before_the_migration_is_read_once_whole(tmp_path):
    archive_of(tmp_path)
    db = sqlite3.connect(tmp_path / "state.sqlite3", isolation_level=None)
    db.executescript("ALTER TABLE files DROP COLUMN mtime_ns; ALTER TABLE rejects DROP COLUMN"
                     " listing_raw;")
    db.close()
    with Archive(tmp_path, fsync=False) as archive:
        assert archive.reconciliation.deep and not archive.reconciliation.lost
        assert archive.count() == 5
    db, found = open_archive_db(tmp_path)
    db.close()
    assert not found.changed


def test_a_month_file_restored_from_a_backup_is_adopted_again(tmp_path):
    archive_of(tmp_path)
    saved = january(tmp_path).read_bytes()
    january(tmp_path).unlink()
    with Archive(tmp_path, fsync=False) as archive:
        assert archive.count() == 1
    january(tmp_path).write_bytes(saved)
    with Archive(tmp_path, fsync=False) as archive:
        assert archive.count() == 5
        for article_id in ("1", "2", "3", "4"):  # what the queued re-fetch finds
            assert archive.store_article(record(article_id))[0] == UNCHANGED
    assert retry_urls(tmp_path) == []


# --- a changed file is checked against its own committed state (issue 25) -----------------------


def committed_hashes(root) -> dict:
    db = sqlite3.connect(root / "state.sqlite3")
    try:
        return dict(db.execute("SELECT path, committed_sha256 FROM files"))
    finally:
        db.close()


def test_each_commit_records_the_hash_of_the_committed_bytes(tmp_path):
    archive_of(tmp_path)
    hashes = committed_hashes(tmp_path)
    for rel in ("articles/2022-01.jsonl", "articles/2021-12.jsonl"):
        assert hashes[rel] == hashlib.sha256((tmp_path / rel).read_bytes()).hexdigest()


def test_touched_files_are_checked_by_their_committed_hash_and_not_read(tmp_path):
    archive_of(tmp_path)
    for path in (tmp_path / "articles").glob("*.jsonl"):  # a copy or restore without -t
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    with Archive(tmp_path, fsync=False) as archive:
        found = archive.reconciliation
        assert found.checks == [] and not found.deep  # no line read, no full scan
        assert sorted(found.sizes) == ["articles/2021-12.jsonl", "articles/2022-01.jsonl"]
        assert archive.count() == 5 and not found.lost
    db, again = open_archive_db(tmp_path)
    db.close()
    assert not again.changed  # the new times are recorded
    assert listing_complete(tmp_path)


def test_a_line_changed_in_place_is_found_from_its_own_file(tmp_path, caplog):
    archive_of(tmp_path)
    lines = january(tmp_path).read_bytes().splitlines(keepends=True)
    edited = json.loads(lines[1])
    edited["title"] = "Bài đã sửa tay"  # its content hash no longer fits: verify says so
    lines[1] = (json.dumps(edited, ensure_ascii=False) + "\n").encode()
    january(tmp_path).write_bytes(b"".join(lines))
    with caplog.at_level("WARNING"), Archive(tmp_path, fsync=False) as archive:
        found = archive.reconciliation
        assert not found.deep and found.changed_files == ["articles/2022-01.jsonl"]
        assert [check.rel for check in found.checks] == ["articles/2022-01.jsonl"]
        assert not found.lost and archive.count() == 5
    assert "articles/2022-01.jsonl changed since its last commit" in caplog.text
    assert committed_hashes(tmp_path)["articles/2022-01.jsonl"] == hashlib.sha256(
        january(tmp_path).read_bytes()).hexdigest()


def test_a_touched_file_of_an_archive_without_hashes_is_read_once(tmp_path):
    archive_of(tmp_path)
    db = sqlite3.connect(tmp_path / "state.sqlite3", isolation_level=None)
    db.execute("UPDATE files SET committed_sha256 = NULL")  # as an archive from before
    db.close()
    path = january(tmp_path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    with Archive(tmp_path, fsync=False) as archive:
        found = archive.reconciliation
        assert [check.rel for check in found.checks] == ["articles/2022-01.jsonl"]
        assert not found.deep and not found.lost and archive.count() == 5
    assert committed_hashes(tmp_path)["articles/2022-01.jsonl"] == hashlib.sha256(
        path.read_bytes()).hexdigest()
