"""Scrapy settings of the archiver: the one place defaults live (then -s KEY=VAL, then -a args)."""

from __future__ import annotations

BOT_NAME = "baonamdinh"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# --- The site -------------------------------------------------------------------------------
# Base URL of the site to crawl; the replica's is http://127.0.0.1:PORT.
SITE_URL = "https://baonamdinh.vn"
# Hosts that serve the same site; the host of SITE_URL is always added. A leading "www." is the
# same host to the crawler (and to web archives' indexes); beta. showed new-CMS listings.
SITE_HOST_ALIASES = ["baonamdinh.vn", "www.baonamdinh.vn", "baonamdinh.com.vn",
                     "www.baonamdinh.com.vn", "beta.baonamdinh.vn"]
# Where the site's images are still served now that its host is gone: path prefix on the site ->
# prefix elsewhere (crawler/normalise/images.py); each image keeps its url and gains mirror_url.
IMAGE_MIRRORS = {"/file/": "https://img.baoninhbinh.org.vn/namdinh/file/"}

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
# `python -m crawler export`'s memory budget, MB, whatever the archive's size: DuckDB's
# memory_limit is half of it, a batch of rows a sixteenth as text (crawler/analysis/export.py).
EXPORT_MEMORY_MB = 256

# --- Raw captures (crawler/run/capture.py, crawler/store/warc.py) ----------------------------
# Every response from the site, with its request, into ARCHIVE_DIR/raw/*.warc.gz + index.cdxj.
WARC_ENABLED = True
# Start a new WARC file once the current one reaches this many bytes.
WARC_MAX_SIZE = 1024 * 1024 * 1024
# Images are skipped unless this is on (pages, listings and robots.txt are always captured).
WARC_CAPTURE_IMAGES = False
# Records are built and written in one helper process beside the engine: None is on where the
# crawl has more than one core; False captures in the crawl's own process.
WARC_CAPTURE_PROCESS = None

# Order matters: text is cleaned before boilerplate is matched, captions and bylines are taken
# out before dates and validation, and only a valid record reaches the archive. Sections (650)
# read the archive's state, so they run in the crawl's own process with the archive.
ITEM_PIPELINES = {
    "pipelines.text.TextCleanupPipeline": 100,
    "pipelines.boilerplate.BoilerplatePipeline": 200,
    "pipelines.captions.CaptionPipeline": 300,
    "pipelines.images.ImageMirrorPipeline": 350,
    "pipelines.bylines.BylinePipeline": 400,
    "pipelines.dates.DateNormalisationPipeline": 500,
    "pipelines.validation.ValidationPipeline": 600,
    "pipelines.sections.SectionPipeline": 650,
    "pipelines.archive.ArchivePipeline": 700,
}

# An exception in a pipeline becomes a reject naming the stage, never a lost item
# (crawler/process/guard.py); the same pipelines, in the same order. Pages are extracted, and the
# pipelines up to validation run, in PROCESSING_WORKERS worker processes; sections and the
# archive run in the crawl's own process, in arrival order (crawler/process/workers.py).
ITEM_PROCESSOR = "crawler.process.workers.ParallelPipelineManager"
# Scrapy's stats collector without its per-access deprecation hook (crawler/run/stats.py).
STATS_CLASS = "crawler.run.stats.CrawlStats"
# Worker processes for extraction and pipelines 100-600: None is one per core but the one the
# engine keeps busy (reextract: one per core), none on one core; 0 runs everything in the
# crawl's process (for tests and debugging). Before 2026-11-26, 1 also meant in-process.
PROCESSING_WORKERS = None
# Seconds a page's extraction and pipelines up to validation may take (wall clock) before the page
# becomes the reject "timeout in STAGE" (and its worker process is replaced): the slowest of the
# 181 real pages of bench/realpages takes well under a second here. 0: no budget.
PROCESSING_TIMEOUT = 30
# A response gives one item at most (an article page) or requests: Scrapy's default of 100
# starts 100 tasks per response to take them, which cost the engine a quarter of its time.
CONCURRENT_ITEMS = 1
# Scrapy's check that a generator callback returns no value reads the callback's source with
# ast on every response (its cache is keyed by the bound method, new each time).
WARN_ON_GENERATOR_RETURN_VALUE = False
# Response bytes the engine lets wait for the spider and the item processor before it fetches
# more (Scrapy's default: 5 MB). When the fetching outruns the worker processes, every page
# between holds its text here: with one worker, 600-650 replica pages waited at once and a
# 5,000-article backfill peaked at 141-149 MB instead of 108. A 20,000-article backfill's crawl
# process peaked at 115-116 MB with 1 MB, 108-110 MB with 250 or 500 KB, at the same speed.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 500_000

# --- Crawl modes (spiders/baonamdinh.py) ---------------------------------------------------
# Nightly: stop paging a listing walked before once a page holds this many archived articles.
NIGHTLY_STOP_AFTER_KNOWN = 3
# Nightly: re-fetch, once, archived articles published within this many days of the newest one
# (edits made in the first day or so are caught; later ones are not).
NIGHTLY_RECHECK_DAYS = 2
# Every walk ends: a listing stops at a page that shows no article its walk has not met, and
# after this many pages in one run (a cut walk: logged, left for the next run, exit 9). Sized so
# that a backfill of the deepest channel is never cut (docs/site-notes.md): the site's own
# articles came at 15-19 a day (ids, 2017-2022); at 19 a day from 2010-01 to 2025-06 (5,660
# days) that is 107,600 articles, so even one channel holding all of them, at 5 articles a page
# (the replica shows 20, the vendor's sister papers 10-20), is 21,520 pages.
LISTING_MAX_PAGES = 25_000

# --- Dates (crawler/normalise/dates.py) -------------------------------------------------------
# Seconds a printed date may lie ahead of the fetch time and still be taken as printed (the
# site's clock runs ahead of ours); later ones are a retryable "future date" reject.
DATES_CLOCK_SKEW = 3600

# --- Where articles are found besides the listings (crawler/sources/) ---------------------
# The live crawl also reads robots.txt's Sitemap: lines and these locations (sitemaps and feeds).
SITEMAP_ENABLED = True
SITEMAP_LOCATIONS = ["/sitemap.xml", "/sitemap_index.xml", "/rss", "/feed"]
# Every walk of sitemaps ends (a cut is logged, left for the next run, exit 9). The protocol's
# index lists sitemaps, not indexes: one index below another is tolerated, not deeper (the
# sitemaps robots.txt and SITEMAP_LOCATIONS name are at depth 0). Files and bytes per run: one
# sitemap a month of the site's life (about 190) or one per section and month of the new CMS
# (about 600) fits in the files; its 107,600 articles at about 300 bytes an entry (32 MB) six
# times over in the bytes, as received (a gzipped sitemap counts compressed).
SITEMAP_MAX_DEPTH = 2
SITEMAP_MAX_FILES = 2_000
SITEMAP_MAX_BYTES = 200_000_000
# -a source=wayback: the Internet Archive (CDX API at /cdx/search/cdx, raw captures at
# /web/{timestamp}id_/{url}).
WAYBACK_URL = "https://web.archive.org"
# Requests per second to the Wayback Machine (one at a time).
WAYBACK_RATE = 0.5
# CDX rows per page (the server's resumption key fetches the next page).
WAYBACK_PAGE_SIZE = 5000
# "digest": one row per distinct content of a URL; "urlkey": one row (the oldest) per URL.
WAYBACK_COLLAPSE = "digest"
# -a source=commoncrawl: collinfo.json and each crawl's pywb CDX index; WARC records by range.
COMMONCRAWL_INDEX_URL = "https://index.commoncrawl.org"
COMMONCRAWL_DATA_URL = "https://data.commoncrawl.org"
# Requests per second to Common Crawl's index and data hosts together (one at a time).
COMMONCRAWL_RATE = 0.5
# Crawl ids to query (e.g. CC-MAIN-2024-10); empty: every crawl that ended on or after since.
COMMONCRAWL_CRAWLS: list[str] = []
# Which capture of an article to archive when an archive holds several: newest or oldest. The
# next ones (up to SOURCES_CAPTURE_TRIES in all) are tried when one is not the article.
SOURCES_CAPTURE_PICK = "newest"
SOURCES_CAPTURE_TRIES = 3
# Only captures made up to this day (YYYY-MM-DD; the index queries' "to"), e.g. 2025-06-30 to
# leave out whatever the paper's hosts served after its end; empty: no limit. (Not -a until:
# an article is often captured long after it was published.)
SOURCES_CAPTURED_UNTIL = ""
# After a 429 or 5xx from an archive, its slot waits Retry-After (as asked), else
# BASE * 2^retries seconds (at most MAX), until an answer comes back well.
SOURCES_BACKOFF_BASE = 5.0
SOURCES_BACKOFF_MAX = 300.0
# The archives' query APIs are meant for programs; their robots.txt speaks to search crawlers.
SOURCES_OBEY_ROBOTSTXT = False

# --- Run report (crawler/run/report.py) ---------------------------------------------------------
REPORT_PROGRESS_INTERVAL = 60.0
# Alarm (exit 3) when a coverage share falls this much below its median over earlier runs.
REPORT_COVERAGE_DROP = 0.3
# Runs with fewer extracted articles than this are not compared (too few to judge).
REPORT_MIN_RECORDS = 10
# Exit 7 when a run meets more article links than this on hosts that are not SITE_HOST_ALIASES
# (an alias the settings do not know: its articles would be lost).
REPORT_LINKS_DROPPED_MAX = 10
# Exit 9 when a run leaves more than this share of its work for the next run
# (crawler/run/undone.py): listing pages that failed after every retry, article pages left for
# the next run (retryable rejects), article pages rejected for good. One share for both modes,
# or one per mode: a nightly's failures are taken up by the next night (a 50-article night may
# lose a few pages to a bad minute); a backfill is run to be complete, and one failed listing
# page cuts off every older article of its listing.
REPORT_LISTINGS_FAILED_MAX = {"nightly": 0.1, "backfill": 0.0}
REPORT_ARTICLES_LEFT_MAX = {"nightly": 0.1, "backfill": 0.01}
REPORT_ARTICLES_REJECTED_MAX = {"nightly": 0.5, "backfill": 0.5}
# Disk space set aside at the start of a run and freed for its report, so that a run stopped by
# a full disk can still write it.
REPORT_RESERVE_BYTES = 1024 * 1024
# The manifest (crawler/analysis/manifest.py) is written once the engine has stopped, after the
# run report and the WARC index: it describes the archive as the run left it.
EXTENSIONS = {"crawler.run.report.RunReport": 500,
              "crawler.analysis.manifest.ManifestWriter": 900}
COMMANDS_MODULE = "crawler.commands"

# --- Politeness -----------------------------------------------------------------------------
# Named in the User-Agent of every request (crawler/run/contact.py): -s ARCHIVE_CONTACT=, else the
# ARCHIVE_CONTACT environment variable, else this placeholder, with which a crawl of a host that is
# not on loopback refuses to start (exit 2). USER_AGENT is rebuilt from the contact in force
# unless given with -s itself.
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
# A 429 or 503 with Retry-After slows the site's whole slot as asked, up to this many seconds; a
# page the site asks us to leave for longer is a retryable reject for the next run (exit 9).
SITE_RETRY_AFTER_MAX = 300.0
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
    # Before RobotsPolicyMiddleware (100): it decides whether an archive's robots.txt applies.
    "crawler.run.politeness.ArchiveSlotMiddleware": 90,
    # Scrapy's redirect middlewares, at their own places, refusing a redirect off the site's
    # origins (scheme, host and port: crawler/run/redirects.py).
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.run.redirects.SiteRedirectMiddleware": 600,
    "crawler.run.redirects.SiteMetaRefreshMiddleware": 580,
    "crawler.run.politeness.RobotsPolicyMiddleware": 100,
    "crawler.run.politeness.SiteSlotMiddleware": 140,
    "crawler.run.politeness.CrawlDelayMiddleware": 150,
    # Above RetryMiddleware (550): sees an archive's 429/5xx, and the site's Retry-After, before
    # it is retried.
    "crawler.run.politeness.ArchiveBackoffMiddleware": 560,
    # Above 590/600/550: sees each raw response before decompression, redirects and retries.
    "crawler.run.capture.WarcCaptureMiddleware": 950,
}
CRAWL_DELAY_MAX = 30.0
# One download slot per web archive, paced by WAYBACK_RATE / COMMONCRAWL_RATE (DOWNLOAD_SLOTS).
ADDONS = {"crawler.run.politeness.ArchiveSlots": 0, "crawler.run.contact.Contact": 0}
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
# Scrapy 2.19's remote control: an HTTP server in every crawl that runs the Python code sent to
# it, announced by a job file with its token in the user's state folder, which a killed crawl
# leaves behind (415 had gathered here by 2026-11-26). A crawl from cron needs neither, and its
# worker processes would inherit the server's socket; off, the crawl also skips importing aiohttp.
REMOTE_CONTROL_ENABLED = False
