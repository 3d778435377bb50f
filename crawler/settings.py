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
# (crawler/run/guard.py); the same pipelines, in the same order. Pages are extracted, and the
# pipelines up to validation run, in PROCESSING_WORKERS worker processes; the archive runs in
# the crawl's own process, in arrival order (crawler/run/workers.py).
ITEM_PROCESSOR = "crawler.run.workers.ParallelPipelineManager"
# Worker processes for extraction and pipelines 100-600: None is one per core; 0 or 1 runs
# everything in the crawl's process (for tests and debugging).
PROCESSING_WORKERS = None
# A response gives one item at most (an article page) or requests: Scrapy's default of 100
# starts 100 tasks per response to take them, which cost the engine a quarter of its time.
CONCURRENT_ITEMS = 1
# Scrapy's check that a generator callback returns no value reads the callback's source with
# ast on every response (its cache is keyed by the bound method, new each time).
WARN_ON_GENERATOR_RETURN_VALUE = False

# --- Crawl modes (spiders/baonamdinh.py) ---------------------------------------------------
# Nightly: stop paging a listing walked before once a page holds this many archived articles.
NIGHTLY_STOP_AFTER_KNOWN = 3
# Nightly: re-fetch, once, archived articles published within this many days of the newest one
# (edits made in the first day or so are caught; later ones are not).
NIGHTLY_RECHECK_DAYS = 2

# --- Run report (crawler/run/report.py) ---------------------------------------------------------
REPORT_PROGRESS_INTERVAL = 60.0
# Alarm (exit 3) when a coverage share falls this much below its median over earlier runs.
REPORT_COVERAGE_DROP = 0.3
# Runs with fewer extracted articles than this are not compared (too few to judge).
REPORT_MIN_RECORDS = 10
EXTENSIONS = {"crawler.run.report.RunReport": 500}
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
# One download slot for all host aliases (so the per-domain limit is per site), and
# robots.txt's Crawl-delay, which Scrapy does not honour by itself (capped).
DOWNLOADER_MIDDLEWARES = {
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
