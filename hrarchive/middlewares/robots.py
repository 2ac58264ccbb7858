"""robots.txt for every request, concurrent ones included, and its ``Crawl-delay`` honoured.

Scrapy's own middleware (2.14 to 2.19 at least) lets requests through while a site's
robots.txt is being fetched: every request that arrives meanwhile awaits one shared
Deferred, and the first waiter's callback hands ``None`` down the chain to all the others,
which the middleware reads as "no robots.txt, all allowed".  Here each waiter gets its own
Deferred, so every request to a host waits for that host's parsed robots.txt.

A robots.txt that answers with a server error (5xx) or 429 is read as "disallow all", as
RFC 9309 (2.3.1.4) asks, after its retries; Scrapy would parse the error page and allow all.
Any other 4xx means no robots.txt: all allowed.

``Crawl-delay`` (for ``ROBOTSTXT_USER_AGENT``, else ``USER_AGENT``) becomes the least delay
of the host's download slot, without random jitter; AutoThrottle may raise it, never lower it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

if TYPE_CHECKING:
    from scrapy.core.downloader import Slot
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


def _relay(result: Any, waiter: Deferred[Any]) -> Any:
    """Pass a shared Deferred's result to one waiter and on down the shared chain."""
    if isinstance(result, Failure):
        waiter.errback(result)
    else:
        waiter.callback(result)
    return result


class RobotsTxtMiddleware(ScrapyRobotsTxt):
    """Scrapy's RobotsTxtMiddleware without the concurrency hole, plus ``Crawl-delay``."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._host_delays: dict[str, float] = {}  # netloc -> Crawl-delay
        self._slot_delays: dict[str, float] = {}  # download slot key -> Crawl-delay
        crawler.signals.connect(self._response_downloaded, signal=signals.response_downloaded)

    async def process_request(self, request: Request) -> None:  # type: ignore[override]
        await super().process_request(request)
        delay = self._host_delays.get(urlparse_cached(request).netloc)
        if delay:
            assert self.crawler.engine is not None
            key = self.crawler.engine.downloader.get_slot_key(request)
            self._slot_delays[key] = max(delay, self._slot_delays.get(key, 0.0))
            self._enforce(key)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred[RobotParser | None] = Deferred()
            pending.addBoth(_relay, waiter)
            parser = await maybe_deferred_to_future(waiter)
        else:
            parser = await super().robot_parser(request)
        if parser is not None and netloc not in self._host_delays:
            self._host_delays[netloc] = self._crawl_delay(parser, netloc)
        return parser

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500 or response.status == 429:
            logger.warning("robots.txt of %s answered %s: nothing on that host is crawled",
                           netloc, response.status, extra={"spider": self.crawler.spider})
            self._stats.inc_value("hrarchive/robotstxt/unreachable")
            response = response.replace(body=DISALLOW_ALL)
        elif response.status >= 400:
            response = response.replace(body=b"")
        await super()._parse_robots(response, netloc, request)

    def _crawl_delay(self, parser: RobotParser, netloc: str) -> float:
        crawl_delay = getattr(parser, "crawl_delay", None)  # ProtegoRobotParser has it
        if crawl_delay is None:
            return 0.0
        delay = crawl_delay(self._robotstxt_useragent or self._default_useragent)
        if not delay or delay <= 0:
            return 0.0
        logger.info("robots.txt of %s asks for Crawl-delay: %s s; honoured", netloc, delay,
                    extra={"spider": self.crawler.spider})
        self._stats.set_value(f"hrarchive/robotstxt/crawl_delay/{netloc}", float(delay))
        return float(delay)

    def _response_downloaded(self, response: Response, request: Request) -> None:
        # Connected after AutoThrottle (extensions start first), so this runs after it
        # may have lowered the slot's delay.
        key = request.meta.get("download_slot")
        if key in self._slot_delays:
            self._enforce(key)

    def _enforce(self, key: str) -> None:
        assert self.crawler.engine is not None
        slot: Slot | None = self.crawler.engine.downloader.slots.get(key)
        if slot is None:
            return  # made on the request's way in; the next request enforces the delay
        least = self._slot_delays[key]
        if slot.delay < least:
            slot.delay = least
        if hasattr(slot, "jitter"):  # Scrapy 2.19+
            slot.jitter = 0.0
        else:
            slot.randomize_delay = False
