"""Runs the whole benchmark (``make bench``): prints a Markdown table, writes results.json and .md.

Every figure is measured next to its reference in the same run, against local replicas of the
site on 127.0.0.1 (in-process, closed on exit even after an error). See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import capture, crawls, dates, devsets, extraction, realpages, report, search
from bench.report import Row
from crawler.process.forked import usable_cores
from crawler.store.archive import latest_records
from tests.replica import Replica

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work"
# The first crawl sees the site two nights before the replica's last day; the next night
# brings the articles of those two days (~0.5% of all a day, so ~1%).
NOW_FULL = "2025-06-28T23:59:00+07:00"
NOW_NEXT = "2025-06-30T23:59:00+07:00"
BIG_BACKFILLS = (50_000, 25_000, 10_000)


class Clock:
    """The benchmark's time budget."""

    def __init__(self, budget: float) -> None:
        self.started = time.monotonic()
        self.budget = budget

    def elapsed(self) -> float:
        """Seconds since the benchmark started."""
        return time.monotonic() - self.started

    def left(self) -> float:
        """Seconds left of the budget."""
        return self.budget - self.elapsed()


def _say(clock: Clock, text: str) -> None:
    print(f"[{clock.elapsed():6.1f}s] {text}", file=sys.stderr, flush=True)


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def _new_between(site: Replica, after: str, until: str) -> int:
    start, end = dt.datetime.fromisoformat(after), dt.datetime.fromisoformat(until)
    return sum(start < dt.datetime.fromisoformat(s["published_at"]) <= end
               for s in site.schedule())


def _check(run: crawls.Run, what: str, log: Path, notes: list[str]) -> None:
    if run.returncode != 0:
        notes.append(f"{what} exited with status {run.returncode} (log: {log}).")


def realpages_rows(real: dict[str, Any]) -> list[Row]:
    """Return the table rows of the real-page extraction figures."""
    ours, ref = real["ours"], real["reference"]
    pages = f"{real['pages']} real pages"
    return [
        Row("Body F1, real pages (the benchmark's shingle F1)", "score", ours["f1"], ref["f1"],
            "trafilatura", f"{pages}; ± {ours['f1_std']:.3f} vs ± {ref['f1_std']:.3f}"),
        Row("Real pages rejected (no record)", "share", ours["rejected_share"],
            ref["rejected_share"], "trafilatura",
            f"{ours['rejected']} vs {ref['rejected']}; {ours['crashes']} crashed"),
        Row("Extraction + normalisation per real page, mean", "ms", ours["ms_mean"],
            ref["ms_mean"], "trafilatura", pages),
        Row("Extraction + normalisation per real page, median", "ms", ours["ms"]["median"],
            ref["ms"]["median"], "trafilatura", pages),
    ]


def realpages_notes(real: dict[str, Any]) -> list[str]:
    """Return a note listing our rejects on the real pages by reason, if any."""
    reasons = real["ours"]["rejects_by_reason"]
    if not reasons:
        return []
    listed = "; ".join(f"{count} {reason}" for reason, count in reasons.items())
    return [f"Real pages without a record, by reason: {listed}."]


NAMES = {"ours": "ours", "trafilatura": "trafilatura", "readability": "readability-lxml"}
# The archive the re-extraction goal is stated for (issue 20).
ARCHIVE_ARTICLES = 250_000


def devsets_rows(result: dict[str, Any]) -> list[Row]:
    """Return a row per development-set part (ours against the best other extractor, by the
    set's own method) and the generic layers' time per page against trafilatura's."""
    rows = []
    for part, figures in sorted(result["parts"].items()):
        ours = figures["ours"]
        others = {name: f for name, f in figures.items() if name != "ours"}
        best = max(others, key=lambda name: others[name]["f1"])
        listed = ", ".join(f"{NAMES[n]} {f['f1']:.3f} ± {f['f1_std']:.3f}"
                           for n, f in others.items())
        met = "met" if ours["f1"] >= others[best]["f1"] + 0.01 else "not met"
        rows.append(Row(f"Body F1, {part} ({ours['method']})", "score", ours["f1"],
                        others[best]["f1"], NAMES[best],
                        f"{ours['pages']} pages; ours ± {ours['f1_std']:.3f}; {listed}; target "
                        f"best + 0.01 {met}"))
    pages = sum(f["ours"]["pages"] for f in result["parts"].values())

    def mean_ms(name: str) -> float:
        return sum(f[name]["ms_mean"] * f[name]["pages"] for f in result["parts"].values()) / pages

    rows.append(Row("Generic layers (no template matched) per page, mean", "ms", mean_ms("ours"),
                    mean_ms("trafilatura"), "trafilatura",
                    f"{pages} development-set pages; readability-lxml {mean_ms('readability'):.1f}"
                    " ms"))
    return rows


def reextract_estimate_rows(site_ms: float, generic_ms: float | None) -> list[Row]:
    """Return the estimated time to re-extract ARCHIVE_ARTICLES articles on every core: at the
    site templates' measured CPU time per article, and if every page fell to the generic
    layers."""
    cores = usable_cores()
    rows = [Row(f"Re-extracting {ARCHIVE_ARTICLES:,} articles, site templates (estimate)", "min",
                ARCHIVE_ARTICLES * site_ms / 1e3 / cores / 60, 30.0, "the re-extraction limit",
                f"{site_ms:.2f} ms an article (extraction + normalisation alone, on the crawl's "
                f"pages) on {cores} cores")]
    if generic_ms is not None:
        rows.append(Row(f"Re-extracting {ARCHIVE_ARTICLES:,} articles, all generic layers "
                        "(estimate)", "min", ARCHIVE_ARTICLES * generic_ms / 1e3 / cores / 60,
                        30.0, "the re-extraction limit",
                        f"{generic_ms:.1f} ms a page (development sets) on {cores} cores: the "
                        "worst case, no page of the archive matching a template"))
    return rows


@dataclass
class Measured:
    """One measured crawl of the replica and the requests the replica served it."""

    run: crawls.Run
    requests: dict[str, int]

    @property
    def articles(self) -> int:
        """Article requests served."""
        return self.requests["article"]

    @property
    def articles_per_second(self) -> float:
        """Article requests per second of wall time, start-up included."""
        return self.articles / self.run.seconds

    @property
    def pages_per_second(self) -> float:
        """Requests per second of wall time, start-up included."""
        return self.requests["total"] / self.run.seconds

    def cpu_ms(self) -> tuple[float, float] | None:
        """Return (the crawl's processes, the replica's server) CPU ms per article, or None."""
        if self.run.cpu_seconds is None or not self.articles:
            return None
        return (self.run.cpu_seconds / self.articles * 1e3,
                (self.run.server_cpu_seconds or 0.0) / self.articles * 1e3)


def _median_cpu(runs: list[Measured]) -> tuple[float, float] | None:
    """The run whose total CPU per article is the median of ``runs`` (None if any is unread)."""
    figures = [run.cpu_ms() for run in runs]
    if not figures or any(figure is None for figure in figures):
        return None
    ordered = sorted(figures, key=sum)  # type: ignore[arg-type]
    return ordered[(len(ordered) - 1) // 2]


def cpu_budget_rows(full: list[Measured], bare: list[Measured], alone_aps: float | None,
                    kept_ms: tuple[float, float] | None, slowest: float, notes: list[str]
                    ) -> list[Row]:
    """Rows that say where the crawl's CPU goes and what the machine's cores allow.

    The crawl, its worker processes and the replica's server share the machine's cores, so no
    crawl can beat cores / (CPU seconds per article). The least a crawl needs is what the bare
    spider and its server use per article plus extraction + normalisation alone: with nothing
    else (no WARC, no archive, no passing pages between processes) the cores allow that much;
    with WARC capture alone (on by default) and the archive alone added (``kept_ms``: their
    CPU ms per article, each timed on its own in one process), what any crawl that keeps what
    it fetched allows."""
    full_cpu, bare_cpu = _median_cpu(full), _median_cpu(bare)
    if full_cpu is None or bare_cpu is None:
        notes.append("CPU budget: not measured (a crawl's CPU time could not be read).")
        return []
    cores = usable_cores()
    full_ms, bare_ms = sum(full_cpu), sum(bare_cpu)
    each = f"; median of {len(full)} runs each" if len(full) > 1 else ""
    rows = [
        Row("Full crawl, CPU per article (crawl, workers, replica server)", "ms", full_ms,
            bare_ms, "bare spider",
            f"crawl {full_cpu[0]:.2f} + server {full_cpu[1]:.2f} vs "
            f"{bare_cpu[0]:.2f} + {bare_cpu[1]:.2f}{each}"),
        Row(f"Full crawl vs what {cores} cores allow it", "articles/s",
            statistics.median(run.articles_per_second for run in full), cores / full_ms * 1e3,
            "its CPU per article",
            "cores / CPU per article: how much of the machine the crawl keeps busy"),
    ]
    if alone_aps:
        least_ms = bare_ms + 1e3 / alone_aps
        rows.append(Row(f"Any crawl on {cores} cores vs the crawl's target", "articles/s",
                        cores / least_ms * 1e3, 0.8 * slowest, "0.8 × slowest part",
                        f"cores / (bare spider's {bare_ms:.2f} + extraction's "
                        f"{1e3 / alone_aps:.2f} ms per article)"))
        if kept_ms is not None:
            least_ms += sum(kept_ms)
            rows.append(Row(f"Any crawl that keeps what it fetched on {cores} cores vs the "
                            "crawl's target", "articles/s", cores / least_ms * 1e3, 0.8 * slowest,
                            "0.8 × slowest part",
                            f"the same, + WARC capture alone's {kept_ms[0]:.2f} and the "
                            f"archive alone's {kept_ms[1]:.2f} ms per article"))
        if cores / least_ms * 1e3 < 0.8 * slowest:
            notes.append(
                f"CPU budget: fetching (the bare spider and the replica serving it, "
                f"{bare_ms:.2f} ms of CPU per article), extraction + normalisation alone "
                f"({1e3 / alone_aps:.2f} ms)"
                + (f", WARC capture alone ({kept_ms[0]:.2f} ms) and the archive alone "
                   f"({kept_ms[1]:.2f} ms)" if kept_ms else "")
                + f" need {least_ms:.2f} ms of CPU per article, so {cores} cores allow at most "
                f"{cores / least_ms * 1e3:.0f} articles/s before the crawl's other work; the "
                f"crawl's target, 0.8 × the slower of fetching and extraction, is "
                f"{0.8 * slowest:.0f}: not reachable on this machine.")
    return rows


def crawl_pairs(site: Replica, full_dir: Path, pairs: int, clock: Clock, notes: list[str]
                ) -> tuple[list[Measured], list[Measured]]:
    """Run the full crawl and the bare spider ``pairs`` times, interleaved (crawl, bare; then
    bare, crawl; ...), so that a machine that speeds up or slows down during the benchmark moves
    both alike. The first crawl writes ``full_dir`` (the archive and WARC the later figures use);
    the others a scratch archive, removed after."""
    full: list[Measured] = []
    bare: list[Measured] = []
    again = WORK / "full-again"
    for index in range(pairs):
        suffix = "" if index == 0 else f"-{index + 1}"
        for which in ("crawl", "bare") if index % 2 == 0 else ("bare", "crawl"):
            site.requests.reset()
            log = WORK / f"{'full' if which == 'crawl' else 'bare'}{suffix}.log"
            if which == "crawl":
                _say(clock, f"full crawl {index + 1} of {pairs}")
                # WARC capture on, as by default: its files also feed the re-extraction figure,
                # which saves a second crawl and lets the 50,000-article backfill fit the budget.
                run = crawls.crawl(site.url, full_dir if index == 0 else _fresh(again), log,
                                   timeout=clock.left(), extra={"WARC_ENABLED": "True"})
                _check(run, f"full crawl {index + 1}", log, notes)
                full.append(Measured(run, site.requests.snapshot()))
            else:
                _say(clock, f"bare spider {index + 1} of {pairs}")
                run = crawls.bare(site.url, log, timeout=clock.left())
                _check(run, f"bare spider {index + 1}", log, notes)
                bare.append(Measured(run, site.requests.snapshot()))
    shutil.rmtree(again, ignore_errors=True)
    return full, bare


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=5000,
                        help="articles of the replica for crawls and the small backfill")
    parser.add_argument("--pages", type=int, default=300, help="article pages for extraction")
    parser.add_argument("--dates", type=int, default=2000, help="date strings to parse")
    parser.add_argument("--pairs", type=int, default=3,
                        help="full crawls and bare spider runs, interleaved (default 3 each)")
    parser.add_argument("--big", type=int, help="articles of the large backfill "
                        "(default: the largest of 50,000/25,000/10,000 that fits the budget)")
    parser.add_argument("--search-articles", type=int, default=25_000,
                        help="synthetic articles for the SQLite export and search figures "
                        "(default 25,000; the paper's size is 250,000; 0: skip)")
    parser.add_argument("--budget", type=float, default=720.0,
                        help="seconds the whole benchmark may take (default 720)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark; return the exit status."""
    args = _parser().parse_args(argv)
    clock = Clock(args.budget)
    load_at_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    WORK.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    notes: list[str] = []
    details: dict[str, Any] = {"articles": args.articles}

    _say(clock, "real pages: ours vs trafilatura on the 181 pages of bench/realpages")
    real = realpages.measure(realpages.load_pages())
    rows += realpages_rows(real)
    notes += realpages_notes(real)
    details["realpages"] = {side: {k: v for k, v in real[side].items() if k != "per_page"}
                            for side in ("ours", "reference")}

    generic_ms = None
    missing = devsets.missing_message()
    if missing:
        print(missing, file=sys.stderr)
        notes.append(missing[0].upper() + missing[1:] + ".")
    dev_pages = [page for name in devsets.SETS for page in devsets.load(name, devsets.DEV)]
    _say(clock, f"development sets: ours, trafilatura, readability-lxml on {len(dev_pages)} pages")
    dev = devsets.measure(dev_pages)
    rows += devsets_rows(dev)
    details["devsets"] = {part: {name: {k: v for k, v in f.items() if k != "per_page_f1"}
                                 for name, f in figures.items()}
                          for part, figures in dev["parts"].items()}
    pages_total = sum(f["ours"]["pages"] for f in dev["parts"].values())
    generic_ms = sum(f["ours"]["ms_mean"] * f["ours"]["pages"]
                     for f in dev["parts"].values()) / pages_total

    with Replica(articles=args.articles, seed=1, now=NOW_FULL, fault_rate=0.0) as site:
        truth = site.truth()
        _say(clock, f"replica: {len(truth)} articles at {site.url}; fetching {args.pages} pages")
        pages = extraction.fetch_pages(truth, args.pages)

        _say(clock, "extraction: ours vs trafilatura")
        ext = extraction.run(pages, fetched_at=NOW_FULL, site_url=site.url)
        details["extraction"] = ext
        oq, rq = ext["ours_quality"], ext["ref_quality"]
        traf = "trafilatura"
        rows += [
            Row("Extraction + normalisation per article, median", "ms", ext["ours_ms"]["median"],
                ext["ref_ms"]["median"], traf, f"{ext['pages']} replica pages"),
            Row("Extraction + normalisation per article, p95", "ms", ext["ours_ms"]["p95"],
                ext["ref_ms"]["p95"], traf, f"{ext['pages']} replica pages"),
            Row("Body F1 (token overlap with truth body)", "score", oq["body_f1"], rq["body_f1"],
                traf, "mean over pages"),
            Row("Exact title", "share", oq["title_exact"], rq["title_exact"], traf, ""),
            Row("Correct published_date", "share", oq["published_date"], rq["published_date"],
                traf, ""),
            Row("Correct published_at (vs truth page_published_at)", "share",
                oq["published_at"], rq["published_at"], traf,
                "trafilatura gives no time: counted null"),
        ]

        _say(clock, f"dates: parse_published vs dateparser on {args.dates} strings")
        dres = dates.run(dates.date_strings(truth, args.dates),
                         now=dt.datetime.fromisoformat(NOW_FULL))
        details["dates"] = dres
        rows += [
            Row("Date normalisation per call, median", "µs", dres["ours_us"]["median"],
                dres["ref_us"]["median"], "dateparser.parse", f"{dres['strings']} site strings"),
            Row("Date normalisation per call, p95", "µs", dres["ours_us"]["p95"],
                dres["ref_us"]["p95"], "dateparser.parse", f"{dres['strings']} site strings"),
            Row("Correct date from the date string", "share", dres["ours_date_right"],
                dres["ref_date_right"], "dateparser.parse", ""),
        ]

        full_dir = _fresh(WORK / "full")
        full, bare = crawl_pairs(site, full_dir, args.pairs, clock, notes)
        full_warcs = sorted(p for p in (full_dir / "raw").glob("*.warc*") if p.is_file())
        archived = len(latest_records(str(full_dir)))
        _say(clock, "extraction + normalisation alone, one process, on the crawl's pages")
        alone = extraction.rate_on_warcs(full_warcs, site_url=site.url)
        _say(clock, "WARC capture alone, one process, on the crawl's responses")
        captured = capture.rate_on_warcs(full_warcs)
        kept_ms = None
        if full[0].articles:
            kept_ms = (captured["seconds"] / full[0].articles * 1e3,
                       alone["archive_seconds"] / full[0].articles * 1e3)
        details["full_crawl"] = [{"run": vars(m.run), "requests": m.requests} for m in full]
        details["full_crawl"][0]["archived"] = archived
        details["bare_crawl"] = [{"run": vars(m.run), "requests": m.requests} for m in bare]
        details["extraction_alone"] = alone
        details["capture_alone"] = dict(captured, ms_per_article=kept_ms and kept_ms[0])
        crawl_aps = statistics.median(m.articles_per_second for m in full)
        bare_aps = statistics.median(m.articles_per_second for m in bare)
        pair_ratios = [f.articles_per_second / b.articles_per_second
                       for f, b in zip(full, bare, strict=True)]
        runs = f"median of {len(full)} interleaved runs each" if len(full) > 1 else "one run each"
        alone_aps = alone["pages_per_second"]
        slowest = min((bare_aps, "bare spider"), (alone_aps or bare_aps, "extraction alone"))
        rows += [
            Row("Full crawl, pages/s (wall, incl. start-up)", "pages/s",
                statistics.median(m.pages_per_second for m in full),
                statistics.median(m.pages_per_second for m in bare), "bare spider",
                f"{full[0].requests['total']:,} vs {bare[0].requests['total']:,} requests; "
                f"{runs}"),
            Row("Full crawl, articles/s", "articles/s", crawl_aps, bare_aps, "bare spider",
                f"{archived:,} archived of {len(truth):,}; each pair's ratio "
                + ", ".join(f"{r:.2f}" for r in pair_ratios)),
            Row("Full crawl vs extraction + normalisation alone", "articles/s", crawl_aps,
                alone_aps, "one process", f"{alone['pages']:,} article pages of the crawl's WARC"),
            Row("Full crawl vs its slowest necessary part", "articles/s", crawl_aps,
                slowest[0], slowest[1], "the smaller of the two rates above"),
        ]
        rows += cpu_budget_rows(full, bare, alone_aps, kept_ms, slowest[0], notes)
        if alone_aps:
            rows += reextract_estimate_rows(1e3 / alone_aps, generic_ms)

        help_text = crawls.reextract_help()
        if help_text is None:
            rows.append(Row("Re-extraction from WARC", "articles/s", None, crawl_aps,
                            "crawl", "not measured: reextract not available"))
            notes.append("Re-extraction: not measured: reextract not available "
                         "(no working `python -m crawler reextract`).")
        else:
            _say(clock, "reextract the full crawl's WARC files")
            warcs = full_warcs  # only the full crawl's: the nightly runs since wrote more
            warc_articles = archived
            log = WORK / "reextract.log"
            rrun = crawls.reextract(warcs, _fresh(WORK / "reextracted"), log,
                                    site_url=site.url, help_text=help_text,
                                    timeout=clock.left())
            _check(rrun, "reextract", log, notes)
            details["reextract"] = {"run": vars(rrun),
                                    "warcs": [str(p.relative_to(REPO)) for p in warcs],
                                    "articles": warc_articles}
            note = f"{warc_articles:,} articles from {len(warcs)} WARC file(s)"
            if not warcs:
                note = "no WARC file found after the crawl"
            rows.append(Row("Re-extraction from WARC", "articles/s",
                            warc_articles / rrun.seconds if warcs else None, crawl_aps,
                            "crawl", note))

        _say(clock, "nightly run, nothing new")
        site.requests.reset()
        log = WORK / "nightly-0.log"
        run0 = crawls.crawl(site.url, full_dir, log, timeout=clock.left())
        _check(run0, "nightly run (nothing new)", log, notes)
        req0 = site.requests.snapshot()
        new = _new_between(site, NOW_FULL, NOW_NEXT)
        site.set_now(NOW_NEXT)
        _say(clock, f"nightly run, {new} new")
        site.requests.reset()
        log = WORK / "nightly-1.log"
        run1 = crawls.crawl(site.url, full_dir, log, timeout=clock.left())
        _check(run1, "nightly run (~1% new)", log, notes)
        req1 = site.requests.snapshot()
        details["nightly"] = {"no_new": {"run": vars(run0), "requests": req0},
                              "some_new": {"run": vars(run1), "requests": req1, "new": new}}
        rows += [
            Row("Nightly run, no new articles: requests", "requests", req0["total"],
                full[0].requests["total"], "full crawl", f"{req0['article']} article requests"),
            Row(f"Nightly run, {new} new ({new / len(truth):.1%}): requests", "requests",
                req1["total"], full[0].requests["total"], "full crawl",
                f"{req1['article']} article requests"),
        ]

        _say(clock, f"backfill of {args.articles} articles")
        log = WORK / "backfill-small.log"
        site.requests.reset()
        # WARC capture on, as real crawls do: its process is one of those the figure covers.
        small = crawls.crawl(site.url, _fresh(WORK / "backfill-small"), log, mode="backfill",
                             timeout=clock.left(), extra={"WARC_ENABLED": "True"})
        _check(small, "small backfill", log, notes)
        small_req = site.requests.snapshot()
        rate = args.articles / small.seconds

    big = args.big
    estimate = None
    if big is None:
        left = clock.left() - 15
        fits = [n for n in BIG_BACKFILLS if n / rate * 1.08 + 5 < left]
        big = fits[0] if fits else None
        estimate = (BIG_BACKFILLS[0] / rate) if rate else None
        if big != BIG_BACKFILLS[0]:
            notes.append(
                f"Backfill memory: 50,000 articles would take about {estimate:.0f} s at "
                f"{rate:.0f} articles/s, more than the {left:.0f} s left of the budget; "
                + (f"measured {big:,} instead." if big else "no larger backfill fits.")
            )
    if big:
        with Replica(articles=big, seed=1, fault_rate=0.0) as site:
            _say(clock, f"backfill of {big} articles")
            log = WORK / "backfill-big.log"
            large = crawls.crawl(site.url, _fresh(WORK / "backfill-big"), log, mode="backfill",
                                 timeout=max(60.0, clock.left() + 120),
                                 extra={"WARC_ENABLED": "True"})
            _check(large, "large backfill", log, notes)
        shutil.rmtree(WORK / "backfill-big", ignore_errors=True)
        details["backfill"] = {"small": vars(small), "small_requests": small_req,
                               "large": vars(large), "large_articles": big}
        rows.append(Row(f"Backfill peak RSS, {big:,} vs {args.articles:,} articles", "MB",
                        large.max_rss_mb, small.max_rss_mb, f"{args.articles:,} articles",
                        f"{big / large.seconds:.0f} vs {rate:.0f} articles/s"))
    else:
        rows.append(Row(f"Backfill peak RSS, {args.articles:,} articles", "MB", small.max_rss_mb,
                        None, "—", "no larger backfill fits the budget"))

    if args.search_articles:
        _say(clock, f"SQLite export and search of {args.search_articles:,} synthetic articles, "
                    "beside DuckDB")
        searched = search.measure(args.search_articles)
        details["search"] = searched
        rows += search.rows(searched)
        if args.search_articles < 250_000:
            notes.append(f"Search: {args.search_articles:,} articles; the paper's size is "
                         "`--search-articles 250000` (or `python -m bench.search`), about 1 GB "
                         "of JSON Lines and four more minutes (bench/README.md).")

    info = report.machine()
    info["wall_seconds"] = round(clock.elapsed(), 1)
    if load_at_start is not None:
        info["load"] = [round(load_at_start, 2), round(os.getloadavg()[0], 2)]
    text = report.write(rows, info, notes, details, HERE / "results.json", HERE / "results.md")
    print(text)
    print(f"total {clock.elapsed():.0f} s; wrote {HERE / 'results.json'} and "
          f"{HERE / 'results.md'}")
    return 0
