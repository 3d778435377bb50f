"""What a backfill from each web archive costs and recovers, measured on the replica's archives.

    python -m tests.replica.sourcecheck --articles 2000 [--seed 1] [--source wayback commoncrawl]

For each source: serve the archives (tests/replica/archives.py) on loopback, run the real
``scrapy crawl baonamdinh -a mode=backfill -a source=...`` into a fresh archive with the default
settings except the request rate (so it takes seconds, not hours; the requests made do not
depend on it), then print the requests by kind, the requests per archived article, and the share
of what the archive holds (its truth) and of every article of the replica that was recovered.
The Common Crawl index answers ``--cc-page-lines`` lines a page (default 15,000: five blocks of
3,000, as Common Crawl's index pages).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crawler import settings as defaults
from tests.crawling import REPO
from tests.replica.archives import ArchiveReplica
from tests.replica.captures import COMMONCRAWL, WAYBACK
from tests.scoring import score_archive


def measure(archives: ArchiveReplica, source: str, archive_dir: Path) -> dict:
    """Run one backfill from ``source`` into ``archive_dir``; return what it cost and recovered."""
    archives.requests.reset()
    command = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh", "-a", "mode=backfill",
               "-a", f"source={source}", "-s", f"ARCHIVE_DIR={archive_dir}",
               "-s", "WAYBACK_RATE=1000", "-s", "COMMONCRAWL_RATE=1000",
               "-s", "ARCHIVE_FSYNC=False", "-s", "LOG_LEVEL=WARNING"]
    for name, value in archives.settings().items():
        command += ["-s", f"{name}={value}"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.monotonic() - started
    truth = archives.truth(source)
    result = score_archive(str(archive_dir), truth)
    archived = result.expected - len(result.missed) + len(result.extra)
    requests = archives.requests.snapshot()
    return {
        "source": source, "exit": done.returncode, "seconds": round(seconds, 1),
        "articles_in_replica": len(archives.dataset), "held_by_archive": len(truth),
        "archived": archived, "wrong_fields": dict(result.wrong),
        "share_of_holdings": round(archived / len(truth), 4) if truth else None,
        "share_of_replica": round(archived / len(archives.dataset), 4),
        "requests": {k: v for k, v in requests.items() if v},
        "requests_per_archived_article": round(requests["total"] / archived, 3)
        if archived else None,
        "hours_at_default_rate": round(requests["total"] / _rate(source) / 3600, 2),
    }


def _rate(source: str) -> float:
    return defaults.WAYBACK_RATE if source == WAYBACK else defaults.COMMONCRAWL_RATE


def main(argv: list[str] | None = None) -> int:
    """Measure each source; print one JSON object per source."""
    parser = argparse.ArgumentParser(prog="python -m tests.replica.sourcecheck")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--source", nargs="+", default=[WAYBACK, COMMONCRAWL],
                        choices=[WAYBACK, COMMONCRAWL])
    parser.add_argument("--cc-page-lines", type=int, default=15000)
    args = parser.parse_args(argv)
    status = 0
    with ArchiveReplica(args.articles, args.seed, page_lines=args.cc_page_lines) as archives:
        for source in args.source:
            with tempfile.TemporaryDirectory(prefix=f"sourcecheck-{source}-") as folder:
                figures = measure(archives, source, Path(folder))
            print(json.dumps(figures, ensure_ascii=False), flush=True)
            status = status or figures["exit"]
    return status


if __name__ == "__main__":
    sys.exit(main())
