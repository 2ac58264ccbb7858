"""Store pipeline: hand items to the archive's one writer, one crawl row per run.

Items leave the reactor thread at once: each becomes an operation on the writer's queue
(``hrarchive.store.writer``), stamped with the time it was processed; the writer commits
them in batches and reports each outcome back, which the stats count.  When the queue is
full the crawl waits.  Closing the spider waits for the writer to commit everything queued
before the run's row is finished.

A crawler worker (``HRARCHIVE_REDIS`` set: ``hrarchive crawl --redis``) hands the same
operations to ``hrarchive writer`` through Redis instead (``hrarchive.cluster``): the named
requests ``save_site``, ``start_crawl``, ``finish_crawl`` and ``interrupt_crawl`` replace the
calls into the archive, the crawl row is the one of the site and run whatever the number of
workers, and a story waits for its WARC record to be written (by the worker's own capture
thread) so that its operation carries where the record is.

A run stopped without a clean close (a second SIGTERM or Ctrl-C) still commits what is
queued and ends its row ``interrupted`` as the reactor shuts down; a run killed outright
(SIGKILL, out of memory) is marked ``interrupted`` by the next run of the site.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from hrarchive.capture.attachments import attachments_root
from hrarchive.capture.writer import PendingCapture
from hrarchive.extensions.diskfull import STAT as DISK_FULL
from hrarchive.extensions.diskfull import is_disk_full, stop_if_disk_full
from hrarchive.items import Announced, Article, Attachment, Gone, NotModified, Teaser
from hrarchive.store.archive import utcnow
from hrarchive.store.queue import ANNOUNCE, ARTICLE, ATTACHMENT, GONE, NOT_MODIFIED, TEASER, Op
from hrarchive.store.writer import ArchiveWriter, NotCaptured, acquire_writer, release_writer

logger = logging.getLogger(__name__)
WRITER_PATIENCE = 10.0  # seconds a worker waits for the writer's first answer before saying so
_LEAVES = frozenset({str, int, float, bool, bytes, type(None)})


def _plain(value: Any) -> Any:
    """``ItemAdapter(item).asdict()``'s conversion, without asking every string whether it
    is an item (most of that call's time on a story with its links)."""
    if type(value) in _LEAVES or isinstance(value, PendingCapture):
        return value  # a capture's location is filled in by the writer: keep the same dict
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


def writer_options(settings: Any) -> dict[str, Any]:
    """The writer's batch and queue settings, and outcomes reported on the reactor thread."""
    from twisted.internet import reactor  # the one Scrapy installed

    return {"batch_size": settings.getint("HRARCHIVE_BATCH_SIZE"),
            "commit_seconds": settings.getfloat("HRARCHIVE_COMMIT_SECONDS"),
            "queue_size": settings.getint("HRARCHIVE_QUEUE_SIZE"),
            "post": reactor.callFromThread}


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.writer: ArchiveWriter | None = None
        self.client: Any = None  # a crawler worker's WriterClient (hrarchive.cluster.client)
        self.crawl_id: int | None = None
        self.clock: Callable[[], datetime] = utcnow
        self._stopped = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> Coroutine[Any, Any, None] | None:
        settings = self.crawler.settings
        spider = self.crawler.spider
        if settings.get("HRARCHIVE_REDIS"):
            return self._open_worker()
        self.writer = acquire_writer(settings.get("HRARCHIVE_DB"), **writer_options(settings))
        self.clock = getattr(spider, "archive_clock", utcnow)  # reparse: the capture's time
        profile = getattr(spider, "profile", None)
        site = profile.id if profile else str(getattr(spider, "name", "unknown"))
        if profile:
            row = {"id": profile.id, "name": profile.name, "base_url": profile.base_url,
                   "languages": list(profile.languages), "profile_path": profile.path}
            self.writer.call(lambda archive: archive.save_site(row))
        options = getattr(spider, "run_options", {})
        log_file = log_path(settings.get("LOG_FILE"))
        self.crawl_id = self.writer.call(
            lambda archive: archive.start_crawl(site, options, log_file),
            now=self.clock()).result()
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("hrarchive/crawl_id", self.crawl_id)
        from twisted.internet import reactor  # the one Scrapy installed

        reactor.addSystemEventTrigger("before", "shutdown",  # type: ignore[arg-type]
                                      self.forced_stop)
        return None

    async def _open_worker(self) -> None:
        """A worker's start: the site saved and the run's crawl row opened (or joined) by
        ``hrarchive writer``."""
        from hrarchive.cluster.claims import worker_name
        from hrarchive.cluster.worker import deferred, writer_client
        from hrarchive.store.state import this_process

        settings = self.crawler.settings
        spider = self.crawler.spider
        self.client = writer_client(settings)
        profile = getattr(spider, "profile", None)
        site = profile.id if profile else str(getattr(spider, "name", "unknown"))
        if profile:
            self.client.request("save_site", {
                "id": profile.id, "name": profile.name, "base_url": profile.base_url,
                "languages": list(profile.languages), "profile_path": profile.path})
        asked = self.client.request("start_crawl", {
            "site": site, "run": settings.get("HRARCHIVE_RUN"), "worker": worker_name(),
            "options": getattr(spider, "run_options", {}),
            "log_file": log_path(settings.get("LOG_FILE")), **this_process()},
            timeout=None, now=self.clock())
        from twisted.internet import reactor

        clock: Any = reactor  # the installed reactor (typed as the module)
        waiting = clock.callLater(
            WRITER_PATIENCE, logger.warning, "No answer from hrarchive writer yet (is it "
            "running, on the same Redis and prefix?): %s waits for it", site)

        try:
            self.crawl_id = await maybe_deferred_to_future(deferred(asked))
        finally:
            if waiting.active():
                waiting.cancel()
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("hrarchive/crawl_id", self.crawl_id)
        reactor.addSystemEventTrigger("before", "shutdown",  # type: ignore[arg-type]
                                      self.forced_stop)

    def process_item(self, item: Any) -> Any:
        assert self.crawler.stats is not None
        assert self.writer is not None or self.client is not None
        if self.crawler.stats.get_value(DISK_FULL):  # stopping: fetched again next run
            raise DropItem("not stored, the disk is full")
        data = _plain(item)
        if isinstance(item, Article):
            op = Op(ARTICLE, data, reply=self._stored_article)
        elif isinstance(item, Teaser):
            op = Op(TEASER, data, reply=self._stored_teaser)
        elif isinstance(item, NotModified):
            op = Op(NOT_MODIFIED, data, reply=self._stored_not_modified)
        elif isinstance(item, Gone):
            op = Op(GONE, data, reply=self._stored_gone)
        elif isinstance(item, Announced):
            op = Op(ANNOUNCE, data, reply=self._stored_announced)
        elif isinstance(item, Attachment):
            data["root"] = str(attachments_root(self.crawler.settings))
            op = Op(ATTACHMENT, data, reply=self._stored_attachment)
        else:
            return item
        op.crawl_id = self.crawl_id
        op.now = self.clock()
        if self.client is not None:
            return self._send(op, item)
        assert self.writer is not None
        self.writer.put(op)  # waits while the writer is a full queue behind
        return item

    async def _send_when_written(self, op: Op, item: Any, ready: Deferred[None]) -> Any:
        written: Deferred[None] = Deferred()

        def wake(result: Any) -> Any:
            written.callback(None)
            return result

        ready.addBoth(wake)  # (another item of the response may wait for it too)
        await maybe_deferred_to_future(written)
        return self._send(op, item)

    def _send(self, op: Op, item: Any) -> Any:
        """A worker's put: once the item's WARC record is written, with where it is."""
        capture = op.data.get("capture")
        ready = getattr(capture, "ready", None)
        if isinstance(ready, Deferred) and not ready.called:
            return self._send_when_written(op, item, ready)
        if isinstance(capture, PendingCapture):
            if is_disk_full(capture.failed):  # not stored: the next run fetches it again
                logger.warning("Story %s not stored, its capture failed: %s",
                               op.data.get("url"), capture.failed)
                self._count("hrarchive/store/not_captured")
                return item
            op.data["capture"] = dict(capture) if capture and capture.failed is None else None
        self.client.put(op)  # waits while the writer is a full queue behind
        return item

    # --- outcomes, reported by the writer once committed (on the reactor thread) -------------
    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def _failed(self, outcome: Any) -> bool:
        if isinstance(outcome, NotCaptured):  # the disk filled: fetched again next run
            self._count("hrarchive/store/not_captured")
            return True
        if isinstance(outcome, BaseException):
            self._count("hrarchive/store/failed")
            stop_if_disk_full(self.crawler, outcome, "the archive")
            return True
        return False

    def _stored_article(self, outcome: Any) -> None:
        if not self._failed(outcome):
            self._count(f"hrarchive/store/article_{outcome[0]}")
            if outcome[1]:
                self._count("hrarchive/store/capture")
            self._back(outcome[2])

    def _stored_teaser(self, outcome: Any) -> None:
        if not self._failed(outcome):
            self._count(f"hrarchive/store/teaser_{outcome}")

    def _stored_not_modified(self, outcome: Any) -> None:
        if not self._failed(outcome):
            self._count(f"hrarchive/store/article_{outcome[0]}")
            self._back(outcome[1])

    def _back(self, url: str | None) -> None:
        """A story read or answered 304 that was gone (a takedown) is back."""
        if url:
            self._count("hrarchive/store/story_back")
            logger.warning("Story back online after a takedown: %s", url)

    def _stored_announced(self, outcome: Any) -> None:
        if not self._failed(outcome):
            self._count(f"hrarchive/store/announce_{outcome}")

    def _stored_gone(self, outcome: Any) -> None:
        if not self._failed(outcome):
            self._count(f"hrarchive/store/story_{outcome}")

    def _stored_attachment(self, outcome: Any) -> None:
        if isinstance(outcome, OSError):
            self._count("hrarchive/errors")  # the file could not be kept (logged)
        elif not self._failed(outcome):
            self._count(f"hrarchive/store/attachment_{outcome}")

    # --- the end of a run -------------------------------------------------------------------
    def close_spider(self) -> Deferred[None] | None:
        """Wait until the writer has committed (and counted) everything queued; the run's
        outcome is recorded once Scrapy says why it closed."""
        done: Deferred[None] = Deferred()
        if self.client is not None:
            self.client.flush(reply=lambda _: done.callback(None))
            return done
        if self.writer is None:
            return None
        self.writer.flush(reply=lambda _: done.callback(None))
        return done

    def spider_closed(self, spider: Spider, reason: str) -> Coroutine[Any, Any, None] | None:
        if self.client is not None:
            return self._close_worker(spider, reason)
        if self.writer is None or self.crawl_id is None or self._stopped:
            return None
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        status, why = crawl_status(reason, stats)
        crawl_id, writer = self.crawl_id, self.writer
        # the writer thread's share (shared by the process's crawls), and how often the
        # crawl had to wait for it
        self.crawler.stats.set_value("hrarchive/writer/cpu_seconds", round(writer.cpu_seconds, 3))
        self.crawler.stats.set_value("hrarchive/writer/batches", writer.batches)
        self.crawler.stats.set_value("hrarchive/writer/queue_full",
                                     getattr(writer.queue, "waits", 0))
        stats = self.crawler.stats.get_stats()
        try:
            writer.call(lambda archive: archive.finish_crawl(
                crawl_id, status, why, {**counts(stats), "mode": stats.get("hrarchive/mode")},
                stats), now=self.clock()).result()
            self.crawler.stats.set_value("hrarchive/crawl_status", status)
            self.crawler.stats.set_value("hrarchive/crawl_reason", why)
            if status != "finished":
                logger.error("Crawl %s of %s %s: %s", self.crawl_id, spider.name, status, why)
        finally:
            self._release()
        return None

    async def _close_worker(self, spider: Spider, reason: str) -> None:
        """A worker's end of the site: ``finish_crawl`` (counts add up over the workers of
        the row), or ``interrupt_crawl`` when it was stopped (another worker resumes it)."""
        from hrarchive.cluster.claims import worker_name
        from hrarchive.cluster.worker import deferred

        if self.crawl_id is None or self._stopped:
            return
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        status, why = crawl_status(reason, stats)
        if getattr(spider, "resumed", False) and reason == "finished" and \
                not stats.get("hrarchive/layout/alarm"):
            status, why = "finished", reason  # the pages were read before, by other workers
        self.crawler.stats.set_value("hrarchive/writer/queue_full", self.client.waits)
        stats = self.crawler.stats.get_stats()
        if status == "interrupted":
            asked = self.client.request("interrupt_crawl", {
                "crawl_id": self.crawl_id, "reason": why, "worker": worker_name()},
                timeout=None, now=self.clock())
        else:
            asked = self.client.request("finish_crawl", {
                "crawl_id": self.crawl_id, "status": status, "reason": why,
                "counts": {**counts(stats), "mode": stats.get("hrarchive/mode")},
                "stats": _jsonable(stats), "worker": worker_name()},
                timeout=None, now=self.clock())
        self._stopped = True

        await maybe_deferred_to_future(deferred(asked))
        self.crawler.stats.set_value("hrarchive/crawl_status", status)
        self.crawler.stats.set_value("hrarchive/crawl_reason", why)
        if status != "finished":
            logger.error("Crawl %s of %s %s: %s", self.crawl_id, spider.name, status, why)

    def _release(self) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            release_writer(writer)

    def forced_stop(self) -> None:
        """Reactor shutdown before the spider closed: commit what is queued, end the row."""
        if self.client is not None and self.crawl_id is not None and not self._stopped:
            from hrarchive.cluster.claims import worker_name

            self._stopped = True
            try:  # the worker's part ends; the row waits for the site's next worker
                self.client.request("interrupt_crawl", {
                    "crawl_id": self.crawl_id, "reason": "forced stop before a clean close",
                    "worker": worker_name()}, now=self.clock()).result(30)
            except Exception:
                logger.exception("Could not tell the writer that crawl %s stopped",
                                 self.crawl_id)
            return
        if self.writer is None or self.crawl_id is None:
            return
        self._stopped = True
        assert self.crawler.stats is not None
        crawl_id = self.crawl_id
        try:
            self.writer.call(lambda archive: archive.interrupt_crawl(
                crawl_id, "forced stop before a clean close"), now=self.clock()).result()
            self.crawler.stats.set_value("hrarchive/crawl_status", "interrupted")
            logger.error("Crawl %s stopped without a clean close: interrupted", self.crawl_id)
        finally:
            self._release()



def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    """The crawl stats as JSON can carry them (datetimes as ISO text)."""
    return {key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in stats.items()}
