"""RunReport extension: progress while crawling, and a report per run that alarms on coverage drops.

The report says what the run did (new, updated, unchanged, failed, rejected articles; requests;
why it stopped) and how well extraction worked (share of records with each field, which layer
gave it, and which of the site's templates applied). When a field's coverage, or the share of
fields the site profile gave, falls sharply against the previous runs (as after a site
redesign), the run says so at ERROR level and the
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

from crawler.items import ArticleItem, PageItem
from crawler.normalise.dates import VN_TZ
from crawler.store.state import CrawlState

logger = logging.getLogger(__name__)

COVERAGE_FIELDS = ("title", "lead", "body", "published_date", "published_month", "published_at",
                   "authors", "images")
LAYER_FIELDS = ("title", "published_raw", "lead", "body")
EXIT_COVERAGE_ALARM = 3
NO_TEMPLATE = "none"


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
        self.templates: Counter[str] = Counter()
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
        self.templates[item.site_template or NO_TEMPLATE] += 1

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

    def _get(self, key: str) -> int:
        return int(self.stats.get_value(key, 0))

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.progress and self.progress.running:
            self.progress.stop()
        report = self.build(spider, reason)
        state = CrawlState(self.crawler.settings.get("ARCHIVE_DIR"))
        try:
            previous = state.previous_runs()
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
        counts = report["counts"]
        logger.info("run report %s: %s new, %s updated, %s unchanged, %s failed, %s rejected, "
                    "%s requests, stop reason %s", path, counts["new"], counts["updated"],
                    counts["unchanged"], counts["failed"], counts["rejected"],
                    report["requests"]["total"], reason)

    def build(self, spider: Any, reason: str) -> dict[str, Any]:
        """Return the run report as a JSON-ready dict (alarms are added by the caller)."""
        options = getattr(spider, "options", None)
        rejected_fetch = self._get("archive/rejected/fetch")
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": dt.datetime.now(VN_TZ).replace(microsecond=0).isoformat(),
            "spider": spider.name,
            "mode": options.mode if options else None,
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
            "dates": {k.removeprefix("archive/dates/"): v for k, v in
                      self.stats.get_stats().items() if k.startswith("archive/dates/")},
            "elapsed_seconds": round(time.monotonic() - self.started, 1),
        }
