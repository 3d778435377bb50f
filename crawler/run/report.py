"""RunReport extension: progress while crawling, and a report per run that says how it ended.

The report says what the run did (new, updated, unchanged, failed, rejected articles; requests;
why it stopped; article links dropped; listings walked; what reconciling the state found) and how
well extraction worked (share of records with each field, which layer gave it, and which of the
site's templates applied). When a field's coverage, or the share of fields the site profile gave,
falls sharply against the previous runs (as after a site redesign: crawler/run/alarms.py), the
run says so at ERROR level. Every problem of the run (these alarms, too many article links
dropped, an interrupted run, work left for the next run (crawler/run/undone.py), and those
components recorded: storage, robots.txt, an unreachable site) goes into the report, and the
worst one becomes the exit status (crawler/run/outcome.py), which the ``crawl`` command
returns (crawler/commands/crawl.py reads ``archive/run/exit_code``). A report file never
replaces another: two runs started in the same second get ``<start>-baonamdinh.json`` and
``<start>_2-baonamdinh.json``. So that a run stopped by a full disk can still write its report,
it keeps a little space in reserve (``runs/.reserve-<pid>``, REPORT_RESERVE_BYTES) from its
start and frees it just before writing; if even that fails, the exit status and the log still
say why.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from scrapy import signals
from twisted.internet import task

from crawler.items import ArticleItem, PageItem
from crawler.normalise.dates import VN_TZ, month_range
from crawler.run import progress
from crawler.run.alarms import (
    COVERAGE_FIELDS,
    LAYER_FIELDS,
    NO_TEMPLATE,
    coverage_alarms,
    run_kind,
)
from crawler.run.outcome import (
    SHUTDOWN_REASON,
    SIGNAL_KEY,
    ExitStatus,
    exit_status,
    is_storage_error,
    problems_of,
    report_problem,
    signal_name,
)
from crawler.run.undone import THRESHOLDS, threshold, undone, undone_problems
from crawler.store.state import CrawlState

logger = logging.getLogger(__name__)

# Months listed in a coverage table before it is cut (a backfill of 15 years has 180).
MAX_MONTHS_LOGGED = 24
EXIT_COVERAGE_ALARM = int(ExitStatus.COVERAGE_ALARM)
# How many earlier runs are read to find the comparable ones among runs of other kinds
# (crawler/run/alarms.py compares with the newest of them).
PREVIOUS_RUNS_READ = 50


def coverage_by_month(found: dict[tuple[str, str], int], archived: dict[str, int], *,
                      since: dt.date | None, until: dt.date | None,
                      backfill: bool) -> dict[str, dict[str, Any]]:
    """Return, per month, the articles each source found in this run and what the archive holds.

    ``found`` is {(source, YYYY-MM): articles}, by the month in the article URL; ``archived`` is
    {YYYY-MM: articles archived}, by publication date. A backfill lists every month of its range
    (from its first to its last month with anything when open-ended), holes included; another
    run lists only the months it found something in."""
    found_months = {month for _, month in found}
    if backfill:
        known = sorted(found_months | set(archived))
        first = since.strftime("%Y-%m") if since else (known[0] if known else None)
        last = until.strftime("%Y-%m") if until else (known[-1] if known else None)
        if first and last and first <= last:
            months = month_range(first, max(first, last))
        else:
            months = sorted(found_months)
    else:
        months = sorted(found_months)
    sources = sorted({source for source, _ in found})
    return {month: {"found": {source: found.get((source, month), 0) for source in sources},
                    "archived": archived.get(month, 0)} for month in months}


class RunReport:
    """Extension: counts coverage per record, logs progress, writes the run report at the end."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.stats = crawler.stats
        settings = crawler.settings
        self.runs_dir = Path(settings.get("ARCHIVE_DIR")) / "runs"
        self.interval = settings.getfloat("REPORT_PROGRESS_INTERVAL")
        self.drop = settings.getfloat("REPORT_COVERAGE_DROP")
        self.min_records = settings.getint("REPORT_MIN_RECORDS")
        self.max_dropped = settings.getint("REPORT_LINKS_DROPPED_MAX")
        # Read now, so that a bad value stops the run before it starts (exit 1).
        self.limits = {mode: {what: threshold(settings, name, mode)
                              for name, what in THRESHOLDS.items()}
                       for mode in ("nightly", "backfill")}
        self.retry_after_cap = settings.getfloat("SITE_RETRY_AFTER_MAX")
        self.reserve_bytes = settings.getint("REPORT_RESERVE_BYTES")
        self.reserve: Path | None = None
        self.previous: list[dict[str, Any]] = []
        self.db_timeout = settings.getfloat("ARCHIVE_DB_TIMEOUT")
        self.records = 0
        self.present: Counter[str] = Counter()
        self.layers: dict[str, Counter[str]] = defaultdict(Counter)
        self.templates: Counter[str] = Counter()
        self.template_layers: dict[str, Counter[str]] = defaultdict(Counter)
        # Records whose extraction says it is uncertain (crawler/extract/confidence.py).
        self.uncertain = 0
        self.started = time.monotonic()
        self.started_at = dt.datetime.now(VN_TZ).replace(microsecond=0)
        self.progress: task.LoopingCall | None = None
        self.eta = progress.Eta()

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunReport:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_seen, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_seen, signal=signals.item_dropped)
        return ext

    def spider_opened(self, spider: Any) -> None:
        # The baseline of the coverage alarms, read while the disk is sound (the end of a run
        # may find it full).
        self.previous = self._previous_runs()
        self._reserve()
        if self.interval > 0:
            self.progress = task.LoopingCall(self.log_progress, spider)
            self.progress.start(self.interval, now=False)

    def item_seen(self, item: Any, **kwargs: Any) -> None:
        """Count an extracted article's fields (archived or unchanged alike)."""
        if isinstance(item, PageItem):  # a dropped page: what it was made into is its outcome
            item = item.outcome
        if not isinstance(item, ArticleItem):
            return
        self.records += 1
        for name in COVERAGE_FIELDS:
            if getattr(item, name):
                self.present[name] += 1
        for name in LAYER_FIELDS:
            layer = item.provenance.get(name)
            if layer:
                self.layers[name][layer] += 1
        if item.extraction and item.extraction.get("uncertain"):
            self.uncertain += 1
        template = item.site_template or NO_TEMPLATE
        self.templates[template] += 1
        for name in LAYER_FIELDS:
            if item.provenance.get(name) == "site":
                self.template_layers[template][name] += 1

    def coverage(self) -> dict[str, Any]:
        """Return per-field coverage and per-field layer counts of this run so far."""
        n = self.records
        return {
            "records": n,
            "fields": {name: round(self.present[name] / n, 4) if n else None
                       for name in COVERAGE_FIELDS},
            "site_layer": {name: round(self.layers[name]["site"] / n, 4) if n else None
                           for name in LAYER_FIELDS},
            "layers": {name: dict(self.layers[name]) for name in LAYER_FIELDS},
            # Records by the site template that applied (crawler/extract/profile.py), "none"
            # when none did: the eras of the site's markup a run met.
            "site_templates": dict(sorted(self.templates.items())),
            "templates_matched": round(1 - self.templates[NO_TEMPLATE] / n, 4) if n else None,
            # Records kept with an uncertain extraction, and their share: what the alarm
            # watches rise.
            "uncertain": self.uncertain,
            "uncertain_share": round(self.uncertain / n, 4) if n else None,
            # Per template, the share of each field its selectors gave: what the alarm compares.
            "by_template": {
                template: {"records": count, "site_layer": {
                    name: round(self.template_layers[template][name] / count, 4)
                    for name in LAYER_FIELDS}}
                for template, count in sorted(self.templates.items())},
        }

    def log_progress(self, spider: Any) -> None:
        """Log how far the run is ("N of M", crawler/run/progress.py), what it archived and
        rejected, the rate and a smoothed time left."""
        archived = self._get("archive/articles/new") + self._get("archive/articles/updated")
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = archived / elapsed * 60
        reached = self.stats.get_value("archive/progress/reached_date")
        current = progress.measure(self.stats, getattr(spider, "options", None))
        left = self.eta.update(elapsed, current)
        where = f"{current.text()}, " if current is not None else ""
        work_left = current is None or current.total is None or current.done < current.total
        logger.info("progress: %s%s archived, %s rejected, %s%.1f articles/min, time left %s",
                    where, archived, self._get("archive/rejected"),
                    f"reached {reached}, " if reached else "", rate,
                    progress.format_left(left, work_left))

    def _source_stats(self) -> dict[str, Any]:
        """Return what each source did (sitemaps, archives' index and captures), from stats."""
        out: dict[str, Any] = {}
        for key, value in self.stats.get_stats().items():
            for prefix, name in (("archive/sources/", None), ("archive/sitemaps/", "sitemaps")):
                if key.startswith(prefix):
                    rest = key.removeprefix(prefix)
                    source, _, what = rest.partition("/") if name is None else (name, "", rest)
                    out.setdefault(source, {})[what] = value
        return {source: dict(sorted(values.items())) for source, values in sorted(out.items())}

    def _get(self, key: str) -> int:
        return int(self.stats.get_value(key, 0))

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.progress and self.progress.running:
            self.progress.stop()
        # Read while the reserve still holds the disk space the report itself needs.
        by_month = self._by_month(spider)
        self._release_reserve()
        report = self.build(spider, reason)
        report["by_month"] = by_month
        report["alarms"] = coverage_alarms(report["coverage"], self.previous, drop=self.drop,
                                           min_records=self.min_records, kind=run_kind(report))
        if report["counts"]["failed"] + report["counts"]["rejected"] > 0 and \
                report["coverage"]["records"] == 0 and report["requests"]["articles"] > 0:
            report["alarms"].append("no article could be extracted: every article page "
                                    "was rejected")
        self._judge(report, reason)
        report["problems"] = problems_of(self.stats)
        signum = self.stats.get_value(SIGNAL_KEY)
        report["exit_code"] = exit_status(report["problems"], signum)
        report["exit_reason"] = next(
            (p["message"] for p in report["problems"] if p["status"] == report["exit_code"]
             or (p["status"] == ExitStatus.INTERRUPTED and report["exit_code"] > 128)), None)
        # The status first: whatever happens to the disk below, the exit status tells.
        self.stats.set_value("archive/run/exit_code", report["exit_code"])
        path = self._keep(report)
        for alarm in report["alarms"]:
            logger.error("COVERAGE ALARM: %s (the site's markup may have changed; see %s)",
                         alarm, path or "the log")
        self._log_holes(report)
        counts = report["counts"]
        logger.info("run report %s: %s new, %s updated, %s unchanged, %s failed, %s rejected, "
                    "%s requests, stop reason %s, exit status %s", path or "(not written)",
                    counts["new"], counts["updated"], counts["unchanged"], counts["failed"],
                    counts["rejected"], report["requests"]["total"], reason, report["exit_code"])
        if report["exit_code"]:
            logger.error("exit status %s: %s", report["exit_code"], report["exit_reason"])

    def _judge(self, report: dict[str, Any], reason: str) -> None:
        """Record this run's own problems: alarms, links dropped, interrupted, nothing fetched,
        work left for the next run."""
        for alarm in report["alarms"]:
            report_problem(self.stats, ExitStatus.COVERAGE_ALARM, f"coverage alarm: {alarm}")
        dropped = report["links_dropped"]
        if dropped["count"] > self.max_dropped:
            hosts = ", ".join(f"{host} ({n})" for host, n in dropped["by_host"].items())
            report_problem(self.stats, ExitStatus.LINKS_DROPPED,
                           f"{dropped['count']} article links on hosts that are not aliases of "
                           f"the site were not followed (more than REPORT_LINKS_DROPPED_MAX="
                           f"{self.max_dropped}): {hosts}; add the host to SITE_HOST_ALIASES "
                           "if it serves the site")
        if reason == SHUTDOWN_REASON:
            name = signal_name(self.stats.get_value(SIGNAL_KEY))
            report_problem(self.stats, ExitStatus.INTERRUPTED,
                           f"interrupted by {name}; run the same command again to resume")
        self._judge_reached(report, reason)
        limits = self.limits["backfill" if report.get("mode") == "backfill" else "nightly"]
        for message in undone_problems(report, limits, cap=self.retry_after_cap):
            report_problem(self.stats, ExitStatus.INCOMPLETE, message)

    def _judge_reached(self, report: dict[str, Any], reason: str) -> None:
        """Record a site (or web archive) from which nothing at all was fetched."""
        source = report.get("source") or "live"
        if source != "live":
            # A web archive's backfill fetches no home page: its index answering is the sign.
            asked = self._get(f"archive/sources/{source}/index_requests")
            failed = self._get(f"archive/sources/{source}/index_failed")
            if reason == "finished" and asked and failed >= asked:
                report_problem(self.stats, ExitStatus.SITE_UNREACHABLE,
                               f"nothing was fetched from {source}: every one of its {asked} "
                               "index queries failed")
            return
        fetched = self.stats.get_value("archive/site/home_fetched")
        if reason == "finished" and not fetched and not problems_of(self.stats):
            report_problem(self.stats, ExitStatus.SITE_UNREACHABLE,
                           f"nothing was fetched from {report['site_url']}: the home page never "
                           "answered")

    def _reserve(self) -> None:
        """Set disk space aside for the report (a run killed earlier may have left its own)."""
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            for old in self.runs_dir.glob(".reserve-*"):
                old.unlink(missing_ok=True)
            if self.reserve_bytes <= 0:
                return
            path = self.runs_dir / f".reserve-{os.getpid()}"
            with path.open("wb") as fh:
                os.posix_fallocate(fh.fileno(), 0, self.reserve_bytes)
            self.reserve = path
        except OSError as exc:
            logger.warning("no disk space could be set aside for the run report: %s", exc)

    def _release_reserve(self) -> None:
        if self.reserve is not None:
            self.reserve.unlink(missing_ok=True)
            self.reserve = None

    def _by_month(self, spider: Any) -> dict[str, Any] | None:
        """Per month, what each source found and what the archive now holds (None: unreadable).

        Read through the spider's own state connection while it is open (this handler runs
        before the spider closes it), so that no new connection writes anything at the end of
        a run that may have filled the disk."""
        options = getattr(spider, "options", None)
        try:
            state = getattr(spider, "state", None)
            try:
                archived = state.archived_by_month() if state is not None else None
            except sqlite3.ProgrammingError:  # already closed
                archived = None
            if archived is None:
                with self._history() as history:
                    archived = history.archived_by_month()
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            logger.error("run report: the state cannot be read (%s): no table by month", exc)
            return None
        return coverage_by_month(
            dict(getattr(spider, "found_by_month", {})), archived,
            since=options.since if options else None,
            until=options.until if options else None,
            backfill=bool(options and options.mode == "backfill"))

    def _history(self) -> CrawlState:
        """Open the archive's state for the run history only (no reconciling); close it after."""
        return CrawlState(self.crawler.settings.get("ARCHIVE_DIR"), timeout=self.db_timeout,
                          reconcile=False)

    def _previous_runs(self) -> list[dict[str, Any]]:
        try:
            history = self._history()
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            logger.error("run report: the state cannot be read (%s): no coverage comparison", exc)
            return []
        with history:
            # Enough history that each kind of run (crawler/run/alarms.py run_kind) finds its own.
            return history.previous_runs(limit=PREVIOUS_RUNS_READ)

    def _keep(self, report: dict[str, Any]) -> Path | None:
        """Write the report to runs/ (a new file, never over another) and into the run history;
        return its path, or None when the disk would not take it."""
        path = None
        try:
            path = write_report(self.runs_dir, self.started_at, report["spider"], report)
            self.stats.set_value("archive/run/report", str(path))
        except OSError as exc:
            logger.error("the run report could not be written to %s: %s", self.runs_dir, exc)
        try:
            with self._history() as history:
                history.add_run(report["started_at"], report["mode"], report)
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            logger.error("the run report could not be added to the run history: %s", exc)
        return path

    @staticmethod
    def _log_holes(report: dict[str, Any]) -> None:
        """Say which months of a backfill's range the archive holds nothing for."""
        if report.get("mode") != "backfill" or not report.get("by_month"):
            return
        holes = [month for month, row in report["by_month"].items() if not row["archived"]]
        if holes:
            shown = ", ".join(holes[:MAX_MONTHS_LOGGED])
            more = f" and {len(holes) - MAX_MONTHS_LOGGED} more" if \
                len(holes) > MAX_MONTHS_LOGGED else ""
            logger.info("no article archived for %s month(s) of the range: %s%s (report: "
                        "by_month)", len(holes), shown, more)

    def build(self, spider: Any, reason: str) -> dict[str, Any]:
        """Return the run report as a JSON-ready dict (alarms are added by the caller)."""
        options = getattr(spider, "options", None)
        rejected_fetch = self._get("archive/rejected/fetch")
        counts = {
            "new": self._get("archive/articles/new"),
            "updated": self._get("archive/articles/updated"),
            "unchanged": self._get("archive/articles/unchanged"),
            "failed": rejected_fetch,
            "rejected": self._get("archive/rejected") - rejected_fetch,
        }
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": dt.datetime.now(VN_TZ).replace(microsecond=0).isoformat(),
            "spider": spider.name,
            "mode": options.mode if options else None,
            "source": getattr(options, "source", None),
            "since": options.since.isoformat() if options and options.since else None,
            "until": options.until.isoformat() if options and options.until else None,
            "site_url": self.crawler.settings.get("SITE_URL"),
            "stop_reason": reason,
            "counts": counts,
            # What is left for the next run (crawler/run/undone.py).
            "undone": undone(self.stats, counts),
            "requests": {
                "total": self._get("downloader/request_count"),
                "articles": self._get("archive/requests/articles"),
                "listing_pages": self._get("archive/requests/listing_pages"),
                "retries": self._get("retry/count"),
                "by_status": {k.rsplit("/", 1)[-1]: v for k, v in self.stats.get_stats().items()
                              if k.startswith("downloader/response_status_count/")},
            },
            "coverage": self.coverage(),
            "sources": self._source_stats(),
            "dates": {k.removeprefix("archive/dates/"): v for k, v in
                      self.stats.get_stats().items() if k.startswith("archive/dates/")},
            "links_dropped": {
                "count": self._get("archive/links/dropped"),
                "by_host": {k.rsplit("/", 1)[-1]: v for k, v in self.stats.get_stats().items()
                            if k.startswith("archive/links/dropped_host/")},
                "examples": list(self.stats.get_value("archive/links/dropped_examples") or []),
            },
            "listings": {name: self._get(f"archive/listings/{name}") for name in
                         ("walked_to_end", "stopped_early", "ended_repeating", "failed",
                          "forbidden", "complete", "open", "reopened")},
            "reconciled": {k.removeprefix("archive/reconcile/"): v for k, v in
                           self.stats.get_stats().items() if k.startswith("archive/reconcile/")},
            "storage": {k.removeprefix("archive/storage/"): v for k, v in
                        self.stats.get_stats().items() if k.startswith("archive/storage/")},
            "elapsed_seconds": round(time.monotonic() - self.started, 1),
        }


def write_report(runs_dir: Path, started_at: dt.datetime, spider: str, report: dict[str, Any]
                 ) -> Path:
    """Write a report as a new file ``<start>-<spider>.json`` (``<start>_N-...`` when taken).

    Written whole to a temporary file first, then linked under its name: a reader never sees a
    half report, and a name already taken is never overwritten."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    stamp = started_at.strftime("%Y%m%dT%H%M%S")
    tmp = runs_dir / f".{stamp}-{spider}.{os.getpid()}.tmp"
    data = (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        n = 1
        while True:
            path = runs_dir / (f"{stamp}-{spider}.json" if n == 1 else f"{stamp}_{n}-{spider}.json")
            try:
                os.link(tmp, path)
                return path
            except FileExistsError:
                n += 1
    finally:
        tmp.unlink(missing_ok=True)
