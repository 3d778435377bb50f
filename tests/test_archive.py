"""The archive writes each article once, never leaves a torn line, and survives SIGKILL at any moment,
a full disk, a failed commit and a second writer."""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from crawler.store.archive import (
    NEW,
    UNCHANGED,
    UPDATED,
    Archive,
    content_hash,
    iter_records,
    partition_of,
)
from crawler.store.lock import ArchiveBusy, acquire, holder_of, release


def record(article_id: str, body: str = "Nội dung bài viết.", date: str = "2022-01-14") -> dict:
    rec = {"id": article_id, "title": f"Bài {article_id}", "body": body, "published_date": date,
           "fetched_at": "2022-01-15T08:00:00+07:00", "url": f"https://x.vn/a-{article_id}/"}
    rec["content_hash"] = content_hash(rec)
    return rec


def put(archive: Archive, rec: dict) -> str:
    status, rec["version"] = archive.classify(rec)
    if status != UNCHANGED:
        archive.put_article(rec)
    return status


def test_new_unchanged_updated(tmp_path):
    with Archive(tmp_path, fsync=False) as archive:
        assert put(archive, record("1")) == NEW
        assert put(archive, record("1")) == UNCHANGED
        assert put(archive, record("1", body="Nội dung đã sửa.")) == UPDATED
    with Archive(tmp_path, fsync=False) as archive:  # across runs too
        assert put(archive, record("1", body="Nội dung đã sửa.")) == UNCHANGED
    versions = [(r["id"], r["version"]) for r in iter_records(tmp_path)]
    assert versions == [("1", 1), ("1", 2)]


def test_partitioned_by_publication_month_in_plain_utf8(tmp_path):
    with Archive(tmp_path, fsync=False) as archive:
        put(archive, record("1", date="2022-01-14"))
        put(archive, record("2", date="2021-12-24"))
    assert sorted(p.name for p in (tmp_path / "articles").iterdir()) == ["2021-12.jsonl",
                                                                        "2022-01.jsonl"]
    raw = (tmp_path / "articles" / "2022-01.jsonl").read_text("utf-8")
    assert "Nội dung" in raw and "\\u" not in raw


def test_torn_last_line_is_cut_on_open(tmp_path):
    with Archive(tmp_path, fsync=False) as archive:
        put(archive, record("1"))
    path = tmp_path / "articles" / "2022-01.jsonl"
    with path.open("ab") as fh:
        fh.write('{"id": "2", "title": "Bài bị c'.encode())  # a write cut short by a kill
    with Archive(tmp_path, fsync=False) as archive:
        assert archive.count() == 1
        assert put(archive, record("2")) == NEW
    assert [r["id"] for r in iter_records(tmp_path)] == ["1", "2"]


def test_line_written_but_not_committed_is_adopted_not_duplicated(tmp_path):
    with Archive(tmp_path, fsync=False) as archive:
        put(archive, record("1"))
    rec = record("2")
    rec["version"] = 1
    path = tmp_path / "articles" / "2022-01.jsonl"
    with path.open("ab") as fh:  # killed after the write, before the state commit
        fh.write((json.dumps(rec, ensure_ascii=False) + "\n").encode())
    with Archive(tmp_path, fsync=False) as archive:
        assert archive.count() == 2
        assert put(archive, record("2")) == UNCHANGED
    assert [r["id"] for r in iter_records(tmp_path)] == ["1", "2"]


def test_reject_is_kept_and_cleared_when_the_article_arrives(tmp_path):
    with Archive(tmp_path, fsync=False) as archive:
        archive.put_reject({"url": "https://x.vn/a-7/", "reason": "HTTP 503", "stage": "fetch",
                            "retryable": True, "fetched_at": "2022-01-15T08:00:00+07:00"})
        rows = archive.db.execute("SELECT url FROM rejects WHERE retryable = 1").fetchall()
        assert rows == [("https://x.vn/a-7/",)]
        put(archive, record("7"))
        assert archive.db.execute("SELECT COUNT(*) FROM rejects").fetchone()[0] == 0
    rejects = list(iter_records(tmp_path, "rejects"))
    assert rejects[0]["reason"] == "HTTP 503"


WRITER = """
import sys
from crawler.store.archive import Archive, content_hash
root, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with Archive(root, fsync=True) as archive:
    for i in range(start, stop):
        rec = {"id": str(i), "title": "Bài " + str(i), "body": "Nội dung " * 50,
               "published_date": "2022-%02d-01" % (1 + i % 12), "url": "https://x.vn/a-%d/" % i}
        rec["content_hash"] = content_hash(rec)
        status, rec["version"] = archive.classify(rec)
        if status != "unchanged":
            archive.put_article(rec)
        print(i, flush=True)
"""


@pytest.mark.parametrize("kill_after", [1, 300, 1500])
def test_sigkill_mid_writing_then_rerun_gives_each_record_once(tmp_path, kill_after):
    total = 3000
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), "0", str(total)],
                            stdout=subprocess.PIPE)
    for _ in range(kill_after):  # kill once the writer is this far, mid-run
        proc.stdout.readline()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    written = sum(1 for p in (tmp_path / "articles").glob("*.jsonl") for _ in p.open("rb"))
    assert written < total, "the writer finished before it was killed: the test proved nothing"
    done = subprocess.run([sys.executable, "-c", WRITER, str(tmp_path), "0", str(total)],
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    ids = []
    for path in (tmp_path / "articles").glob("*.jsonl"):
        for line in path.read_bytes().split(b"\n")[:-1]:
            ids.append(json.loads(line)["id"])  # every line parses: none is torn
        assert path.read_bytes().endswith(b"\n")
    assert sorted(ids, key=int) == [str(i) for i in range(total)]


@pytest.mark.parametrize(("fields", "partition"), [
    ({"published_date": "2022-01-14", "published_month": "2022-01"}, "2022-01"),
    ({"published_date": None, "published_month": "2019-07"}, "2019-07"),  # month precision
    ({"published_date": "2021-12-31"}, "2021-12"),  # a schema 1.0.0 record
    ({"published_date": None}, "undated"),
])
def test_partition_is_the_month_of_publication(fields, partition):
    assert partition_of(fields) == partition


def test_published_month_is_not_content():
    # Derived from published_date or the URL: a record archived before the field existed must
    # not become a new version on its next fetch.
    old = record("1")
    new = dict(old, published_month="2022-01")
    assert content_hash(new) == content_hash(old)


# --- one writer per archive (crawler/store/lock.py) ----------------------------------------------

HOLDER = """
import sys, time
from crawler.store.archive import Archive
with Archive(sys.argv[1], fsync=False):
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold(root, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(root), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_a_second_writer_is_refused_with_the_holder_named(tmp_path):
    proc = hold(tmp_path, 60)
    try:
        with pytest.raises(ArchiveBusy) as caught:
            Archive(tmp_path, fsync=False)
        assert f"pid {proc.pid}" in str(caught.value)
        assert holder_of(tmp_path)["pid"] == proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_a_lock_left_by_a_killed_run_is_recognised_as_stale(tmp_path, caplog):
    proc = hold(tmp_path, 60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert json.loads((tmp_path / "lock").read_text())["pid"] == proc.pid  # its note is left
    assert holder_of(tmp_path) is None  # but the kernel released the lock
    with caplog.at_level("WARNING"), Archive(tmp_path, fsync=False):
        pass
    assert f"pid {proc.pid}" in caplog.text and "stale" in caplog.text
    assert (tmp_path / "lock").read_text() == ""  # a clean release empties the note


def test_a_writer_may_wait_for_the_holder_to_finish(tmp_path):
    proc = hold(tmp_path, 1.0)
    key = acquire(tmp_path, wait=30)
    release(key)
    assert proc.wait(timeout=10) == 0


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    with Archive(tmp_path, fsync=False) as first, Archive(tmp_path, fsync=False) as second:
        assert put(first, record("1")) == NEW
        assert put(second, record("1")) == UNCHANGED
    assert holder_of(tmp_path) is None


# --- storage failures ----------------------------------------------------------------------------

def lines_of(root) -> list[bytes]:
    return (root / "articles" / "2022-01.jsonl").read_bytes().splitlines(keepends=True)


def test_a_full_disk_mid_line_leaves_no_torn_line_and_loses_nothing(tmp_path, monkeypatch):
    with Archive(tmp_path, fsync=False) as archive:
        assert archive.store_article(record("1"))[0] == NEW
        real_write = os.write

        def half_then_enospc(fd, data):
            real_write(fd, bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "write", half_then_enospc)
        with pytest.raises(OSError) as caught:
            archive.store_article(record("2"))
        assert caught.value.errno == errno.ENOSPC
        monkeypatch.setattr(os, "write", real_write)
        assert [json.loads(line)["id"] for line in lines_of(tmp_path)] == ["1"]
        assert archive.lookup("2") is None  # not archived: the next run fetches it
        assert archive.store_article(record("2"))[0] == NEW  # the disk has room again
    assert [json.loads(line)["id"] for line in lines_of(tmp_path)] == ["1", "2"]


class FailingCommit:
    """A state connection whose next COMMIT fails as on a full disk (the line is then written)."""

    def __init__(self, db):
        self.db, self.armed = db, True

    def execute(self, sql, *args):
        if sql == "COMMIT" and self.armed:
            self.armed = False
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.db, name)


def test_a_line_whose_commit_failed_is_adopted_never_written_twice(tmp_path):
    with Archive(tmp_path, fsync=False) as archive:
        archive.store_article(record("1"))
        real = archive.db
        archive.db = FailingCommit(real)
        with pytest.raises(sqlite3.OperationalError):
            archive.store_article(record("2"))
        archive.db = real
        assert len(lines_of(tmp_path)) == 2  # the line is on disk, the state does not say so
        assert archive.store_article(record("2")) == (UNCHANGED, 1)  # adopted, not rewritten
        assert archive.store_article(record("3"))[0] == NEW
    ids = [json.loads(line)["id"] for line in lines_of(tmp_path)]
    assert ids == ["1", "2", "3"]
    with Archive(tmp_path, fsync=False) as archive:  # and the next open finds nothing to fix
        assert not archive.reconciliation.changed
        assert archive.count() == 3


def test_a_line_whose_commit_failed_is_adopted_by_the_next_open(tmp_path):
    with Archive(tmp_path, fsync=False) as archive:
        archive.store_article(record("1"))
        archive.db = FailingCommit(archive.db)
        with pytest.raises(sqlite3.OperationalError):
            archive.store_article(record("2"))
    with Archive(tmp_path, fsync=False) as archive:
        assert [a[1] for a in archive.reconciliation.adopted] == ["2"]
        assert archive.store_article(record("2"))[0] == UNCHANGED
    assert len(lines_of(tmp_path)) == 2


def test_a_state_locked_from_outside_fails_before_the_line_is_written(tmp_path):
    with Archive(tmp_path, fsync=False, timeout=0.2) as archive:
        archive.store_article(record("1"))
        outside = sqlite3.connect(tmp_path / "state.sqlite3", isolation_level=None)
        outside.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                archive.store_article(record("2"))
        finally:
            outside.execute("ROLLBACK")
            outside.close()
        assert len(lines_of(tmp_path)) == 1
        assert archive.store_article(record("2"))[0] == NEW
    assert len(lines_of(tmp_path)) == 2


def test_an_unchanged_refetch_forgets_the_reject_it_retried(tmp_path):
    with Archive(tmp_path, fsync=False) as archive:
        archive.store_article(record("7"))
        archive.put_reject({"url": "https://x.vn/a-7/", "id": "7", "reason": "HTTP 503",
                            "stage": "fetch", "retryable": True,
                            "fetched_at": "2022-01-16T08:00:00+07:00"})  # a re-check failed
        assert archive.store_article(record("7"))[0] == UNCHANGED  # the retry
        assert archive.db.execute("SELECT COUNT(*) FROM rejects").fetchone()[0] == 0


def test_image_mirror_and_origin_are_not_content():
    base = record("1")
    base["images"] = [{"url": "https://baonamdinh.vn/file/h/a.jpg", "caption": "Ảnh"}]
    mirrored = dict(base, images=[dict(base["images"][0],
                                       mirror_url="https://img.example/namdinh/file/h/a.jpg")],
                    origin={"source": "wayback", "timestamp": "20190514083000",
                            "original_url": "http://baonamdinh.vn/a-1"})
    assert content_hash(mirrored) == content_hash(base)
    recaptioned = dict(base, images=[{"url": base["images"][0]["url"], "caption": "Ảnh khác"}])
    assert content_hash(recaptioned) != content_hash(base)


def test_a_reject_of_an_archive_capture_is_written_but_not_retried_or_skipped(tmp_path):
    live = {"url": "https://baonamdinh.vn/a-1/", "id": "1", "reason": "HTTP 404",
            "stage": "fetch", "retryable": False, "fetched_at": "2025-06-01T08:00:00+07:00"}
    archived = {"url": "http://baonamdinh.vn/a-2/", "id": "2", "reason": "HTTP 503",
                "stage": "fetch", "retryable": True, "fetched_at": "2019-05-14T15:30:00+07:00",
                "origin": {"source": "wayback", "timestamp": "20190514083000",
                           "original_url": "http://baonamdinh.vn/a-2/"}}
    with Archive(tmp_path, fsync=False) as archive:
        archive.put_reject(live)
        archive.put_reject(archived)
        rows = archive.db.execute("SELECT id FROM rejects").fetchall()
    assert rows == [("1",)]
    written = [r["id"] for r in iter_records(tmp_path, "rejects")]
    assert sorted(written) == ["1", "2"]


def test_a_file_whose_committed_bytes_changed_during_a_run_is_not_appended_to(tmp_path):
    """The archive knows the hash of each file's committed bytes: a file rewritten behind its
    back after the run opened it is a storage failure (the next start reconciles it), not
    appended to."""
    with Archive(tmp_path, fsync=False) as archive:
        archive.store_article(record("1"))
    path = tmp_path / "articles" / "2022-01.jsonl"
    with Archive(tmp_path, fsync=False) as archive:
        path.write_bytes(path.read_bytes().replace(b'"id":"1"', b'"id":"7"'))  # the same size
        with pytest.raises(OSError) as failed:
            archive.store_article(record("2"))
        assert failed.value.errno == errno.EIO and "changed behind" in str(failed.value)
    assert len(path.read_bytes().splitlines()) == 1
