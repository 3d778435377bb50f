"""``make demo``: its port, and nothing deleted before it knows it can run (issue 22, point 7).

The demo's whole run, its summary and its closing commands are tested in
tests/test_analysis_cli.py (one crawl of the replica); these need no crawl.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.store.lock import acquire, release
from tests.crawling import REPO
from tests.replica.demo import NotADemoArchive, check_replaceable, log_excerpt, summary


def demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.replica.demo", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def demo_archive(root: Path, site_url: str = "http://127.0.0.1:8089") -> Path:
    """Write what a finished demo leaves behind (a run report, a month of records)."""
    (root / "runs").mkdir(parents=True)
    (root / "articles").mkdir()
    (root / "runs" / "20261207T132054-baonamdinh.json").write_text(
        json.dumps({"started_at": "2026-12-07T13:20:54+07:00", "site_url": site_url}))
    (root / "articles" / "2025-06.jsonl").write_text('{"id": "1"}\n')
    return root


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_takes_port():
    done = subprocess.run(["make", "-n", "demo", "PORT=8123"], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "-m tests.replica.demo --port 8123" in done.stdout


def test_a_busy_port_deletes_nothing(tmp_path):
    archive = demo_archive(tmp_path / "demo-archive")
    before = files_of(archive)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = demo("--archive-dir", str(archive), "--port", str(taken.getsockname()[1]))
    assert done.returncode == 1, done.stderr
    assert "cannot listen" in done.stderr and "PORT=" in done.stderr
    assert files_of(archive) == before


def test_an_archive_being_written_is_left_alone(tmp_path):
    archive = demo_archive(tmp_path / "demo-archive")
    key = acquire(archive)  # as a crawl writing it holds it
    try:
        before = files_of(archive)
        done = demo("--archive-dir", str(archive), "--port", "0")
        after = files_of(archive)
    finally:
        release(key)
    assert done.returncode == 2 and "in use by pid" in done.stderr, done.stderr
    assert after == before


@pytest.mark.parametrize("what", ["live-archive", "other-files", "a-file"])
def test_a_folder_that_is_not_the_demos_is_left_alone(tmp_path, what):
    target = tmp_path / "target"
    if what == "live-archive":
        demo_archive(target, site_url="https://baonamdinh.vn")
    elif what == "other-files":
        target.mkdir()
        (target / "thesis.tex").write_text("months of work")
    else:
        target.write_text("a file")
    before = files_of(target) if target.is_dir() else target.read_bytes()
    done = demo("--archive-dir", str(target), "--port", "0")
    assert done.returncode == 2 and "not touching it" in done.stderr, done.stderr
    assert (files_of(target) if target.is_dir() else target.read_bytes()) == before


@pytest.mark.parametrize("make", [lambda p: None, lambda p: p.mkdir(),
                                  lambda p: demo_archive(p, "http://localhost:8089")])
def test_what_the_demo_may_replace(tmp_path, make):
    make(tmp_path / "demo-archive")
    check_replaceable(tmp_path / "demo-archive")


def test_a_report_of_a_real_site_is_not_replaceable(tmp_path):
    demo_archive(tmp_path / "a", "http://127.0.0.1:8089")
    (tmp_path / "a" / "runs" / "20261208T023000-baonamdinh.json").write_text(
        json.dumps({"site_url": "https://baonamdinh.vn"}))
    with pytest.raises(NotADemoArchive, match="baonamdinh.vn"):
        check_replaceable(tmp_path / "a")


def test_the_log_excerpt_is_short():
    log = "\n".join(f"2026-12-07 06:21:{i:02d} [crawler.run.report] INFO: progress: {i} archived"
                    for i in range(40)) + "\n2026-12-07 06:22:00 [scrapy.core] DEBUG: noise"
    lines = log_excerpt(log)
    assert len(lines) == 12 and lines[0] == "06:21:00 INFO: progress: 0 archived"
    assert lines[-1].endswith("progress: 39 archived") and "more lines" in lines[-3]


def test_the_summary_says_counts_and_places(tmp_path):
    archive = demo_archive(tmp_path / "demo-archive")
    report = {"elapsed_seconds": 31.2, "stop_reason": "finished", "exit_code": 0,
              "counts": {"new": 198, "updated": 0, "unchanged": 0, "failed": 0, "rejected": 1},
              "requests": {"total": 225, "articles": 198, "listing_pages": 19,
                           "by_status": {"200": 221, "404": 4}},
              "coverage": {"fields": {"title": 1.0, "authors": 0.9444, "section_name": 1.0},
                           "site_templates": {"new-cms": 42, "old-cms": 111}},
              "alarms": []}
    text = summary(report, archive, published=198)
    assert "198 new, 0 updated, 0 unchanged, 1 rejected, 0 failed; 198 published" in text
    assert "title 100%, authors 94%, section_name 100%" in text
    assert "old-cms 111, new-cms 42" in text
    assert f"{archive}/runs/" in text and "20261207T132054-baonamdinh.json" in text
    assert len(text.splitlines()) <= 20
