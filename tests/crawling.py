"""Helpers for crawl tests: run the real ``scrapy crawl baonamdinh`` against a replica on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# Politeness off: the replica is ours and on loopback; robots.txt is still fetched and obeyed.
FAST = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "ARCHIVE_FSYNC": "False",
    "REPORT_PROGRESS_INTERVAL": "0",
    "LOG_LEVEL": "INFO",
}


def crawl_command(site_url: str, archive_dir: Path, *spider_args: str,
                  settings: dict[str, str] | None = None) -> list[str]:
    """Return the command line of a crawl of ``site_url`` into ``archive_dir``."""
    command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh",
               "-s", f"SITE_URL={site_url}", "-s", "SITE_HOST_ALIASES=localhost",
               "-s", f"ARCHIVE_DIR={archive_dir}"]
    for name, value in {**FAST, **(settings or {})}.items():
        command += ["-s", f"{name}={value}"]
    for arg in spider_args:
        command += ["-a", arg]
    return command


def run_crawl(site_url: str, archive_dir: Path, *spider_args: str,
              settings: dict[str, str] | None = None, timeout: float = 240,
              check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one crawl to its end; fail with its log when it exits non-zero and ``check`` is set."""
    done = subprocess.run(crawl_command(site_url, archive_dir, *spider_args, settings=settings),
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"crawl exited {done.returncode}:\n{done.stderr[-6000:]}")
    return done


def archive_lines(archive_dir: Path) -> list[dict[str, Any]]:
    """Return every article line of an archive, failing on a line that does not parse."""
    lines = []
    for path in sorted((archive_dir / "articles").glob("*.jsonl")):
        data = path.read_bytes()
        assert not data or data.endswith(b"\n"), f"{path} ends in a torn line"
        lines += [json.loads(line) for line in data.decode("utf-8").splitlines()]
    return lines


def last_report(archive_dir: Path) -> dict[str, Any]:
    """Return the newest run report of an archive."""
    reports = sorted((archive_dir / "runs").glob("*.json"))
    assert reports, "the run wrote no report"
    return json.loads(reports[-1].read_text("utf-8"))
