"""changes: pulls from a cursor never miss or repeat a record, even while a crawl is writing."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from crawler.analysis.changes import Cursor, CursorError, pull
from crawler.store.archive import Archive, content_hash
from tests.crawling import REPO, crawl_command
from tests.replica import Replica


def record(article_id: str, body: str = "Nội dung.", date: str = "2022-01-14") -> dict:
    rec = {"id": article_id, "title": f"Bài {article_id}", "body": body, "published_date": date,
           "fetched_at": "2022-01-15T08:00:00+07:00", "url": f"https://x.vn/a-{article_id}/"}
    rec["content_hash"] = content_hash(rec)
    return rec


def put(root: Path, *records: dict) -> None:
    with Archive(root, fsync=False) as archive:
        for rec in records:
            _status, rec["version"] = archive.classify(rec)
            archive.put_article(rec)


def pulled(root: Path, cursor: Cursor | None) -> tuple[list[dict], Cursor, list[str]]:
    lines, outcome = pull(root, cursor)
    records = [json.loads(line) for line in lines]
    return records, outcome.cursor, outcome.warnings


def archive_bytes(root: Path) -> list[bytes]:
    return [line for path in sorted((root / "articles").glob("*.jsonl"))
            for line in path.read_bytes().splitlines(keepends=True)]


def test_from_the_beginning_then_only_what_is_new(tmp_path):
    put(tmp_path, record("1"), record("2", date="2021-12-24"))
    first, cursor, _ = pulled(tmp_path, None)
    assert sorted(r["id"] for r in first) == ["1", "2"]
    assert pulled(tmp_path, cursor)[0] == []
    put(tmp_path, record("1", body="Nội dung đã sửa."), record("3", date="2023-05-01"))
    second, cursor, warnings = pulled(tmp_path, Cursor.decode(cursor.encode()))
    assert [(r["id"], r["version"]) for r in second] == [("1", 2), ("3", 1)]
    assert warnings == []
    assert pulled(tmp_path, cursor)[0] == []


def test_bytes_past_the_committed_size_wait_for_the_next_pull(tmp_path):
    put(tmp_path, record("1"))
    _, cursor, _ = pulled(tmp_path, None)
    month = tmp_path / "articles" / "2022-01.jsonl"
    line = json.dumps({**record("2"), "version": 1}, ensure_ascii=False).encode() + b"\n"
    with month.open("ab") as fh:  # written, not yet committed: a crawl between write and commit
        fh.write(line + '{"id": "3", "title": "Bài bị c'.encode())
    assert pulled(tmp_path, cursor)[0] == []
    Archive(tmp_path, fsync=False).close()  # the next start adopts the whole line, cuts the rest
    again, _, warnings = pulled(tmp_path, cursor)
    assert [r["id"] for r in again] == ["2"] and warnings == []


def test_a_file_changed_before_the_cursor_is_sent_again_with_a_warning(tmp_path):
    put(tmp_path, record("1"), record("2"))
    _, cursor, _ = pulled(tmp_path, None)
    month = tmp_path / "articles" / "2022-01.jsonl"
    month.write_bytes(month.read_bytes().replace("Bài 1".encode(), "Bài 9".encode()))
    again, _, warnings = pulled(tmp_path, cursor)
    assert [r["id"] for r in again] == ["1", "2"]
    assert warnings and "articles/2022-01.jsonl" in warnings[0] and "again" in warnings[0]


@pytest.mark.parametrize("text", ["", "c1.", "c1.!!!", "x1.abc", "c1.eJwDAAAAAAE"])
def test_a_damaged_cursor_is_refused(text):
    with pytest.raises(CursorError):
        Cursor.decode(text)


def test_the_command_prints_records_and_the_cursor_last_on_stderr(tmp_path):
    put(tmp_path, record("1"), record("2", date="2021-12-24"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "crawler", "changes", "--archive-dir",
                               str(tmp_path), *args], cwd=REPO, capture_output=True, text=True,
                              timeout=120)

    first = run()
    assert first.returncode == 0
    assert sorted(json.loads(line)["id"] for line in first.stdout.splitlines()) == ["1", "2"]
    cursor = first.stderr.splitlines()[-1]
    Cursor.decode(cursor)
    (tmp_path / "cursor").write_text(cursor + "\n")
    put(tmp_path, record("3"))
    second = run("--since", f"@{tmp_path / 'cursor'}")
    assert [json.loads(line)["id"] for line in second.stdout.splitlines()] == ["3"]
    assert run("--since", second.stderr.splitlines()[-1]).stdout == ""
    bad = run("--since", "yesterday")
    assert bad.returncode == 2 and "not a cursor" in bad.stderr and bad.stdout == ""


@pytest.mark.slow
def test_pulls_during_a_crawl_add_up_to_the_archive_exactly(tmp_path):
    """Pull again and again while a crawl writes, then once after: every line once, no more."""
    root = tmp_path / "archive"
    got: list[bytes] = []
    cursor: Cursor | None = None
    pulls_while_running = 0
    with Replica(articles=300, seed=3, crawl_delay=0) as site:
        command = crawl_command(site.url, root, settings={"ARCHIVE_FSYNC": "True"})
        proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 240
            while proc.poll() is None and time.monotonic() < deadline:
                lines, outcome = pull(root, cursor)
                batch = list(lines)
                cursor = outcome.cursor
                got += batch
                if batch and proc.poll() is None:
                    pulls_while_running += 1
                time.sleep(0.05)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        # The last pull goes through the command line, from the cursor as text.
        done = subprocess.run([sys.executable, "-m", "crawler", "changes", "--archive-dir",
                               str(root), "--since", cursor.encode() if cursor else ""],
                              cwd=REPO, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr
        got += done.stdout.splitlines(keepends=True)
    # Precondition: the crawl was caught writing, several times.
    assert pulls_while_running >= 3, pulls_while_running
    on_disk = archive_bytes(root)
    assert len(on_disk) > 250
    assert max(Counter(got).values()) == 1, "a record was sent twice"
    assert Counter(got) == Counter(on_disk), "the pulls and the archive differ"
