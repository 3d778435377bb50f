"""Where extraction + normalisation spends its time: ``python -m bench.profile [--pages N]``;
``--pyspy RAW`` summarises a py-spy profile of a crawl instead.

Fetches N article pages of a local replica (spread over its years, as the benchmark's
extraction figure does), runs each once through our path (``item_from_response``, then every
pipeline but the archive) under cProfile, and prints the functions by their own time and by
their cumulative time. cProfile counts every Python call, so figures of small functions are
inflated against C code; use the shares to compare, and py-spy for a whole crawl
(bench/README.md, "Profiling").
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from collections import Counter
from pathlib import Path

from bench.extraction import fetch_pages
from crawler.extract.response import item_from_response, response_from_file
from crawler.process.processing import ItemProcessor, project_settings
from tests.replica import Replica

NOW = "2025-06-28T23:59:00+07:00"


def summarise_pyspy(path: Path, top: int) -> str:
    """Return the functions of a py-spy ``--format raw`` profile by their share of the samples:
    inclusive (the function and what it calls) and own."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_frame(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    lines = [f"{total} samples", "inclusive:"]
    lines += [f"{n / total:7.1%}  {name}" for name, n in inclusive.most_common(top)]
    lines += ["own:"] + [f"{n / total:7.1%}  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def _frame(frame: str) -> str:
    """``func (path/to/module.py:12)`` -> ``func (module path)``, without site-packages."""
    name, _, where = frame.partition(" (")
    path = where.split(":")[0].split("site-packages/")[-1]
    return f"{name} ({path})" if path else name


def main(argv: list[str] | None = None) -> int:
    """Profile extraction + normalisation on replica pages; print the two tables."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--pages", type=int, default=300, help="article pages (default 300)")
    parser.add_argument("--articles", type=int, default=5000, help="replica size")
    parser.add_argument("--top", type=int, default=25, help="rows of each table")
    parser.add_argument("--pyspy", type=Path, metavar="RAW",
                        help="only summarise a py-spy --format raw profile (of a crawl)")
    parser.add_argument("--plain", action="store_true",
                        help="only run the pages once, unprofiled (for valgrind --tool=callgrind)")
    args = parser.parse_args(argv)
    if args.pyspy:
        print(summarise_pyspy(args.pyspy, args.top))
        return 0
    with Replica(articles=args.articles, seed=1, now=NOW, fault_rate=0.0) as site:
        pages = fetch_pages(site.truth(), args.pages) if args.pages > 0 else []
        site_url = site.url
    with ItemProcessor(project_settings({"ARCHIVE_ENABLED": False})) as processor:

        def run() -> None:
            for page in pages:
                item = item_from_response(response_from_file(page.body, page.url),
                                          fetched_at=NOW, site_url=site_url)
                processor.process(item)

        if args.plain or not pages:
            run()
            return 0
        run()  # warm: compiled patterns, loaded lexicon, first-call caches
        started = time.process_time()
        run()
        plain = (time.process_time() - started) / len(pages) * 1e3
        profiler = cProfile.Profile()
        profiler.runcall(run)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    print(f"{len(pages)} pages; CPU {plain:.2f} ms a page without the profiler\n")
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
