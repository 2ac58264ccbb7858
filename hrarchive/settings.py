"""Scrapy settings for hrarchive: polite defaults and the HRARCHIVE_* settings.

Every custom setting is prefixed ``HRARCHIVE_`` and documented in the README
("Settings"); a test checks that each one appears there.
"""

from __future__ import annotations

BOT_NAME = "hrarchive"
SPIDER_MODULES = ["hrarchive.spiders"]
NEWSPIDER_MODULE = "hrarchive.spiders"
# Built-in and user site profiles become spiders, so `scrapy list` shows every site.
SPIDER_LOADER_CLASS = "hrarchive.spiderloader.SiteSpiderLoader"

# --- hrarchive's own settings -------------------------------------------------------------
# Where the archive is written (SQLite file; created on first use).
HRARCHIVE_DB = "archive.db"
# Extra folder(s) of user site profiles (*.toml), besides the built-in hrarchive/sites/.
HRARCHIVE_SITES: list[str] = []
# Contact URL named in the User-Agent, so site operators can reach whoever runs the crawl.
HRARCHIVE_CONTACT = "https://github.com/hrarchive/hrarchive"
# Commit the archive's open transaction after this many items or seconds, whichever first.
HRARCHIVE_BATCH_SIZE = 200
HRARCHIVE_COMMIT_SECONDS = 2.0
# Writes (and WARC records) waiting for the archive's writer thread; when this many wait,
# the crawl waits too (back-pressure).
HRARCHIVE_QUEUE_SIZE = 1000
# `hrarchive search` ranks (bm25) at most this many matches, the newest; it says when.
HRARCHIVE_SEARCH_RANK_LIMIT = 10_000

# --- raw capture (hrarchive.capture) -------------------------------------------------------
# Keep every response with its request as WARC records (on by default).
HRARCHIVE_CAPTURE = True
# Capture folder; empty: captures/ beside the archive.  Files: SITE/YYYY/*.warc.gz
HRARCHIVE_CAPTURE_DIR = ""
# Start a new WARC file once the current one reaches this size.
HRARCHIVE_WARC_MAX_BYTES = 1_000_000_000
# Fetch the documents (PDF, DOC, ...) that stories link to on their own site, once each.
HRARCHIVE_ATTACHMENTS = True
# Where attachment files are kept by SHA-256; empty: attachments/ beside the archive.
HRARCHIVE_ATTACHMENTS_DIR = ""

# --- many workers, one writer (hrarchive/cluster/) -----------------------------------------
# Redis URL (redis://HOST:6379/0) shared by the workers and the writer; empty: one process.
HRARCHIVE_REDIS = ""
# Every Redis key starts with this, so runs of several archives can share one Redis.
HRARCHIVE_REDIS_PREFIX = "hrarchive"
# The run the workers take part in (--run); empty: the UTC date and hour a worker started.
HRARCHIVE_RUN = ""

# --- politeness (hrarchive/middlewares/) ---------------------------------------------------
# USER_AGENT is made from HRARCHIVE_CONTACT when a crawl starts (set USER_AGENT to override).
ADDONS = {"hrarchive.middlewares.useragent.ContactUserAgent": 0,
          # With HRARCHIVE_REDIS set, politeness holds across workers (hrarchive/cluster/polite.py).
          "hrarchive.cluster.polite.SharedPolitenessAddon": 10}
# Every request, concurrent ones too, waits for its host's robots.txt; Crawl-delay honoured.
# Retries wait for Retry-After, else back off exponentially (stock Scrapy retries at once).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "hrarchive.middlewares.robots.RobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "hrarchive.middlewares.retry.RetryAfterMiddleware": 550,
}
# First retry waits this many seconds when the server names no Retry-After; doubled after.
HRARCHIVE_RETRY_BACKOFF = 5.0
# No retry waits longer; a Retry-After asking for more is not retried.
HRARCHIVE_RETRY_MAX_DELAY = 300.0
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "hrarchive"  # the token robots.txt groups are matched against
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 3
# The time budget of one request, the whole body included (an endless, trickling response
# is cut off here); a request that timed out is retried at most HRARCHIVE_TIMEOUT_RETRIES times.
DOWNLOAD_TIMEOUT = 60
HRARCHIVE_TIMEOUT_RETRIES = 1

# --- hostile responses -----------------------------------------------------------------------
# A page larger than this is refused while it downloads, and so is a compressed one as soon as
# it inflates past it (a gzip bomb); Scrapy's 1 GiB default let one bomb take 1 GB of memory.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
# Attachments (PDF reports, ...) may be larger than pages, up to this size.
HRARCHIVE_ATTACHMENT_MAXSIZE = 64 * 1024 * 1024
# A redirect loop is logged with its chain and counted (Scrapy drops it as a duplicate).
DUPEFILTER_CLASS = "hrarchive.middlewares.redirects.RedirectLoopDupeFilter"
# A dropped item is logged with its URL, the reason and the count, never the whole item.
LOG_FORMATTER = "hrarchive.logformat.ShortLogFormatter"
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

# --- pipelines, in flow order --------------------------------------------------------------
ITEM_PIPELINES = {
    "hrarchive.pipelines.normalise.NormalisePipeline": 100,
    "hrarchive.pipelines.validate.ValidatePipeline": 200,
    "hrarchive.pipelines.store.StorePipeline": 900,
}

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# --- incremental, resumable runs; layout alarm; progress -----------------------------------
# An archived story younger than this many days is revalidated (conditionally) every run.
HRARCHIVE_RECENT_DAYS = 14
# A run fails when more than this share of the story pages it read lack a title, a readable
# date or body text (judged once it read at least HRARCHIVE_LAYOUT_MIN_STORIES of them) ...
HRARCHIVE_LAYOUT_MAX_MISSING = 0.5
HRARCHIVE_LAYOUT_MIN_STORIES = 3
# ... or when its listings, feeds and sitemaps yield no story at all.
# WordPress REST API (hrarchive/spiders/wpapi.py): posts per API request (1 to 100), and how
# many hours before the last finished run began a daily run asks for posts modified since.
HRARCHIVE_WP_API_PER_PAGE = 50
HRARCHIVE_WP_API_MARGIN = 24.0
# Status lines per site on the terminal (never when stderr is not a terminal).
HRARCHIVE_PROGRESS = True
ITEM_PIPELINES["hrarchive.pipelines.layout.LayoutAlarmPipeline"] = 150
EXTENSIONS = {
    "hrarchive.extensions.jobdir.JobdirGuard": 0,
    "hrarchive.extensions.progress.Progress": 500,
    "hrarchive.extensions.diskfull.DiskFullStop": 0,  # a full disk stops the crawl, clearly
}

# --- raw capture: next to the downloader, so it sees every response as received ------------
DOWNLOADER_MIDDLEWARES["hrarchive.capture.middleware.CaptureMiddleware"] = 950
SPIDER_MIDDLEWARES = {"hrarchive.capture.middleware.CaptureSpiderMiddleware": 950}

# --- crawler workers (hrarchive crawl --redis; hrarchive/cluster/worker.py) ----------------
# Sites a worker crawls at once; it claims the next of its list when one finishes.
HRARCHIVE_WORKER_SITES = 4
# Seconds a worker's heartbeat and site claims live unless renewed (every third of it): a
# worker that dies loses its sites to the others this long after.
HRARCHIVE_WORKER_TTL = 30.0
