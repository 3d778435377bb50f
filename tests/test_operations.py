"""What an operator meets around a crawl: a wrong ARCHIVE_DIR, the lock's message, log times."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

from crawler.normalise.dates import VN_TZ
from crawler.store.folder import reading_problem, writing_problem
from tests.crawling import REPO, crawl_command, run_crawl
from tests.faults import closed_port


def test_folder_problems(tmp_path):
    (tmp_path / "archive" / "articles").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "a.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x")
    assert reading_problem(tmp_path / "archive") is None
    assert writing_problem(tmp_path / "archive") is None
    assert writing_problem(tmp_path / "new") is None
    assert writing_problem(tmp_path / "empty") is None
    assert "no articles/ folder" in reading_problem(tmp_path / "empty")
    assert "not empty (a.txt)" in writing_problem(tmp_path / "other")
    assert "it is a file" in writing_problem(tmp_path / "file")
    assert "no such folder" in reading_problem(tmp_path / "new")


def test_a_crawl_into_a_folder_that_is_no_archive_is_a_usage_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not an archive")
    done = subprocess.run(crawl_command(f"http://127.0.0.1:{closed_port()}", tmp_path), cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and errors[0].endswith(
        f"error: ARCHIVE_DIR: {tmp_path} is not an archive (no articles/ folder) and not empty "
        "(notes.txt): give an archive or a new folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_the_lock_names_the_command_as_typed():
    """Scrapy takes "crawl" out of sys.argv; the lock's holder still says it."""
    code = ("import sys; sys.argv.pop(1); from crawler.store.lock import command_line; "
            "print(command_line())")
    done = subprocess.run([sys.executable, "-c", code, "crawl", "baonamdinh", "-a", "mode=x"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().endswith("crawl baonamdinh -a mode=x"), done.stdout


def test_a_crawls_log_times_are_vietnam_time(tmp_path):
    done = run_crawl(f"http://127.0.0.1:{closed_port()}", tmp_path,
                     settings={"RETRY_TIMES": "0", "ROBOTSTXT_RETRY_TIMES": "0"}, check=False)
    assert done.returncode == 4, done.stderr[-2000:]
    last = [line for line in done.stderr.splitlines()
            if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", line)][-1]
    logged = dt.datetime.strptime(last[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=VN_TZ)
    assert abs((dt.datetime.now(VN_TZ) - logged).total_seconds()) < 120, last
