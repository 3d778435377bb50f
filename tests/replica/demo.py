"""``make demo``: start the replica, run a nightly crawl into a fresh archive, print the run report.

Everything runs on loopback with the crawler's real politeness settings, except that the replica
asks for a short Crawl-delay (0.1 s) so the demo takes seconds, not minutes. It ends by writing
the archive's report page and printing what to look at next, as commands that work as printed
(tests/test_analysis_cli.py runs them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.crawling import REPO, last_report
from tests.replica import Replica


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the crawl's exit status."""
    parser = argparse.ArgumentParser(prog="python -m tests.replica.demo")
    parser.add_argument("--archive-dir", default="demo-archive", type=Path)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--crawl-delay", type=float, default=0.1)
    # A fixed port keeps the demo's canonical URLs the same from run to run (pages carry
    # absolute URLs), so its WARCs re-extract with -s SITE_URL=http://127.0.0.1:8089.
    parser.add_argument("--port", type=int, default=8089, help="0 picks a free port")
    args = parser.parse_args(argv)

    archive = args.archive_dir.resolve()
    shutil.rmtree(archive, ignore_errors=True)
    try:
        site_cm = Replica(articles=args.articles, seed=1, crawl_delay=args.crawl_delay,
                          port=args.port)
    except OSError as exc:
        print(f"demo: cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); "
              f"pass --port 0 for a free port", file=sys.stderr)
        return 1
    with site_cm as site:
        print(f"demo: replica of baonamdinh.vn with {args.articles} articles at {site.url}/",
              flush=True)
        print(f"demo: nightly crawl into {archive}/ (log below)", flush=True)
        command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh",
                   "-s", f"SITE_URL={site.url}", "-s", "SITE_HOST_ALIASES=localhost",
                   "-s", f"ARCHIVE_DIR={archive}", "-s", "DOWNLOAD_DELAY=0",
                   "-s", "REPORT_PROGRESS_INTERVAL=5", "-s", "LOG_LEVEL=INFO"]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        for line in done.stderr.splitlines():
            if any(key in line for key in ("progress:", "run report", "Crawl-delay", "ALARM",
                                           "ERROR", "Traceback")):
                print("  " + line)
        truth = site.truth()
    report = last_report(archive)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"demo: {report['counts']['new']} of {len(truth)} published articles archived in "
          f"{archive}/articles/, report in {archive}/runs/; crawl exit status {done.returncode}")
    print(next_steps(archive))
    return done.returncode


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
