"""A full disk stops the crawl with one clear line, keeping what was committed.

SQLite answers "database or disk is full" and file writes fail with ENOSPC (or EDQUOT, EFBIG)
once the disk is full.  Writing on would only fail again, so the first such error closes the
spider (reason ``disk_full``, so the run is ``failed``), logs one line naming the file
system's trouble, and leaves the stat ``hrarchive/disk_full`` for ``hrarchive crawl`` to
print.  The archive keeps every committed batch (SQLite's WAL), and the captures every
finished record; the next run, with space, fetches what is missing.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)
STAT = "hrarchive/disk_full"
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def is_disk_full(error: BaseException | None) -> bool:
    """Whether an exception says the disk (or the file-size limit) is full."""
    if isinstance(error, sqlite3.OperationalError):
        return "disk is full" in str(error)
    return isinstance(error, OSError) and error.errno in FULL_ERRNOS


def stop_if_disk_full(crawler: Crawler, error: BaseException | None, writing: str) -> bool:
    """Close the spider on a full disk (once); True if ``error`` was one."""
    if not is_disk_full(error):
        return False
    stats = crawler.stats
    assert stats is not None
    if stats.get_value(STAT):
        return True
    message = f"disk full while writing {writing} ({error}); stopping the crawl"
    stats.set_value(STAT, message)
    logger.error("Stopping: %s. What was committed is kept; run again with free space "
                 "to fetch the rest.", message)
    engine = crawler.engine
    if engine is not None and engine.spider is not None:
        deferred_from_coro(engine.close_spider_async(reason="disk_full"))
    return True


class DiskFullStop:
    """Watches item and spider errors for a full disk."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DiskFullStop:
        extension = cls(crawler)
        crawler.signals.connect(extension.item_error, signal=signals.item_error)
        crawler.signals.connect(extension.spider_error, signal=signals.spider_error)
        return extension

    def item_error(self, item: Any, response: Any, spider: Spider, failure: Failure) -> None:
        stop_if_disk_full(self.crawler, failure.value, "the archive")

    def spider_error(self, failure: Failure, response: Any, spider: Spider) -> None:
        stop_if_disk_full(self.crawler, failure.value, "the archive")
