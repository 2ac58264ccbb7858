"""Scrapy components of the raw capture.

``CaptureMiddleware`` is a downloader middleware placed next to the downloader, so it sees
every response as received, robots.txt and redirects included, before decompression, and
hands it with its request to the archive's writer thread (``hrarchive.store.writer``), which
compresses and writes it through a :class:`~hrarchive.capture.writer.WarcWriter`, off the
reactor thread.  Where it was written is filled into the ``PendingCapture`` left in
``request.meta["hrarchive_capture"]`` once it is.

A crawler worker (``HRARCHIVE_REDIS`` set) has no archive writer of its own: a thread of
the middleware writes the records (files named with the worker's host and process), and
``PendingCapture.ready`` tells the store pipeline when a story's record is written, so its
operation carries where it went.

``CaptureSpiderMiddleware`` copies that location onto the items a response produced (so the
store can map a story version to its WARC record) and asks for the attachments (PDF reports
and the like) a story links to, once per URL.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.internet.defer import Deferred

from hrarchive.capture import beside_archive
from hrarchive.capture.attachments import ATTACHMENT_KEY
from hrarchive.capture.writer import (
    ATTACHMENT_HEADER,
    CALLBACK_HEADER,
    CaptureRef,
    Exchange,
    PendingCapture,
    WarcWriter,
)
from hrarchive.extensions.diskfull import STAT as DISK_FULL
from hrarchive.extensions.diskfull import stop_if_disk_full
from hrarchive.extract.urls import normalise_url, same_site
from hrarchive.items import Article, Attachment
from hrarchive.store.queue import WARC, Op
from hrarchive.store.writer import ArchiveWriter, acquire_writer, release_writer

logger = logging.getLogger(__name__)

META_KEY = "hrarchive_capture"


def capture_root(settings: Any) -> Path:
    """The capture folder: ``HRARCHIVE_CAPTURE_DIR``, or ``captures/`` beside the archive."""
    return beside_archive(settings, "HRARCHIVE_CAPTURE_DIR", "captures")


def site_of(spider: Spider | None) -> str:
    profile = getattr(spider, "profile", None)
    return profile.id if profile else str(getattr(spider, "name", None) or "unknown")


def _headers(headers: Any) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1"))
            for name, values in headers.items() for value in values]


def exchange_of(request: Request, response: Response) -> Exchange:
    """The exchange to record; extension headers name the callback the response is for."""
    callback = request.callback  # a spider method, or none for robots.txt and the like
    bound = callable(callback) and getattr(callback, "__self__", None) is not None
    extra = {CALLBACK_HEADER: getattr(callback, "__name__", "") if bound else ""}
    attachment = request.meta.get(ATTACHMENT_KEY)
    if attachment:
        extra[ATTACHMENT_HEADER] = attachment.get("story_url") or ""
    return Exchange(url=response.url, method=request.method,
                    request_headers=_headers(request.headers), request_body=request.body,
                    status=response.status, headers=_headers(response.headers),
                    body=response.body, ip_address=str(response.ip_address)
                    if response.ip_address else None, extra=extra)


class CaptureMiddleware:
    """Has every response and its request written to the site's WARC files."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.writer: WarcWriter | None = None
        self.archive_writer: ArchiveWriter | None = None
        self.thread: ThreadPoolExecutor | None = None  # a crawler worker's WARC writing

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        settings = self.crawler.settings
        if not settings.getbool("HRARCHIVE_CAPTURE"):
            return
        from hrarchive.pipelines.store import writer_options

        options = getattr(spider, "run_options", {}) or {}
        info = {"hrarchive-site": site_of(spider),
                "http-header-user-agent": settings.get("USER_AGENT") or "",
                "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore"}
        if options.get("base_url"):
            info["hrarchive-base-url"] = options["base_url"]
        worker = bool(settings.get("HRARCHIVE_REDIS"))
        self.writer = WarcWriter(capture_root(settings), site_of(spider),
                                 settings.getint("HRARCHIVE_WARC_MAX_BYTES"), info,
                                 origin=f"{socket.gethostname()}-{os.getpid()}" if worker
                                 else None)
        if worker:  # no archive here: a thread of its own writes the records
            self.thread = ThreadPoolExecutor(1, thread_name_prefix="hrarchive-warc")
            return
        self.archive_writer = acquire_writer(settings.get("HRARCHIVE_DB"),
                                             **writer_options(settings))

    def spider_closed(self, spider: Spider) -> None:
        thread, writer, archive_writer = self.thread, self.writer, self.archive_writer
        if thread is not None and writer is not None:
            self.thread = None
            thread.submit(writer.close)
            thread.shutdown(wait=True)  # the last records are on disk before the worker ends
            return
        if writer is not None and archive_writer is not None:
            archive_writer.put(Op(WARC, lambda _archive: writer.close()))
            self.archive_writer = None
            release_writer(archive_writer)

    def process_response(self, request: Request, response: Response) -> Response:
        if self.writer is None or (self.archive_writer is None and self.thread is None):
            return response
        assert self.crawler.stats is not None
        if self.crawler.stats.get_value(DISK_FULL):  # stopping: fetched again next run
            raise IgnoreRequest(f"not captured, the disk is full: {response.url}")
        pending = PendingCapture()
        write = partial(self._write, exchange_of(request, response), datetime.now(UTC), pending)
        request.meta[META_KEY] = pending
        if self.thread is not None:
            from twisted.internet import reactor

            pending.ready = Deferred()
            written = self.thread.submit(write, None)
            written.add_done_callback(
                lambda done: reactor.callFromThread(self._landed, pending, done))
            return response
        assert self.archive_writer is not None
        self.archive_writer.put(Op(WARC, write, reply=self._written))
        return response

    def _landed(self, pending: PendingCapture, done: Future[Any]) -> None:
        """A worker's record written (or failed), on the reactor thread."""
        self._written(done.result())
        pending.ready.callback(None)

    def _write(self, exchange: Exchange, now: datetime, pending: PendingCapture,
               _archive: Any) -> CaptureRef | Exception:
        """In the writer thread: compress and write the record, fill in where it went."""
        assert self.writer is not None
        try:
            ref = self.writer.write(exchange, now)
        except Exception as exc:
            logger.exception("Could not capture %s (the crawl goes on)", exchange.url)
            pending.failed = exc
            self.writer.rotate()  # a half-written record ends its file; the next starts anew
            return exc
        pending.update(ref.as_dict())
        return ref

    def _written(self, ref: Any) -> None:
        """On the reactor thread, once written: the stats."""
        stats = self.crawler.stats
        assert stats is not None
        if not isinstance(ref, CaptureRef):
            if not stop_if_disk_full(self.crawler, ref, "the captures"):
                stats.inc_value("hrarchive/capture/failed")
            return
        stats.inc_value(f"hrarchive/capture/{ref.type}")
        stats.inc_value("hrarchive/capture/bytes", ref.length)


class CaptureSpiderMiddleware:
    """Puts the capture location on items, and requests each attachment once."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.attachments = crawler.settings.getbool("HRARCHIVE_ATTACHMENTS")
        self.known: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureSpiderMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        if self.attachments and not self.crawler.settings.get("HRARCHIVE_REDIS"):
            # (a crawler worker does not open the archive: the run's duplicate filter
            # keeps it to one request per attachment, and the writer keeps one copy)
            from hrarchive.store.captures import attachment_urls

            self.known = attachment_urls(self.crawler.settings.get("HRARCHIVE_DB"),
                                         site_of(spider))

    def _follow(self, response: Response, item: Any) -> Iterator[Any]:
        capture = response.meta.get(META_KEY)
        if isinstance(item, Article | Attachment) and capture is not None and \
                item.capture is None:
            item.capture = capture
        yield item
        parse = getattr(self.crawler.spider, "parse_attachment", None)
        if not (self.attachments and isinstance(item, Article) and parse):
            return
        for link in item.attachments:
            data = link if isinstance(link, dict) else vars(link)
            url = normalise_url(data["url"], response.url)
            if url in self.known or not same_site(url, response.url):
                continue
            self.known.add(url)
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("hrarchive/attachment/requested")
            yield Request(url, callback=parse, errback=getattr(self.crawler.spider, "failed", None),
                          meta={ATTACHMENT_KEY: {"url": url, "title": data.get("title"),
                                                 "story_url": item.canonical_url or item.url},
                                "download_maxsize": self.crawler.settings.getint(
                                    "HRARCHIVE_ATTACHMENT_MAXSIZE")})

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        for item in result:
            yield from self._follow(response, item)

    async def process_spider_output_async(self, response: Response,
                                          result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in result:
            for out in self._follow(response, item):
                yield out
