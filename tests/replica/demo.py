"""``make demo``: start the replica, run a nightly crawl into a fresh archive, print a summary.

Everything runs on loopback with the crawler's real politeness settings, except that the replica
asks for a short Crawl-delay (0.1 s) so the demo takes seconds, not minutes. It prints a short
summary (counts, where things are), writes the archive's report page and ends with what to look
at next, as commands that work as printed (tests/test_analysis_cli.py runs them). The whole run
report stays in ``runs/`` as JSON.

Nothing is deleted before the demo knows it can run: the replica's port is taken first, and the
archive folder is replaced only when it holds nothing but a demo archive (no folder, an empty
one, or an archive whose every run crawled a site on loopback) that no process is writing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.crawling import REPO, last_report
from tests.replica import Replica

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# Log lines of the crawl worth showing while it runs, and at most how many.
SHOWN_LOG = ("progress:", "ALARM", "ERROR", "CRITICAL", "Traceback")
MAX_LOG_LINES = 12
# Coverage shown in the summary, in this order (fields the run report does not count are left out).
SUMMARY_FIELDS = ("title", "lead", "body", "published_date", "published_at", "authors", "images",
                  "section_name")


class NotADemoArchive(Exception):
    """The archive folder holds something the demo must not delete."""


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the crawl's exit status (1: the port is busy, 2: the folder is not
    the demo's or is in use)."""
    parser = argparse.ArgumentParser(prog="python -m tests.replica.demo")
    parser.add_argument("--archive-dir", default="demo-archive", type=Path)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--crawl-delay", type=float, default=0.05)
    # A fixed port keeps the demo's canonical URLs the same from run to run (pages carry
    # absolute URLs), so its WARCs re-extract with -s SITE_URL=http://127.0.0.1:8089.
    parser.add_argument("--port", type=int, default=8089, help="0 picks a free port")
    args = parser.parse_args(argv)

    archive = args.archive_dir.resolve()
    try:
        check_replaceable(archive)
    except NotADemoArchive as exc:
        print(f"demo: {exc}; not touching it (pass --archive-dir to use another folder)",
              file=sys.stderr)
        return 2
    try:
        site_cm = Replica(articles=args.articles, seed=1, crawl_delay=args.crawl_delay,
                          port=args.port)
    except OSError as exc:
        print(f"demo: cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); nothing was "
              f"changed; run it on another port: make demo PORT=8090 (0 picks a free one)",
              file=sys.stderr)
        return 1
    with site_cm as site:
        busy = _holder(archive)
        if busy:
            print(f"demo: {_shown(archive)}/ is in use by {busy}; nothing was changed",
                  file=sys.stderr)
            return 2
        shutil.rmtree(archive, ignore_errors=True)
        print(f"demo: replica of baonamdinh.vn with {args.articles} articles at {site.url}/",
              flush=True)
        print(f"demo: nightly crawl into {_shown(archive)}/ (about 15 seconds)", flush=True)
        command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh",
                   "-s", f"SITE_URL={site.url}", "-s", "SITE_HOST_ALIASES=localhost",
                   "-s", f"ARCHIVE_DIR={archive}", "-s", "DOWNLOAD_DELAY=0",
                   "-s", "REPORT_PROGRESS_INTERVAL=5", "-s", "LOG_LEVEL=INFO"]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        for line in log_excerpt(done.stderr):
            print("  " + line)
        truth = site.truth()
    try:
        report = last_report(archive)
    except AssertionError:
        print(f"demo: the crawl wrote no run report (exit status {done.returncode}); its log "
              f"ends:\n{done.stderr[-3000:]}", file=sys.stderr)
        return done.returncode or 1
    print(summary(report, archive, published=len(truth)))
    print(next_steps(archive))
    return done.returncode


def check_replaceable(archive: Path) -> None:
    """Raise NotADemoArchive unless ``archive`` is absent, empty, or an archive whose every run
    report names a site on loopback (what the demo and the replica examples write)."""
    if not archive.exists():
        return
    if not archive.is_dir():
        raise NotADemoArchive(f"{archive} is not a folder")
    if not any(archive.iterdir()):
        return
    reports = sorted((archive / "runs").glob("*.json"))
    if not reports:
        raise NotADemoArchive(f"{archive} is not empty and holds no run report")
    for path in reports:
        try:
            site = json.loads(path.read_text("utf-8")).get("site_url") or ""
        except (OSError, ValueError, AttributeError):
            raise NotADemoArchive(f"{path} is not a run report") from None
        if urlsplit(site).hostname not in LOOPBACK:
            raise NotADemoArchive(f"{archive} holds a crawl of {site or 'an unknown site'}")


def _holder(archive: Path) -> str | None:
    """Return who holds the archive's lock (a crawl writing it), or None."""
    from crawler.store.lock import ArchiveBusy, acquire, describe, release

    if not archive.is_dir():
        return None
    try:
        key = acquire(archive)
    except ArchiveBusy as exc:
        return describe(exc.holder) if exc.holder else "another process"
    release(key)
    return None


def log_excerpt(log: str) -> list[str]:
    """Return the crawl's log lines worth showing (progress, alarms, errors), at most
    MAX_LOG_LINES of them: the first ones and the last, without the logger's name."""
    lines = [_short(line) for line in log.splitlines() if any(k in line for k in SHOWN_LOG)]
    if len(lines) <= MAX_LOG_LINES:
        return lines
    head = MAX_LOG_LINES - 3
    return [*lines[:head], f"... {len(lines) - head - 2} more lines like these ...",
            *lines[-2:]]


def _short(line: str) -> str:
    """Return a log line without its date and logger: '13:20:56 INFO: progress: ...'."""
    parts = line.split(" ", 3)
    if len(parts) == 4 and parts[2].startswith("[") and parts[2].endswith("]"):
        return f"{parts[1]} {parts[3]}"
    return line


def _percent(value: Any) -> str:
    return f"{round(100 * value)}%" if isinstance(value, (int, float)) else "-"


def summary(report: dict[str, Any], archive: Path, *, published: int) -> str:
    """Return the run in a few lines: what was archived, how, and where everything is."""
    counts = report.get("counts", {})
    requests = report.get("requests", {})
    coverage = report.get("coverage", {})
    fields = coverage.get("fields", {})
    templates = coverage.get("site_templates", {})
    statuses = ", ".join(f"{n} answered {s}" for s, n in
                         sorted(requests.get("by_status", {}).items()))
    shown = _shown(archive)
    months = sorted((archive / "articles").glob("*.jsonl"))
    warcs = sorted((archive / "raw").glob("*.warc.gz"))
    runs = sorted((archive / "runs").glob("*.json"))
    alarms = report.get("alarms") or []
    lines = [
        f"demo: crawl finished in {report.get('elapsed_seconds', 0):.0f} s, stop reason "
        f"{report.get('stop_reason')}, exit status {report.get('exit_code')}",
        f"  articles   {counts.get('new', 0)} new, {counts.get('updated', 0)} updated, "
        f"{counts.get('unchanged', 0)} unchanged, {counts.get('rejected', 0)} rejected, "
        f"{counts.get('failed', 0)} failed; {published} published on the replica",
        f"  requests   {requests.get('total', 0)} ({requests.get('articles', 0)} articles, "
        f"{requests.get('listing_pages', 0)} listing pages; {statuses or 'none answered'})",
        "  coverage   " + ", ".join(f"{name} {_percent(fields[name])}"
                                    for name in SUMMARY_FIELDS if name in fields),
        "  templates  " + (", ".join(f"{name} {n}" for name, n in sorted(
            templates.items(), key=lambda kv: -kv[1])) or "none matched"),
        "  alarms     " + ("; ".join(map(str, alarms)) if alarms else "none"),
        "demo: where things are",
        f"  {shown}/articles/   the records, one JSON Lines file a month ({_files(months)})",
        f"  {shown}/rejects/    pages that could not become a record, with the reason",
        f"  {shown}/runs/       the run report, whole, as JSON: "
        f"{runs[-1].name if runs else 'none'}",
        f"  {shown}/raw/        the pages as fetched, WARC ({_files(warcs)})",
        f"  {shown}/state.sqlite3, manifest.json   the archive's own index and inventory",
    ]
    return "\n".join(lines)


def _files(paths: list[Path]) -> str:
    return f"{len(paths)} file" + ("" if len(paths) == 1 else "s")


def _shown(path: Path) -> str:
    """Return a path as the user types it: relative to the current folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def next_steps(archive: Path) -> str:
    """Write the report page; return what to look at next, each command runnable as printed."""
    shown = _shown(archive)
    python = _shown(Path(sys.executable)) if Path(sys.executable).is_relative_to(REPO) else \
        sys.executable
    months = sorted((archive / "articles").glob("*.jsonl"))
    lines = ["demo: what to look at next (each command works as printed, from here):"]
    try:
        from crawler.analysis.report import write_report

        page = write_report(archive)
        lines += [f"  the report page: open {_shown(page)} in a browser ({page.as_uri()});",
                  "  after a later crawl, write it again with",
                  f"    $ {python} -m crawler report --archive-dir {shown}"]
    except ImportError:
        lines += ["  the report page needs the analysis extra: make install"]
    if months:
        lines += ["  one record, the first of the newest month:",
                  f"    $ head -n 1 {_shown(months[-1])} | {python} -m json.tool "
                  "--no-ensure-ascii"]
    lines += ["  the whole archive as one typed table (Parquet; --format csv or duckdb), written to "
              f"{shown}/exports/:",
              f"    $ {python} -m crawler export --archive-dir {shown} --format parquet",
              "  and whether the archive is whole (files, manifest, schema, state):",
              f"    $ {python} -m crawler verify --archive-dir {shown}"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
