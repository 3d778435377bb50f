"""Parquet export against the JSON Lines: size and load time on a large replica archive.

``python -m bench.analysis_load [--articles 50000]``: crawls a replica of that many articles into
``bench/work/analysis-N/`` once (politeness off, as tests/crawling.py FAST; about seven minutes
for 50,000 here; kept and reused by later runs), then measures, each load three times in a fresh
DuckDB connection, the median wall time of:

- ``python -m crawler export --format parquet`` (the export itself, subprocess wall time);
- DuckDB loading the Parquet export into a table (one row per article);
- DuckDB loading the JSON Lines into a table, one row per article as well
  (``read_json_auto(..., union_by_name = true)`` with the latest version kept by ``QUALIFY``);
- pandas ``read_parquet(..., dtype_backend="pyarrow")`` of the export.

Prints a Markdown table with the sizes on disk.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.crawling import REPO, crawl_command
from tests.replica import Replica

WORK = REPO / "bench" / "work"
RUNS = 3


def build(articles: int) -> Path:
    """Return the archive of a full crawl of an ``articles``-article replica, crawling it once."""
    root = WORK / f"analysis-{articles}"
    done = root / ".complete"
    if done.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    with Replica(articles=articles, seed=1, crawl_delay=0) as site:
        command = crawl_command(site.url, root, settings={"LOG_LEVEL": "WARNING",
                                                          "CONCURRENT_REQUESTS_PER_DOMAIN": "16"})
        started = time.monotonic()
        subprocess.run(command, cwd=REPO, check=False, timeout=3600)
        print(f"crawl of {articles} articles: {time.monotonic() - started:.0f} s", file=sys.stderr)
    done.touch()
    return root


def timed(code: str) -> float:
    """Return the median wall time of a Python snippet, each run in a fresh interpreter."""
    times = []
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", f"import time\nt = time.perf_counter()\n{code}"
                              "\nprint(time.perf_counter() - t)"], cwd=REPO, check=True,
                             capture_output=True, text=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the archive, measure, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.analysis_load")
    parser.add_argument("--articles", type=int, default=50_000)
    args = parser.parse_args(argv)
    root = build(args.articles)
    parquet = root / "exports" / "articles.parquet"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "crawler", "export", "--archive-dir", str(root),
                    "--format", "parquet"], cwd=REPO, check=True)
    export_seconds = time.monotonic() - started
    jsonl = sorted((root / "articles").glob("*.jsonl"))
    jsonl_bytes = sum(p.stat().st_size for p in jsonl)
    glob = f"{root}/articles/*.jsonl"
    rows = subprocess.run([sys.executable, "-c", f"import duckdb; print(duckdb.sql(\"SELECT "
                           f"count(*) FROM '{parquet}'\").fetchall()[0][0])"], cwd=REPO,
                          check=True, capture_output=True, text=True).stdout.strip()
    from_parquet = timed(f"import duckdb\ncon = duckdb.connect()\ncon.execute(\"CREATE TABLE a "
                         f"AS SELECT * FROM '{parquet}'\")")
    from_jsonl = timed(f"import duckdb\ncon = duckdb.connect()\ncon.execute(\"CREATE TABLE a AS "
                       f"SELECT * FROM read_json_auto('{glob}', union_by_name = true) QUALIFY "
                       "row_number() OVER (PARTITION BY cms, id ORDER BY version DESC) = 1\")")
    pandas = timed(f"import pandas as pd\npd.read_parquet('{parquet}', dtype_backend='pyarrow')")
    print(f"\n{rows} articles, {len(jsonl)} month files; median of {RUNS} runs, each in a fresh "
          "process (import time not counted)\n")
    print("| what | size on disk | load time |\n| --- | ---: | ---: |")
    print(f"| JSON Lines, DuckDB `read_json_auto(union_by_name)` + latest version | "
          f"{jsonl_bytes / 1e6:.1f} MB | {from_jsonl:.2f} s |")
    print(f"| Parquet export, DuckDB table | {parquet.stat().st_size / 1e6:.1f} MB | "
          f"{from_parquet:.2f} s |")
    print(f"| Parquet export, pandas (pyarrow dtypes) | same file | {pandas:.2f} s |")
    print(f"| writing the Parquet export (`python -m crawler export`) | | {export_seconds:.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
