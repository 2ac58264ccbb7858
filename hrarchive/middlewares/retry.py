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

A host that cannot be resolved or refuses the connection is retried at most
``UNREACHABLE_RETRIES`` times, ``UNREACHABLE_WAIT`` seconds apart, without back-off; once a
request to it gave up so, the host's other requests are not retried in that run.  A mistyped
host or a machine without network fails its site in seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import scrapy.exceptions
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import DownloadTimeoutError
from scrapy.http import Request
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.error import ConnectionRefusedError, DNSLookupError
from twisted.internet.task import deferLater

if TYPE_CHECKING:
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


def _errors(twisted: type[Exception], scrapy_name: str) -> tuple[type[Exception], ...]:
    """Twisted's exception and Scrapy 2.19's wrapper of it (raised instead, where it exists)."""
    wrapper = getattr(scrapy.exceptions, scrapy_name, None)
    return (twisted, wrapper) if isinstance(wrapper, type) else (twisted,)


CANNOT_RESOLVE = _errors(DNSLookupError, "CannotResolveHostError")
REFUSED = _errors(ConnectionRefusedError, "DownloadConnectionRefusedError")
UNREACHABLE = CANNOT_RESOLVE + REFUSED
UNREACHABLE_RETRIES = 2
UNREACHABLE_WAIT = 1.0


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


def unreachable_reason(error: BaseException | None) -> str | None:
    """"cannot resolve" or "connection refused" for a host that cannot be reached, else None."""
    if isinstance(error, CANNOT_RESOLVE):
        return "cannot resolve"
    if isinstance(error, REFUSED):
        return "connection refused"
    return None


class RetryAfterMiddleware(RetryMiddleware):
    """RetryMiddleware whose retries wait for ``Retry-After`` or an exponential back-off."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("HRARCHIVE_RETRY_BACKOFF")
        self.max_delay = settings.getfloat("HRARCHIVE_RETRY_MAX_DELAY")
        self.timeout_retries = settings.getint("HRARCHIVE_TIMEOUT_RETRIES", 1)
        self.unreachable: set[str] = set()  # hosts that stayed unreachable after retries

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
        unreachable = isinstance(exception, UNREACHABLE)
        host = urlparse_cached(request).netloc
        if unreachable:
            request.meta["max_retry_times"] = min(
                request.meta.get("max_retry_times", self.max_retry_times),
                0 if host in self.unreachable else UNREACHABLE_RETRIES)
        retry = super().process_exception(request, exception)
        if unreachable and retry is None:
            self.unreachable.add(host)
        if isinstance(retry, Request):
            await self._wait(retry, None, quick=unreachable)
        return retry

    async def _wait(self, retry: Request, asked: float | None, quick: bool = False) -> None:
        if quick:
            seconds, why = UNREACHABLE_WAIT, "quick retry: host unreachable"
        elif asked is not None:
            seconds, why = asked, "Retry-After"
        else:
            seconds, why = self.backoff_delay(retry.meta["retry_times"]), "back-off"
        if seconds <= 0:
            return
        assert self.crawler.stats is not None
        stats = self.crawler.stats
        stats.inc_value("hrarchive/retry/waits")
        stats.set_value("hrarchive/retry/wait_seconds",
                        stats.get_value("hrarchive/retry/wait_seconds", 0.0) + seconds)
        logger.info("Retrying %s in %.1f s (%s)", retry, seconds, why,
                    extra={"spider": self.crawler.spider})
        await pause(seconds)
