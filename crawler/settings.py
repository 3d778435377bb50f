"""Scrapy settings of the archiver: the one place defaults live (then -s KEY=VAL, then -a args)."""

from __future__ import annotations

BOT_NAME = "baonamdinh"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# --- The site -------------------------------------------------------------------------------
# Base URL of the site to crawl; the replica's is http://127.0.0.1:PORT.
SITE_URL = "https://baonamdinh.vn"
# Hosts that serve the same site; the host of SITE_URL is always added.
SITE_HOST_ALIASES = ["baonamdinh.vn", "baonamdinh.com.vn"]

# --- The archive ----------------------------------------------------------------------------
ARCHIVE_DIR = "archive"
# False runs every pipeline but writes nothing (used by `python -m crawler extract`).
ARCHIVE_ENABLED = True
# fsync each record before it counts as archived; off only for benchmarks of the engine.
ARCHIVE_FSYNC = True
# One run writes an archive at a time (crawler/store/lock.py): a second one refuses at once
# (exit 8), or waits up to this many seconds for the first to end.
ARCHIVE_LOCK_WAIT = 0.0
# Seconds a write waits for state.sqlite3 locked by another process before the run stops with
# a storage failure (exit 6).
ARCHIVE_DB_TIMEOUT = 60.0

# --- Raw captures (crawler/store/warc.py) ------------------------------------------------
# Every response from the site, with its request, into ARCHIVE_DIR/raw/*.warc.gz + index.cdxj.
WARC_ENABLED = True
# Start a new WARC file once the current one reaches this many bytes.
WARC_MAX_SIZE = 1024 * 1024 * 1024
# Images are skipped unless this is on (pages, listings and robots.txt are always captured).
WARC_CAPTURE_IMAGES = False

# Order matters: text is cleaned before boilerplate is matched, captions and bylines are taken
# out before dates and validation, and only a valid record reaches the archive.
ITEM_PIPELINES = {
    "pipelines.text.TextCleanupPipeline": 100,
    "pipelines.boilerplate.BoilerplatePipeline": 200,
    "pipelines.captions.CaptionPipeline": 300,
    "pipelines.bylines.BylinePipeline": 400,
    "pipelines.dates.DateNormalisationPipeline": 500,
    "pipelines.validation.ValidationPipeline": 600,
    "pipelines.archive.ArchivePipeline": 700,
}

# An exception in a pipeline becomes a reject naming the stage, never a lost item
# (crawler/run/guard.py); the same pipelines, in the same order.
ITEM_PROCESSOR = "crawler.run.guard.GuardedPipelineManager"

# --- Crawl modes (spiders/baonamdinh.py) ---------------------------------------------------
# Nightly: stop paging a listing walked before once a page holds this many archived articles.
NIGHTLY_STOP_AFTER_KNOWN = 3
# Nightly: re-fetch, once, archived articles published within this many days of the newest one
# (edits made in the first day or so are caught; later ones are not).
NIGHTLY_RECHECK_DAYS = 2

# --- Dates (crawler/normalise/dates.py) -------------------------------------------------------
# Seconds a printed date may lie ahead of the fetch time and still be taken as printed (the
# site's clock runs ahead of ours); later ones are a retryable "future date" reject.
DATES_CLOCK_SKEW = 3600

# --- Run report (crawler/run/report.py) ---------------------------------------------------------
REPORT_PROGRESS_INTERVAL = 60.0
# Alarm (exit 3) when a coverage share falls this much below its median over earlier runs.
REPORT_COVERAGE_DROP = 0.3
# Runs with fewer extracted articles than this are not compared (too few to judge).
REPORT_MIN_RECORDS = 10
# Exit 7 when a run meets more article links than this on hosts that are not SITE_HOST_ALIASES
# (an alias the settings do not know: its articles would be lost).
REPORT_LINKS_DROPPED_MAX = 10
# Disk space set aside at the start of a run and freed for its report, so that a run stopped by
# a full disk can still write it.
REPORT_RESERVE_BYTES = 1024 * 1024
# The manifest (crawler/analysis/manifest.py) is written once the engine has stopped, after the
# run report and the WARC index: it describes the archive as the run left it.
EXTENSIONS = {"crawler.run.report.RunReport": 500,
              "crawler.analysis.manifest.ManifestWriter": 900}
COMMANDS_MODULE = "crawler.commands"

# --- Politeness -----------------------------------------------------------------------------
ARCHIVE_CONTACT = "archive-operator@example.invalid"
USER_AGENT = f"baonamdinh-archiver/0.1 (+mailto:{ARCHIVE_CONTACT})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 5
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = 30
# robots.txt has its own budget, so one that hangs costs seconds, not RETRY_TIMES x
# DOWNLOAD_TIMEOUT; one that cannot be read forbids the crawl (RFC 9309, exit 5).
ROBOTSTXT_TIMEOUT = 10.0
ROBOTSTXT_RETRY_TIMES = 1
# robots.txt by RFC 9309 in place of Scrapy's own middleware, one download slot for all host
# aliases (so the per-domain limit is per site), and robots.txt's Crawl-delay, which Scrapy does
# not honour by itself (capped).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.run.politeness.RobotsPolicyMiddleware": 100,
    "crawler.run.politeness.SiteSlotMiddleware": 140,
    "crawler.run.politeness.CrawlDelayMiddleware": 150,
    # Above 590/600/550: sees each raw response before decompression, redirects and retries.
    "crawler.store.warc.WarcCaptureMiddleware": 950,
}
CRAWL_DELAY_MAX = 30.0
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

# The archive's record serialisation as a feed format:
#   scrapy crawl baonamdinh -O out.jsonl:archive
FEED_EXPORTERS = {"archive": "crawler.store.exporter.ArchiveItemExporter"}

# --- Plumbing -------------------------------------------------------------------------------
FEED_EXPORT_ENCODING = "utf-8"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
