"""JOBDIR guard: resume a run that stopped cleanly, never one that was killed.

Scrapy writes a job's seen-requests file as requests are scheduled but its queue only on a
clean stop, so resuming the state of a killed run (SIGKILL, out of memory, a second SIGTERM)
would skip every request that was queued but never fetched.  This extension writes a marker
file into ``JOBDIR`` when a run starts and removes it on a clean close; a marker found at the
start means the state is unclean, and it is discarded (with a warning) before the scheduler
reads it: the run starts afresh and the archive tells it what is missing.  A run that
finished leaves an empty ``JOBDIR``, so the next scheduled run is a new job.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.job import job_dir

logger = logging.getLogger(__name__)
MARKER = "hrarchive-run.json"


def clear(path: Path) -> None:
    """Remove everything in a job folder (the folder itself stays)."""
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


class JobdirGuard:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.marker = path / MARKER

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobdirGuard:
        folder = job_dir(crawler.settings)
        if not folder:
            raise NotConfigured("no JOBDIR")
        guard = cls(Path(folder))
        guard.open()  # before the scheduler opens the job's files
        crawler.signals.connect(guard.spider_closed, signal=signals.spider_closed)
        return guard

    def open(self) -> None:
        if self.marker.exists():
            logger.warning("JOBDIR %s holds the state of a run that did not stop cleanly "
                           "(%s): discarded; this run starts afresh and re-discovers what is "
                           "missing from the archive", self.path,
                           self.marker.read_text("utf-8", errors="replace").strip())
            clear(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.marker.write_text(json.dumps({"pid": os.getpid(), "started": time.time()}),
                               "utf-8")

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if reason == "shutdown":
            logger.info("Job state kept in %s: run the same crawl again to resume", self.path)
            self.marker.unlink(missing_ok=True)
        else:
            clear(self.path)  # the job is over; the next run is a new one
