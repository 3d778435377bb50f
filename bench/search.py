"""The SQLite export and search at the paper's size, beside DuckDB's read_json_auto on the same
files.

``python -m bench.search [--articles 250000]`` writes a synthetic archive of that many articles
into ``bench/work/search-N/`` once (kept and reused; about 4 kB a line as the real paper's, 250,000
articles about 1 GB), then measures, on these 2 cores:

- ``python -m crawler export --format sqlite`` from scratch (subprocess wall time), and once more
  with nothing new (the update from the changes feed);
- search: ``crawler.analysis.search`` in one process, the best 20 matches and the count, median
  of 5 runs after one warm-up, per query; and ``python -m crawler search`` wall time, start-up
  included;
- DuckDB: ``read_json_auto(..., union_by_name = true)`` of the same JSON Lines into a table (fresh
  interpreter, wall time), and the same queries as a scan of that table
  (``strip_accents(lower(...))`` of title, lead and body, "đ" replaced, ``LIKE`` each word):
  DuckDB's core has no Vietnamese folding and its full-text extension needs a download.

The text is the replica's (tests/replica/text.py): its Vietnamese sentences, names and places, so
the vocabulary and line sizes are those of the paper, not random letters. A few phrases are put in
at known rates so the queries have rare, medium and common answers. No state database is written:
the export reads each month file up to its last whole line, as for a copied archive.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.replica import text as T

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench" / "work"
QUERIES = ("tran hung dao", '"le hoi phu day"', "nong thon moi", "nam dinh")
TOPICS = tuple(T.TOPICS)
SECTIONS = ("5083", "5084", "5087", "5090", "5091", "5093", "5095", "5098", "chinh-tri",
            "kinh-te", "xa-hoi", "van-hoa-nghe-thuat")
RARE = "Tượng đài Trần Hưng Đạo được các đoàn đại biểu đến dâng hương tưởng niệm."
MEDIUM = "Lễ hội Phủ Dày thu hút hàng vạn lượt du khách thập phương."


def _months(articles: int) -> list[str]:
    months = [f"{y:04d}-{m:02d}" for y in range(2011, 2026) for m in range(1, 13)]
    return months[: months.index("2025-06") + 1]


def _record(rng: random.Random, number: int, month: str, pool: list[str]) -> dict[str, Any]:
    year = int(month[:4])
    slots = T.Slots(rng, year)
    topic = rng.choice(TOPICS)
    title = T.fill(rng.choice(T.TOPICS[topic]["titles"]), slots)
    if rng.random() < 0.01:
        title = f"Lễ hội Phủ Dày năm {year}"
    paragraphs = [rng.choice(pool) for _ in range(rng.randrange(5, 10))]
    if rng.random() < 0.004:
        paragraphs.insert(rng.randrange(len(paragraphs)), RARE)
    if rng.random() < 0.02:
        paragraphs.insert(rng.randrange(len(paragraphs)), MEDIUM)
    lead = paragraphs[0]
    day = rng.randrange(1, 29)
    article_id = str(2_000_000 + number)
    section = rng.choice(SECTIONS)
    url = f"https://baonamdinh.vn/channel/{section}/{month.replace('-', '')}/bai-{article_id}/"
    authors = [T.person_name(rng).split(" ", 1)[1] for _ in range(rng.choice((1, 1, 2)))]
    images = [{"url": f"https://baonamdinh.vn/file/e7837c02816d130b0181a995d7ad7e96/dataimages/"
                      f"{month.replace('-', '')}/original/images{article_id}{i}_1.jpg",
               "caption": T.fill(rng.choice(T.TOPICS[topic]["captions"]), slots),
               "mirror_url": f"https://img.baoninhbinh.org.vn/namdinh/file/e7837c02816d130b0181a9"
                             f"95d7ad7e96/dataimages/{month.replace('-', '')}/original/images"
                             f"{article_id}{i}_1.jpg"} for i in range(rng.randrange(0, 4))]
    date = f"{month}-{day:02d}"
    record = {
        "id": article_id, "url": url, "cms": "old", "kicker": None, "title": title, "lead": lead,
        "body": "\n\n".join(paragraphs), "authors": authors, "byline": " - ".join(authors),
        "source": None, "images": images, "section": section, "published_date": date,
        "published_month": month, "published_at": f"{date}T09:15:00+07:00",
        "published_precision": "minute", "published_raw": f"09:{month[5:]}, {day:02d}/"
        f"{month[5:]}/{month[:4]}", "listing_raw": None,
        "fetched_at": "2026-11-26T09:40:38+07:00", "http_status": 200,
        "capture": {"warc_file": "raw/baonamdinh-20261126T024026-00000.warc.gz",
                    "record_id": f"urn:uuid:{hashlib.md5(article_id.encode()).hexdigest()}",
                    "offset": number * 5000, "length": 4800, "status": 200,
                    "fetched_at": "2026-11-26T09:40:38+07:00"},
        "origin": None,
        "provenance": {"id": "url", "url": "url", "section": "url", "title": "site",
                       "body": "site", "lead": "site", "images": "site", "authors": "byline",
                       "published_date": "site", "published_month": "site"},
        "version": 1, "extractor_version": "bench", "schema_version": "1.1.0",
    }
    record["content_hash"] = "sha256:" + hashlib.sha256(record["body"].encode()).hexdigest()
    return record


def generate(articles: int, seed: int = 1) -> Path:
    """Return a synthetic archive of ``articles`` articles, writing it on first use."""
    root = WORK / f"search-{articles}"
    done = root / ".complete"
    if done.exists():
        return root
    (root / "articles").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    pool = []
    for _ in range(4000):
        slots = T.Slots(rng, rng.randrange(2011, 2026))
        pool += T.paragraphs(rng, rng.choice(TOPICS), slots, 5)
    months = _months(articles)
    per_month = [articles // len(months) + (i < articles % len(months))
                 for i in range(len(months))]
    number = 0
    for month, count in zip(months, per_month, strict=True):
        with (root / "articles" / f"{month}.jsonl").open("w", encoding="utf-8") as fh:
            for _ in range(count):
                number += 1
                fh.write(json.dumps(_record(rng, number, month, pool), ensure_ascii=False,
                                    separators=(",", ":")) + "\n")
    done.touch()
    return root


def _wall(command: list[str]) -> tuple[float, str, float]:
    """Run a command; return its wall time, its stderr and the CPU seconds it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, done.stderr, cpu


def _duckdb(root: Path, queries: tuple[str, ...]) -> dict[str, Any]:
    """Load the JSON Lines into DuckDB in a fresh interpreter; time it and the scan searches."""
    code = f"""
import json, time, duckdb
from crawler.analysis.search import parse
t = time.perf_counter()
con = duckdb.connect()
con.execute("CREATE TABLE a AS SELECT * FROM read_json_auto('{root}/articles/*.jsonl', "
            "union_by_name = true)")
load = time.perf_counter() - t
rows = con.execute("SELECT count(*) FROM a").fetchone()[0]
con.execute("CREATE TABLE f AS SELECT id, replace(strip_accents(lower(coalesce(title, '') || ' ' "
            "|| coalesce(lead, '') || ' ' || coalesce(body, ''))), 'đ', 'd') AS t FROM a")
out = {{"load": load, "rows": rows, "queries": {{}}}}
for q in {list(queries)!r}:
    likes = " AND ".join("t LIKE '%" + " ".join(term) + "%'" for term in parse(q).terms)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        n = con.execute(f"SELECT count(*) FROM f WHERE {{likes}}").fetchone()[0]
        times.append(time.perf_counter() - t)
    out["queries"][q] = {{"seconds": sorted(times)[1], "matches": n}}
print(json.dumps(out))
"""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = time.monotonic() - started
    return result


def measure(articles: int) -> dict[str, Any]:
    """Generate (or reuse) the archive, then time the export, search and DuckDB beside them."""
    from crawler.analysis import search as finder

    root = generate(articles)
    jsonl_bytes = sum(p.stat().st_size for p in (root / "articles").glob("*.jsonl"))
    database = WORK / f"search-{articles}.sqlite"
    database.unlink(missing_ok=True)
    export = [sys.executable, "-m", "crawler", "export", "--archive-dir", str(root), "--format",
              "sqlite", "--output", str(database)]
    built, built_said, built_cpu = _wall(export)
    again, again_said, _cpu = _wall(export)
    db = finder.connect(str(database))
    per_query = {}
    try:
        for query in QUERIES:
            parsed = finder.parse(query)
            times = []
            for _ in range(6):
                started = time.perf_counter()
                finder.search(db, parsed, limit=20)
                total = finder.count(db, parsed)
                times.append(time.perf_counter() - started)
            per_query[query] = {"seconds": statistics.median(times[1:]), "matches": total}
    finally:
        db.close()
    command, _said, _cpu = _wall([sys.executable, "-m", "crawler", "search", "--archive-dir",
                                  str(root), "--database", str(database), QUERIES[0]])
    duck = _duckdb(root, QUERIES)
    return {"articles": articles, "jsonl_bytes": jsonl_bytes, "export_seconds": built,
            "export_cpu_seconds": built_cpu, "load": os.getloadavg()[0],
            "export_said": built_said.strip().splitlines()[-1], "update_seconds": again,
            "update_said": again_said.strip().splitlines()[-1],
            "database_bytes": database.stat().st_size, "queries": per_query,
            "search_command_seconds": command, "duckdb": duck}


def rows(result: dict[str, Any]) -> list[Any]:
    """Return the benchmark table's rows of a measure() result."""
    from bench.report import Row

    n, size = result["articles"], result["jsonl_bytes"] / 1e6
    duck = result["duckdb"]
    ours_ms = max(q["seconds"] for q in result["queries"].values()) * 1000
    duck_ms = max(q["seconds"] for q in duck["queries"].values()) * 1000
    return [
        Row(f"SQLite export with full-text index, {n:,} articles ({size:,.0f} MB JSONL)", "s",
            result["export_seconds"], duck["load"], "DuckDB read_json_auto into a table",
            f"{result['export_cpu_seconds']:.0f} s of CPU; database "
            f"{result['database_bytes'] / 1e6:,.0f} MB; target ≤ 120 s at 250,000"),
        Row("SQLite export again, nothing new (update from the changes feed)", "s",
            result["update_seconds"], result["export_seconds"], "export from scratch", ""),
        Row(f"Search, slowest of {len(result['queries'])} queries (top 20 + count)", "ms",
            ours_ms, duck_ms, "DuckDB LIKE scan of the loaded table",
            "; ".join(f"{q}: {v['seconds'] * 1000:.0f} ms, {v['matches']:,}"
                      for q, v in result["queries"].items())),
        Row("Search command, wall time incl. start-up", "ms",
            result["search_command_seconds"] * 1000, None, "—", QUERIES[0]),
    ]


def main(argv: list[str] | None = None) -> int:
    """Measure and print the rows as a Markdown table, and the raw figures as JSON."""
    from bench.report import machine, markdown

    parser = argparse.ArgumentParser(prog="python -m bench.search")
    parser.add_argument("--articles", type=int, default=250_000)
    args = parser.parse_args(argv)
    started = time.monotonic()
    result = measure(args.articles)
    info = dict(machine(), wall_seconds=time.monotonic() - started)
    print(markdown(rows(result), info, []))
    print(json.dumps(result, ensure_ascii=False, indent=1))
    print(f"bench.search: {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
