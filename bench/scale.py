"""The archive at the paper's real size (``make bench-scale``): 25,000 against 250,000 articles.

For each size, against a replica of that many articles (seed 1, no faults, politeness off, WARC
capture on, as ``make bench``'s crawls), every operation issue 25 names, each in its own
subprocess, measured by ``bench/maxrss.py`` (the largest of its processes, and its wall time):

1. a backfill into an empty archive;
2. a quiet nightly on the full archive (the same clock: listing pages and the recent re-checks);
3. a nightly after one month file's modification time moved (a ``touch``, as a copy or restore
   without ``-t`` leaves it), with the time from its start to the first request the replica saw;
4. the end-of-run manifest (its own log line in the quiet nightly's log);
5. ``reextract`` of the backfill's WARC files into a fresh archive;
6. ``verify``, ``report``, ``changes`` (a full pull) and ``export`` to DuckDB and Parquet,
   with the DuckDB file's size and its used and free blocks.

Then the table: each figure at both sizes side by side, with the ratio large / small. While each
subprocess runs, every process under it is sampled from /proc (VmRSS, every 0.2 s), so the notes
say which process was the largest. It also counts the replica's articles that have no record
(truth against the archive's keys; the replica's ids collide across the two CMS generations at
250,000 articles). Scratch archives and logs go to ``bench/work/scale/`` (git-ignored); the
figures to ``bench/scale-results.md`` and ``.json``. About 70 minutes on 2 shared cores (4,119 s
on 2026-12-07), nearly all of it the 250,000-article backfill and its re-extraction: ``--large``
takes another size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sqlite3
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import crawls, report
from bench.processes import _descendants, _name
from tests.replica import Replica

HERE = Path(__file__).resolve().parent
WORK = HERE / "work" / "scale"
ROLES = {"item-worker": "worker", "warc-capture": "WARC capture"}
TIMEOUT = 6 * 3600.0


@dataclass
class Figure:
    """One operation at one size: its peak memory (the largest process) and wall time."""

    seconds: float | None = None
    max_rss_mb: float | None = None
    returncode: int | None = None
    # Peak RSS by process role, sampled from /proc (MB).
    by_role: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


class Sampler:
    """Samples the RSS of every process under this one, by role, while a subprocess runs."""

    def __init__(self) -> None:
        self.peaks: dict[str, float] = {}
        self._before = set(_descendants())  # not the measured command's (the replica's none)
        self._own = _cmdline(os.getpid())
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.is_set():
            pids = _descendants()
            # The wrapper (bench/maxrss.py) is the oldest; the command itself the next.
            for pid in pids:
                if pid in self._before:
                    continue
                rss = _rss_mb(pid)
                if rss is None:
                    continue
                name = _name(pid)
                command = _cmdline(pid)
                # The wrapper; and this very benchmark between fork and exec (a copy of its
                # memory that would pass for the measured command's).
                if "maxrss" in command or command == self._own:
                    continue
                role = ROLES.get(name, "main")
                self.peaks[role] = max(self.peaks.get(role, 0.0), rss)
            time.sleep(0.2)


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


def _measure(cmd: list[str], log: Path) -> tuple[crawls.Run, dict[str, float]]:
    with Sampler() as sampler:
        run = crawls.run_measured(cmd, log, TIMEOUT)
    return run, {role: round(mb, 1) for role, mb in sampler.peaks.items()}


def _figure(run: crawls.Run, peaks: dict[str, float], **extra: Any) -> Figure:
    return Figure(seconds=round(run.seconds, 2),
                  max_rss_mb=None if run.max_rss_mb is None else round(run.max_rss_mb, 1),
                  returncode=run.returncode, by_role=peaks, extra=extra)


def _say(text: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def _crawl_cmd(site: Replica, archive: Path, mode: str) -> list[str]:
    settings = dict(crawls.FAST, SITE_URL=site.url, SITE_HOST_ALIASES="localhost",
                    ARCHIVE_DIR=str(archive), WARC_ENABLED="True")
    cmd = [sys.executable, "-m", "scrapy", "crawl", "baonamdinh"]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd + ["-a", f"mode={mode}"]


def _manifest_seconds(log: Path) -> float | None:
    """The end-of-run manifest's time, from its log line (``manifest ...: ... in N s``)."""
    for line in reversed(log.read_text("utf-8", errors="replace").splitlines()):
        if "crawler.analysis.manifest" in line and " s)" in line and "(" in line:
            try:
                return float(line.rsplit("(", 1)[1].split()[0])
            except (ValueError, IndexError):
                return None
    return None


def _missing(site: Replica, archive: Path) -> dict[str, int]:
    """Articles the replica serves at its clock that the archive holds no record of."""
    now_minute = site.site._clock[1]
    served = {(m.cms, m.id) for m in site.dataset.metas if m.exists(now_minute)}
    db = sqlite3.connect(f"{(archive / 'state.sqlite3').resolve().as_uri()}?mode=ro", uri=True)
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(articles)")}
        if "key" in columns:
            held = {tuple(key.split(":", 1)) for (key,) in db.execute("SELECT key FROM articles")}
        else:  # before issue 25: keyed on the id alone; the URL says which CMS
            held = {("old" if "/channel/" in (url or "") else "new", article_id)
                    for article_id, url in db.execute("SELECT id, url FROM articles")}
    finally:
        db.close()
    old = {i for c, i in served if c == "old"}
    colliding = sum(1 for c, i in served if c == "new" and i in old)
    return {"served": len(served), "missing": len(served - held), "colliding_pairs": colliding}


def _duckdb_blocks(path: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("SELECT total_blocks, used_blocks, free_blocks"
                          " FROM pragma_database_size()").fetchone()
    finally:
        con.close()
    return {"total_blocks": row[0], "used_blocks": row[1], "free_blocks": row[2]}


def measure_size(articles: int) -> dict[str, Figure]:
    """Run every operation against a replica of ``articles``; return the figures by operation."""
    work = WORK / str(articles)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    archive = work / "archive"
    python = sys.executable
    figures: dict[str, Figure] = {}
    with Replica(articles=articles, seed=1, fault_rate=0.0, crawl_delay=0) as site:
        _say(f"{articles}: backfill into an empty archive")
        run, peaks = _measure(_crawl_cmd(site, archive, "backfill"), work / "backfill.log")
        figures["backfill"] = _figure(
            run, peaks, articles=site.requests["article"], **_missing(site, archive),
            # this process: the replica's server (its threads) and the benchmark itself
            replica_peak_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
        warcs = sorted((archive / "raw").glob("*.warc.gz"))

        _say(f"{articles}: quiet nightly")
        site.requests.reset()
        run, peaks = _measure(_crawl_cmd(site, archive, "nightly"), work / "nightly.log")
        figures["nightly"] = _figure(run, peaks, requests=site.requests.total)
        figures["manifest"] = Figure(seconds=_manifest_seconds(work / "nightly.log"))

        month = sorted((archive / "articles").glob("*.jsonl"))[-12]
        os.utime(month)  # as `touch`, a copy or a restore without -t leaves it
        _say(f"{articles}: nightly after {month.name}'s mtime moved")
        site.requests.reset()
        run, peaks = _measure(_crawl_cmd(site, archive, "nightly"), work / "touched.log")
        first = site.requests.first_at
        figures["touched"] = _figure(
            run, peaks, requests=site.requests.total, file=month.name,
            first_request_s=None if first is None or run.started is None
            else round(first - run.started, 2))

    _say(f"{articles}: reextract of {len(warcs)} WARC file(s)")
    again = work / "reextract"
    run, peaks = _measure([python, "-m", "crawler", "reextract", *map(str, warcs),
                           "--archive-dir", str(again), "-s", f"SITE_URL={site.url}",
                           "-s", "SITE_HOST_ALIASES=localhost", "-s", "ARCHIVE_FSYNC=False"],
                          work / "reextract.log")
    figures["reextract"] = _figure(run, peaks)
    shutil.rmtree(again, ignore_errors=True)

    for name, args in (("verify", ["verify"]), ("report", ["report", "--output",
                                                           str(work / "report.html")]),
                       ("changes", ["changes"])):
        _say(f"{articles}: {name}")
        log = work / f"{name}.log"
        if name == "changes":  # the records go to /dev/null, the log keeps stderr
            cmd = ["sh", "-c", 'exec "$0" -m crawler changes --archive-dir "$1" >/dev/null',
                   python, str(archive)]
        else:
            cmd = [python, "-m", "crawler", *args, "--archive-dir", str(archive)]
        run, peaks = _measure(cmd, log)
        figures[name] = _figure(run, peaks)

    for fmt in ("duckdb", "parquet"):
        _say(f"{articles}: export --format {fmt}")
        output = work / f"articles.{fmt}"
        run, peaks = _measure([python, "-m", "crawler", "export", "--archive-dir", str(archive),
                               "--format", fmt, "--output", str(output)],
                              work / f"export-{fmt}.log")
        extra: dict[str, Any] = {}
        if output.exists():
            extra["file_mb"] = round(output.stat().st_size / 1e6, 1)
            if fmt == "duckdb":
                extra.update(_duckdb_blocks(output))
        figures[f"export-{fmt}"] = _figure(run, peaks, **extra)
    return figures


OPERATIONS = (
    ("backfill", "backfill into an empty archive, largest process"),
    ("nightly", "quiet nightly"),
    ("touched", "nightly after one month file's mtime moved"),
    ("reextract", "`reextract` of the backfill's WARC files"),
    ("verify", "`verify`"),
    ("report", "`report`"),
    ("changes", "`changes` (a full pull)"),
    ("export-duckdb", "`export --format duckdb`"),
    ("export-parquet", "`export --format parquet`"),
    ("manifest", "end-of-run manifest (quiet nightly)"),
)


def _fmt(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{value:,.0f} {unit}" if value >= 100 else \
        f"{value:.3g} {unit}"


def _ratio(large: float | None, small: float | None) -> str:
    return "—" if not large or not small else f"{large / small:.2f}×"


def table(small: int, large: int, figures: dict[int, dict[str, Figure]]) -> str:
    """Return the Markdown table: each operation's memory and time at both sizes, and ratios."""
    lines = [f"| operation | {small:,}: peak RSS | {large:,}: peak RSS | RSS ratio | "
             f"{small:,}: time | {large:,}: time | time ratio | notes |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for key, label in OPERATIONS:
        a, b = figures[small].get(key, Figure()), figures[large].get(key, Figure())
        notes = []
        for which, fig in ((small, a), (large, b)):
            bits = [f"{role} {mb:.0f} MB" for role, mb in sorted(fig.by_role.items())]
            bits += [f"{k} {v}" for k, v in fig.extra.items()]
            if fig.returncode:
                bits.append(f"exit {fig.returncode}")
            if bits:
                notes.append(f"{which:,}: " + ", ".join(bits))
        lines.append(f"| {label} | {_fmt(a.max_rss_mb, 'MB')} | {_fmt(b.max_rss_mb, 'MB')} | "
                     f"{_ratio(b.max_rss_mb, a.max_rss_mb)} | {_fmt(a.seconds, 's')} | "
                     f"{_fmt(b.seconds, 's')} | {_ratio(b.seconds, a.seconds)} | "
                     f"{'; '.join(notes)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Measure both sizes, print the table, write bench/scale-results.md and .json."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--small", type=int, default=25_000, help="the smaller archive")
    parser.add_argument("--large", type=int, default=250_000, help="the larger archive")
    parser.add_argument("--keep", action="store_true", help="keep bench/work/scale/ after")
    args = parser.parse_args(argv)
    started = time.monotonic()
    load = os.getloadavg()[0]
    figures = {size: measure_size(size) for size in (args.small, args.large)}
    info = report.machine()
    info["wall_seconds"] = round(time.monotonic() - started)
    info["load"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    text = (f"Measured {info['date']} on {info['machine']}, {info['cpu']}, {info['cores']} "
            f"cores; Python {info['python']}, Scrapy {info['scrapy']}. Wall time "
            f"{info['wall_seconds']:,} s. Load average (1 min) {info['load'][0]:.1f} at the start, "
            f"{info['load'][1]:.1f} at the end.\n\n" + table(args.small, args.large, figures))
    (HERE / "scale-results.md").write_text("# make bench-scale\n\n" + text, encoding="utf-8")
    payload = {"machine": info, "figures": {str(size): {k: asdict(v) for k, v in figs.items()}
                                            for size, figs in figures.items()}}
    (HERE / "scale-results.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(text)
    if not args.keep:
        shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
