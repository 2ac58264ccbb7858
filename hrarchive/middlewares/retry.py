"""Retries that wait: ``Retry-After`` honoured, exponential back-off otherwise.

Scrapy's RetryMiddleware sends a retry at once.  This one lets a retried request wait first,
without blocking the crawl: as long as the response's ``Retry-After`` asks (seconds or an
HTTP date; 429 and 503 send it), else ``HRARCHIVE_RETRY_BACKOFF`` seconds doubled on each
further retry.  No wait is longer than ``HRARCHIVE_RETRY_MAX_DELAY``: a server that asks for
more is not retried (never sooner than it asked), and back-off stops growing there.

A request that timed out (an endless or trickling response uses up its whole
``DOWNLOAD_TIMEOUT``) is retried at most ``HRARCHIVE_TIMEOUT_RETRIES`` times.  A 429 or
503 slows the whole site down, not just the page: the site's download slot keeps at least
the wait it asked for between requests (AutoThrottle brings it back down as pages answer).
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import DownloadTimeoutError
from scrapy.http import Request
from scrapy.utils.response import response_status_message
from twisted.internet.task import deferLater

if TYPE_CHECKING:
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: float) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait from ``now`` (epoch seconds), if readable."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT; a date without a zone is read so too
        return None
    return max(0.0, when.timestamp() - now)


async def pause(seconds: float) -> None:
    """Wait without blocking the crawl, on the asyncio loop or the plain Twisted reactor."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        from twisted.internet import reactor

        await deferLater(reactor, seconds)
        return
    await asyncio.sleep(seconds)


class RetryAfterMiddleware(RetryMiddleware):
    """RetryMiddleware whose retries wait for ``Retry-After`` or an exponential back-off."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("HRARCHIVE_RETRY_BACKOFF")
        self.max_delay = settings.getfloat("HRARCHIVE_RETRY_MAX_DELAY")
        self.timeout_retries = settings.getint("HRARCHIVE_TIMEOUT_RETRIES", 1)

    def backoff_delay(self, retry_times: int) -> float:
        """The wait before retry number ``retry_times`` (1, 2, ...) when the server names none."""
        return min(self.backoff * 2 ** (retry_times - 1), self.max_delay)

    async def process_response(  # type: ignore[override]
            self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        asked = retry_after_seconds(response.headers.get("Retry-After"), time.time())
        if asked is not None and asked > self.max_delay:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("hrarchive/retry/retry_after_too_long")
            logger.warning("Not retrying %s: Retry-After asks for %.0f s, more than "
                           "HRARCHIVE_RETRY_MAX_DELAY (%.0f s)", request, asked, self.max_delay,
                           extra={"spider": self.crawler.spider})
            return response
        if response.status in (429, 503):
            self._slow_site(request, asked if asked is not None else self.backoff)
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await self._wait(retry, asked)
        return retry

    def _slow_site(self, request: Request, seconds: float) -> None:
        """Keep the site's requests at least ``seconds`` apart from now on (429, 503)."""
        engine = self.crawler.engine
        slots = getattr(getattr(engine, "downloader", None), "slots", {})
        slot = slots.get(request.meta.get("download_slot"))
        if slot is None or slot.delay >= min(seconds, self.max_delay):
            return
        slot.delay = min(seconds, self.max_delay)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("hrarchive/retry/site_slowed")
        logger.warning("%s asks to slow down: %.1f s between its requests from now on",
                       request.meta.get("download_slot"), slot.delay,
                       extra={"spider": self.crawler.spider})

    async def process_exception(  # type: ignore[override]
            self, request: Request, exception: Exception) -> Request | Response | None:
        if isinstance(exception, DownloadTimeoutError | TimeoutError) or \
                "Timeout" in type(exception).__name__:
            limit = request.meta.get("max_retry_times", self.max_retry_times)
            request.meta["max_retry_times"] = min(limit, self.timeout_retries)
        retry = super().process_exception(request, exception)
        if isinstance(retry, Request):
            await self._wait(retry, None)
        return retry

    async def _wait(self, retry: Request, asked: float | None) -> None:
        seconds = asked if asked is not None else self.backoff_delay(retry.meta["retry_times"])
        if seconds <= 0:
            return
        assert self.crawler.stats is not None
        stats = self.crawler.stats
        stats.inc_value("hrarchive/retry/waits")
        stats.set_value("hrarchive/retry/wait_seconds",
                        stats.get_value("hrarchive/retry/wait_seconds", 0.0) + seconds)
        logger.info("Retrying %s in %.1f s (%s)", retry, seconds,
                    "Retry-After" if asked is not None else "back-off",
                    extra={"spider": self.crawler.spider})
        await pause(seconds)
