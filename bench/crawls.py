"""Crawl benchmarks: subprocess runs of the spider, the bare spider and re-extraction, measured.

Each run is one subprocess; its wall time comes from the parent, its peak memory from a small
wrapper (bench/maxrss.py), since a child of this large process would inherit its RSS high-water
mark.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

# Politeness off, fsync off, no progress lines, no WARC (unknown settings are harmless).
FAST = {
    "ROBOTSTXT_OBEY": "False",
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "ARCHIVE_FSYNC": "False",
    "REPORT_PROGRESS_INTERVAL": "0",
    "WARC_ENABLED": "False",
    "LOG_LEVEL": "INFO",
}
BARE_SPIDER = Path(__file__).with_name("bare_spider.py")
MAXRSS = Path(__file__).with_name("maxrss.py")


@dataclass(frozen=True)
class Run:
    """The outcome of one measured subprocess."""

    returncode: int
    seconds: float
    max_rss_mb: float | None  # None when the run was killed before it could be read
    # CPU seconds of the run and the processes it waited for (its workers); None as above.
    cpu_seconds: float | None = None
    # CPU seconds this process (the replica's server threads) used meanwhile.
    server_cpu_seconds: float | None = None
    # time.monotonic() when the subprocess was started (to time its first request).
    started: float | None = None


def run_measured(cmd: list[str], log: Path, timeout: float) -> Run:
    """Run ``cmd`` (output to ``log``), killing its process group after ``timeout`` seconds."""
    log.parent.mkdir(parents=True, exist_ok=True)
    rss_file = log.with_suffix(".maxrss")
    rss_file.unlink(missing_ok=True)
    with open(log, "wb") as out:
        started, server_started = time.monotonic(), _own_cpu()
        proc = subprocess.Popen([sys.executable, str(MAXRSS), str(rss_file), *cmd], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)

        def kill() -> None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            returncode = proc.wait()
        except BaseException:
            kill()
            proc.wait()
            raise
        finally:
            timer.cancel()
        seconds = time.monotonic() - started
        server_cpu = _own_cpu() - server_started
    max_rss_mb: float | None = None
    cpu_seconds: float | None = None
    try:
        lines = rss_file.read_text().split()
        max_rss_mb = int(lines[0]) / 1024  # Linux: KiB
        cpu_seconds = float(lines[1])
    except (OSError, ValueError, IndexError):
        pass
    return Run(returncode=returncode, seconds=seconds, max_rss_mb=max_rss_mb,
               cpu_seconds=cpu_seconds, server_cpu_seconds=server_cpu, started=started)


def _own_cpu() -> float:
    """CPU seconds this process has used (every thread: the replica serves from threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _settings(values: dict[str, str]) -> list[str]:
    return [arg for key, value in values.items() for arg in ("-s", f"{key}={value}")]


def crawl(site_url: str, archive_dir: Path, log: Path, *, timeout: float,
          mode: str | None = None, extra: dict[str, str] | None = None) -> Run:
    """Crawl the replica at ``site_url`` with the archiver's spider, politeness off."""
    settings = dict(FAST, SITE_URL=site_url, SITE_HOST_ALIASES="localhost",
                    ARCHIVE_DIR=str(archive_dir), **(extra or {}))
    cmd = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh", *_settings(settings)]
    if mode:
        cmd += ["-a", f"mode={mode}"]
    return run_measured(cmd, log, timeout)


def bare(site_url: str, log: Path, *, timeout: float) -> Run:
    """Crawl the same pages with the bare spider (no extraction, no pipelines)."""
    settings = dict(FAST, SITE_URL=site_url)
    cmd = [sys.executable, "-m", "scrapy", "runspider", str(BARE_SPIDER), *_settings(settings)]
    return run_measured(cmd, log, timeout)


def reextract_help() -> str | None:
    """Return the help text of ``python -m crawler reextract``, or None when it does not exist."""
    if not Path("crawler/process/reextract.py").exists():
        return None
    try:
        answer = subprocess.run([sys.executable, "-m", "crawler", "reextract", "--help"],
                                capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return None
    return answer.stdout if answer.returncode == 0 else None


def reextract(warcs: list[Path], out_dir: Path, log: Path, *, site_url: str, help_text: str,
              timeout: float) -> Run:
    """Re-extract every record of ``warcs`` into ``out_dir`` (options as the help offers them)."""
    cmd = [sys.executable, "-m", "crawler", "reextract", *map(str, warcs)]
    if "--archive-dir" in help_text:
        cmd += ["--archive-dir", str(out_dir)]
    if "KEY=VALUE" in help_text:
        settings = {"SITE_URL": site_url, "SITE_HOST_ALIASES": "localhost",
                    "ARCHIVE_DIR": str(out_dir), "ARCHIVE_FSYNC": "False"}
        cmd += _settings(settings)
    return run_measured(cmd, log, timeout)
