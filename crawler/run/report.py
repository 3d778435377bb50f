"""RunReport extension: progress while crawling, and a report per run that alarms on coverage drops.

The report says what the run did (new, updated, unchanged, failed, rejected articles; requests;
why it stopped) and how well extraction worked (share of records with each field, and which layer
gave it). When a field's coverage, or the share of fields the site profile gave, falls sharply
against the previous runs (as after a site redesign), the run says so at ERROR level and the
``crawl`` command exits non-zero (crawler/commands/crawl.py reads ``archive/run/exit_code``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from scrapy import signals
from twisted.internet import task

from crawler.items import ArticleItem
from crawler.normalise.dates import VN_TZ
from crawler.store.state import CrawlState

logger = logging.getLogger(__name__)

# Months listed in a coverage table before it is cut (a backfill of 15 years has 180).
MAX_MONTHS_LOGGED = 24
COVERAGE_FIELDS = ("title", "lead", "body", "published_date", "published_at", "authors",
                   "images")
LAYER_FIELDS = ("title", "published_raw", "lead", "body")
EXIT_COVERAGE_ALARM = 3


def coverage_alarms(current: dict[str, Any], previous: list[dict[str, Any]], *,
                    drop: float, min_records: int) -> list[str]:
    """Return an alarm for each coverage figure far below its median over earlier runs."""
    if current["records"] < min_records:
        return []
    earlier = [run["coverage"] for run in previous if run["coverage"]["records"] >= min_records]
    if not earlier:
        return []
    alarms = []
    figures = [("field", name) for name in COVERAGE_FIELDS] + [("site", n) for n in LAYER_FIELDS]
    for kind, name in figures:
        table = "fields" if kind == "field" else "site_layer"
        values = [run.get(table, {}).get(name) for run in earlier]
        values = [v for v in values if v is not None]
        now = current[table].get(name)
        if not values or now is None:
            continue
        baseline = statistics.median(values)
        if baseline - now >= drop:
            what = f"coverage of {name}" if kind == "field" else f"site-profile share of {name}"
            alarms.append(f"{what} fell from {baseline:.0%} (median of {len(values)} earlier "
                          f"runs) to {now:.0%}")
    return alarms


def _months_between(first: str, last: str) -> list[str]:
    """Return every YYYY-MM from ``first`` to ``last``, both included."""
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


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
            months = _months_between(first, max(first, last))
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
        self.records = 0
        self.present: Counter[str] = Counter()
        self.layers: dict[str, Counter[str]] = defaultdict(Counter)
        self.started = time.monotonic()
        self.started_at = dt.datetime.now(VN_TZ).replace(microsecond=0)
        self.progress: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunReport:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_seen, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_seen, signal=signals.item_dropped)
        return ext

    def spider_opened(self, spider: Any) -> None:
        if self.interval > 0:
            self.progress = task.LoopingCall(self.log_progress, spider)
            self.progress.start(self.interval, now=False)

    def item_seen(self, item: Any, **kwargs: Any) -> None:
        """Count an extracted article's fields (archived or unchanged alike)."""
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
        }

    def log_progress(self, spider: Any) -> None:
        """Log archived articles, the date reached, the rate and the time left."""
        archived = self._get("archive/articles/new") + self._get("archive/articles/updated")
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = archived / elapsed * 60
        reached = self.stats.get_value("archive/progress/reached_date")
        eta = self._eta(spider, reached, elapsed)
        logger.info("progress: %s archived, %s rejected, reached %s, %.1f articles/min, "
                    "time left %s", archived, self._get("archive/rejected"), reached or "-",
                    rate, eta)

    def _eta(self, spider: Any, reached: str | None, elapsed: float) -> str:
        options = getattr(spider, "options", None)
        newest = self.stats.get_value("archive/progress/newest_date")
        if not (options and options.since and reached and newest):
            return "unknown"
        top = min(dt.date.fromisoformat(newest), options.until or dt.date.max)
        total = (top - options.since).days
        done = (top - dt.date.fromisoformat(reached)).days
        if total <= 0 or done <= 0:
            return "unknown"
        left = elapsed * max(total - done, 0) / done
        return str(dt.timedelta(seconds=int(left)))

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
        report = self.build(spider, reason)
        state = CrawlState(self.crawler.settings.get("ARCHIVE_DIR"))
        try:
            options = getattr(spider, "options", None)
            report["by_month"] = coverage_by_month(
                dict(getattr(spider, "found_by_month", {})), state.archived_by_month(),
                since=options.since if options else None,
                until=options.until if options else None,
                backfill=bool(options and options.mode == "backfill"))
            # Pages from a web archive (old templates, no listing times) are judged against
            # earlier runs from the same source only; a report without a source was live.
            source = report.get("source") or "live"
            previous = [run for run in state.previous_runs(limit=50)
                        if (run.get("source") or "live") == source][:5]
            report["alarms"] = coverage_alarms(report["coverage"], previous, drop=self.drop,
                                               min_records=self.min_records)
            if report["counts"]["failed"] + report["counts"]["rejected"] > 0 and \
                    report["coverage"]["records"] == 0 and report["requests"]["articles"] > 0:
                report["alarms"].append("no article could be extracted: every article page "
                                        "was rejected")
            report["exit_code"] = EXIT_COVERAGE_ALARM if report["alarms"] else 0
            state.add_run(report["started_at"], report["mode"], report)
        finally:
            state.close()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        path = self.runs_dir / f"{self.started_at.strftime('%Y%m%dT%H%M%S')}-{spider.name}.json"
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
        self.stats.set_value("archive/run/report", str(path))
        self.stats.set_value("archive/run/exit_code", report["exit_code"])
        for alarm in report["alarms"]:
            logger.error("COVERAGE ALARM: %s (the site's markup may have changed; see %s)",
                         alarm, path)
        self._log_holes(report)
        counts = report["counts"]
        logger.info("run report %s: %s new, %s updated, %s unchanged, %s failed, %s rejected, "
                    "%s requests, stop reason %s", path, counts["new"], counts["updated"],
                    counts["unchanged"], counts["failed"], counts["rejected"],
                    report["requests"]["total"], reason)

    @staticmethod
    def _log_holes(report: dict[str, Any]) -> None:
        """Say which months of a backfill's range the archive holds nothing for."""
        if report.get("mode") != "backfill":
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
            "counts": {
                "new": self._get("archive/articles/new"),
                "updated": self._get("archive/articles/updated"),
                "unchanged": self._get("archive/articles/unchanged"),
                "failed": rejected_fetch,
                "rejected": self._get("archive/rejected") - rejected_fetch,
            },
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
            "elapsed_seconds": round(time.monotonic() - self.started, 1),
        }
