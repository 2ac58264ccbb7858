"""Store pipeline: write items to the archive, one crawl row per run, batches committed
on a timer and when the spider closes, on errors too.

A run stopped without a clean close (a second SIGTERM or Ctrl-C) still commits its last
batch and ends its row ``interrupted`` as the reactor shuts down; a run killed outright
(SIGKILL, out of memory) is marked ``interrupted`` by the next run of the site.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from twisted.internet import task

from hrarchive.capture.pipeline import keep_capture
from hrarchive.extensions.diskfull import STAT as DISK_FULL
from hrarchive.items import Article, Gone, NotModified, Teaser
from hrarchive.store import Archive, acquire_archive, release_archive

logger = logging.getLogger(__name__)
_LEAVES = frozenset({str, int, float, bool, bytes, type(None)})


def _plain(value: Any) -> Any:
    """``ItemAdapter(item).asdict()``'s conversion, without asking every string whether it
    is an item (most of that call's time on a story with its links)."""
    if type(value) in _LEAVES:
        return value
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, list | set | tuple):
        return value.__class__(_plain(v) for v in value)
    if isinstance(value, ItemAdapter):
        return value.asdict()
    if ItemAdapter.is_item(value):
        return {key: _plain(v) for key, v in ItemAdapter(value).items()}
    return value



def crawl_status(reason: str, stats: dict[str, Any]) -> tuple[str, str]:
    """(status, reason) of a run that closed with Scrapy's ``reason`` and ``stats``."""
    if reason == "shutdown":
        return "interrupted", reason
    if reason != "finished":
        return "failed", reason
    if stats.get("hrarchive/layout/alarm"):
        return "failed", str(stats["hrarchive/layout/alarm"])
    if not stats.get("hrarchive/listing/read") and not stats.get("hrarchive/article/read"):
        return "failed", "no listing or story page could be read"
    return "finished", reason


def log_path(log_file: str | None) -> str | None:
    """The run's log file as an absolute path, so the row still finds it from elsewhere."""
    return str(Path(log_file).resolve()) if log_file else None


def counts(stats: dict[str, Any]) -> dict[str, int]:
    def get(key: str) -> int:
        return int(stats.get(key, 0))
    return {
        "requests": get("downloader/request_count"),
        "responses": get("downloader/response_count"),
        "articles_new": get("hrarchive/store/article_new"),
        "articles_changed": get("hrarchive/store/article_changed"),
        "articles_unchanged": get("hrarchive/store/article_unchanged"),
        "teasers_new": get("hrarchive/store/teaser_new"),
        "teasers_seen": get("hrarchive/store/teaser_seen"),
        "dropped": get("item_dropped_count"),
        "errors": get("hrarchive/errors"),
        "not_modified": get("hrarchive/store/article_not_modified"),
        "stories_found": get("hrarchive/stories/found"),
    }


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.archive: Archive | None = None
        self.crawl_id: int | None = None
        self._flusher: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        settings = self.crawler.settings
        spider = self.crawler.spider
        self.archive = acquire_archive(settings.get("HRARCHIVE_DB"),
                               batch_size=settings.getint("HRARCHIVE_BATCH_SIZE"),
                               commit_seconds=settings.getfloat("HRARCHIVE_COMMIT_SECONDS"))
        self.archive.clock = getattr(spider, "archive_clock", self.archive.clock)  # reparse
        profile = getattr(spider, "profile", None)
        site = profile.id if profile else str(getattr(spider, "name", "unknown"))
        if profile:
            self.archive.save_site({"id": profile.id, "name": profile.name,
                                    "base_url": profile.base_url,
                                    "languages": list(profile.languages),
                                    "profile_path": profile.path})
        self.crawl_id = self.archive.start_crawl(site, getattr(spider, "run_options", {}),
                                                 log_path(settings.get("LOG_FILE")))
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("hrarchive/crawl_id", self.crawl_id)
        self._flusher = task.LoopingCall(self.archive.commit)
        self._flusher.start(settings.getfloat("HRARCHIVE_COMMIT_SECONDS"), now=False)
        from twisted.internet import reactor  # the one Scrapy installed

        reactor.addSystemEventTrigger("before", "shutdown",  # type: ignore[arg-type]
                                      self.forced_stop)

    def process_item(self, item: Any) -> Any:
        assert self.archive is not None and self.crawler.stats is not None
        if self.crawler.stats.get_value(DISK_FULL):  # stopping: fetched again next run
            raise DropItem("not stored, the disk is full")
        data = _plain(item)
        if isinstance(item, Article):
            outcome = self.archive.save_article(data, self.crawl_id)
            self.crawler.stats.inc_value(f"hrarchive/store/article_{outcome}")
            self._alive(data.get("canonical_url"), data["url"])
        elif isinstance(item, Teaser):
            outcome = self.archive.save_teaser(data, self.crawl_id)
            self.crawler.stats.inc_value(f"hrarchive/store/teaser_{outcome}")
        elif isinstance(item, NotModified):
            outcome = self.archive.touch_article(item.url, self.crawl_id, item.etag,
                                                 item.last_modified, item.announced)
            self.crawler.stats.inc_value(f"hrarchive/store/article_{outcome}")
            self._alive(item.url)
        elif isinstance(item, Gone):
            outcome = self.archive.story_gone(item.url, item.status, self.crawl_id,
                                              item.redirect_to)
            self.crawler.stats.inc_value(f"hrarchive/store/story_{outcome}")
        keep_capture(self.archive, item, self.crawl_id, self.crawler, data)  # WARC, attachments
        return item

    def _alive(self, *urls: str | None) -> None:
        """A story read or answered 304: if it was gone (a takedown), it is back."""
        assert self.archive is not None and self.crawler.stats is not None
        if self.archive.story_alive([u for u in urls if u], self.crawl_id):
            self.crawler.stats.inc_value("hrarchive/store/story_back")
            logger.warning("Story back online after a takedown: %s", urls[-1])

    def close_spider(self) -> None:
        """Commit what is written; the run's outcome is recorded once Scrapy says why it closed."""
        if self._flusher is not None and self._flusher.running:
            self._flusher.stop()
        if self.archive is not None:
            self.archive.commit()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.archive is None or self.crawl_id is None:
            return
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        status, why = crawl_status(reason, stats)
        try:
            self.archive.finish_crawl(self.crawl_id, status, why,
                                      {**counts(stats), "mode": stats.get("hrarchive/mode")},
                                      stats)
            self.crawler.stats.set_value("hrarchive/crawl_status", status)
            if status != "finished":
                logger.error("Crawl %s of %s %s: %s", self.crawl_id, spider.name, status, why)
        finally:
            release_archive(self.archive)
            self.archive = None

    def forced_stop(self) -> None:
        """Reactor shutdown before the spider closed: keep the last batch, end the row."""
        if self.archive is None or self.crawl_id is None:
            return
        if self._flusher is not None and self._flusher.running:
            self._flusher.stop()
        assert self.crawler.stats is not None
        try:
            self.archive.interrupt_crawl(self.crawl_id, "forced stop before a clean close")
            self.crawler.stats.set_value("hrarchive/crawl_status", "interrupted")
            logger.error("Crawl %s stopped without a clean close: interrupted", self.crawl_id)
        finally:
            release_archive(self.archive)
            self.archive = None
