"""Politeness that holds across worker processes and machines, through Redis.

One process keeps one request in flight per site, spaced by the site's delay, with its own
download slots (``hrarchive/middlewares/``).  Several workers crawling one site (a site
handed over, a worker wrongly presumed dead) would each keep their own pace.  With
``HRARCHIVE_REDIS`` set, :class:`SharedPolitenessAddon` (in ``ADDONS``) adds two things:

- :class:`SharedPoliteness`, a downloader middleware next to the downloader: before a
  request to a host goes out, it takes the host's slot in Redis (``{p}:site:{host}:slot``,
  with a token naming its worker and a lease longer than the download may take) once the
  host's next allowed time (``{p}:site:{host}:next``) has passed, waiting without blocking
  the crawl.  When the answer (or the error) comes back it moves ``next`` to now plus the
  site's delay (the download slot's: ``DOWNLOAD_DELAY``, AutoThrottle's, robots.txt's
  ``Crawl-delay``; a ``Retry-After`` of a 429 or 503 when longer, up to
  ``HRARCHIVE_RETRY_MAX_DELAY``) and gives the slot back if it still holds it.  A worker
  killed during a download holds its host until the lease lapses (``DOWNLOAD_TIMEOUT`` +
  30 s), not only until its heartbeat does: one wrongly presumed dead may still be
  downloading, and two requests must never overlap.  Times are Redis's clock (``TIME``),
  so machines whose clocks differ still agree.  A request waits for its host's slot in
  this process before it asks Redis, so a process polls once per host, not once per
  waiting request.
- :class:`SharedRobotsTxt`, hrarchive's robots.txt middleware that fetches each host's
  robots.txt once per run (``HRARCHIVE_RUN``) for all workers: the first one takes a
  fetch lock, fetches and keeps the answer in ``{p}:robots:{host}:{run}`` (a day); the
  others read it from there (a worker that died while fetching lets its lock lapse).

A site here is a host (``netloc``, port included): robots.txt and ``Crawl-delay`` belong
to a host, and one host is one server to be kind to, whichever site profile asks.
Without ``HRARCHIVE_REDIS`` none of this is installed, and a crawl is exactly as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import redis
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred, DeferredLock
from twisted.internet.task import deferLater

from hrarchive.middlewares.retry import pause, retry_after_seconds
from hrarchive.middlewares.robots import RobotsTxtMiddleware

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

PRIORITY = 990  # after every other downloader middleware: the slot is held for the download only
META = "hrarchive_polite"  # request.meta: (host, token) of the slot the request holds
POLL = 0.05  # seconds between two looks at a slot another worker holds
LEASE_MARGIN = 30.0  # seconds a slot's lease outlasts the download's own timeout
ROBOTS_TTL = 24 * 3600  # a fetched robots.txt is shared this long (RFC 9309: at most a day)
SHARED = "hrarchive-shared"  # flag of a robots.txt response read from Redis, not fetched

# Take the slot if it is free and the next allowed time has passed.  Answers 0 when taken,
# the milliseconds left before the next allowed time, or -1 while another holds the slot.
# A slot is held until its holder gives it back or its lease lapses, even when the holder's
# heartbeat lapsed: a worker wrongly presumed dead may still have its request in flight.
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if nxt > now then return nxt - now end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
return -1
"""

# Move the next allowed time to now + delay (never back), then free the slot if ARGV[1]
# still holds it.  The next-time key lapses a minute after it has passed.
RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nxt = now + tonumber(ARGV[2])
local old = tonumber(redis.call('GET', KEYS[2]) or '0')
if old > nxt then nxt = old end
redis.call('SET', KEYS[2], nxt, 'PX', nxt - now + 60000)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


def site_of(request: Request) -> str:
    """The host a request goes to, as the politeness keys name it (port included)."""
    return urlparse_cached(request).netloc.lower()


def run_name(settings: BaseSettings) -> str:
    """The run this worker takes part in: ``HRARCHIVE_RUN``, else the UTC date and hour."""
    return str(settings.get("HRARCHIVE_RUN") or datetime.now(UTC).strftime("%Y-%m-%dT%H"))


def worker_name() -> str:
    """This process, as Redis values name it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def connect(settings: BaseSettings) -> redis.Redis | None:
    """A client of ``HRARCHIVE_REDIS``, or None when it is not set."""
    url = settings.get("HRARCHIVE_REDIS")
    if not url:
        return None
    return redis.Redis.from_url(str(url), socket_timeout=10, socket_connect_timeout=10)


def prefix_of(settings: BaseSettings) -> str:
    return str(settings.get("HRARCHIVE_REDIS_PREFIX") or "hrarchive")


def crawl_delay_of(body: bytes, useragent: str) -> float:
    """The ``Crawl-delay`` a robots.txt body asks of ``useragent`` (0 when none)."""
    from protego import Protego

    try:
        delay = Protego.parse(body.decode("utf-8", "replace")).crawl_delay(useragent)
    except Exception:  # an unreadable robots.txt: its delay is unknown, not an error here
        return 0.0
    return float(delay) if delay and delay > 0 else 0.0


class SharedPoliteness:
    """One request in flight per host across all workers, spaced by the host's delay."""

    def __init__(self, crawler: Crawler, client: redis.Redis, prefix: str) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.client = client
        self.prefix = prefix
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT", 180)
        self.download_delay = settings.getfloat("DOWNLOAD_DELAY")
        self.max_delay = settings.getfloat("HRARCHIVE_RETRY_MAX_DELAY", 300)
        self.useragent = str(settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT"))
        self._acquire = client.register_script(ACQUIRE)
        self._release = client.register_script(RELEASE)
        self.worker = worker_name()
        self._locks: dict[str, DeferredLock] = {}  # host -> this process's turn at it
        self._held: dict[str, tuple[str, Deferred[None]]] = {}  # host -> token, lease timer
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPoliteness:
        client = connect(crawler.settings)
        if client is None:
            raise NotConfigured("HRARCHIVE_REDIS is not set")
        return cls(crawler, client, prefix_of(crawler.settings))

    def keys(self, site: str) -> list[str]:
        return [f"{self.prefix}:site:{site}:slot", f"{self.prefix}:site:{site}:next"]

    async def process_request(self, request: Request) -> None:
        site = site_of(request)
        request.meta.pop(META, None)  # a retry or redirect copies the meta of its original
        lock = self._locks.setdefault(site, DeferredLock())
        await maybe_deferred_to_future(lock.acquire())
        token = f"{self.worker}|{uuid.uuid4().hex}"  # who holds a slot, for whoever looks
        lease = float(request.meta.get("download_timeout") or self.timeout) + LEASE_MARGIN
        try:
            await self._take(site, token, lease)
        except BaseException:
            lock.release()
            raise
        from twisted.internet import reactor

        # Should the answer never come back, this process's turn lapses with the lease.
        timer: Deferred[None] = deferLater(reactor, lease, self._give_back, site, token)
        timer.addErrback(lambda _failure: None)  # cancelled: the answer came back in time
        self._held[site] = (token, timer)
        request.meta[META] = (site, token)

    async def _take(self, site: str, token: str, lease: float) -> None:
        started = time.monotonic()
        keys = self.keys(site)
        while True:
            answer = int(self._acquire(keys=keys, args=[token, int(lease * 1000)]))
            if answer == 0:
                break
            await pause(answer / 1000 if answer > 0 else POLL)
        waited = time.monotonic() - started
        if waited > POLL / 2:
            stats = self.crawler.stats
            assert stats is not None
            stats.inc_value("hrarchive/polite/waits")
            stats.set_value("hrarchive/polite/wait_seconds",
                            round(stats.get_value("hrarchive/polite/wait_seconds", 0.0)
                                  + waited, 3))

    def process_response(self, request: Request, response: Response) -> Response:
        self._done(request, response)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._done(request, None)

    def _done(self, request: Request, response: Response | None) -> None:
        held = request.meta.pop(META, None)
        if held is None:
            return
        site, token = held
        try:
            self._release(keys=self.keys(site),
                          args=[token, int(self.delay(request, response) * 1000)])
        except redis.RedisError as exc:  # the slot's lease lapses by itself
            logger.warning("Could not give back the Redis slot of %s: %s", site, exc,
                           extra={"spider": self.crawler.spider})
        finally:
            self._give_back(site, token)

    def _give_back(self, site: str, token: str) -> None:
        """End this process's turn at ``site`` if ``token`` still has it."""
        held = self._held.get(site)
        if held is None or held[0] != token:
            return
        del self._held[site]
        if not held[1].called:
            held[1].cancel()
        self._locks[site].release()

    def delay(self, request: Request, response: Response | None) -> float:
        """Seconds the host must rest after this answer, as this process knows it."""
        engine = self.crawler.engine
        slots = getattr(getattr(engine, "downloader", None), "slots", {})
        slot = slots.get(request.meta.get("download_slot"))
        delay = slot.delay if slot is not None else self.download_delay
        if response is None:
            return delay
        if response.status in (429, 503):
            asked = retry_after_seconds(response.headers.get("Retry-After"), time.time())
            if asked is not None:
                delay = max(delay, min(asked, self.max_delay))
        if request.meta.get("dont_obey_robotstxt") and response.status == 200 and \
                urlparse_cached(request).path == "/robots.txt":
            # Read before the robots.txt middleware parses it: the first page must wait too.
            delay = max(delay, crawl_delay_of(response.body, self.useragent))
        return delay

    def _closed(self) -> None:
        """Free the slots this process still holds (requests cut off by the close)."""
        for site, (token, _timer) in list(self._held.items()):
            with contextlib.suppress(redis.RedisError):  # else the lease lapses
                self._release(keys=self.keys(site), args=[token, 0])
            self._give_back(site, token)


class SharedRobotsTxt(RobotsTxtMiddleware):
    """hrarchive's robots.txt middleware, fetching each host's robots.txt once per run for
    all the workers (without ``HRARCHIVE_REDIS``: exactly hrarchive's middleware)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.client = connect(settings)
        self.prefix = prefix_of(settings)
        self.run = run_name(settings)
        self.worker = worker_name()
        self.lease = 2 * settings.getfloat("DOWNLOAD_TIMEOUT", 180) + 60
        self._fetching: set[str] = set()  # hosts whose robots.txt this worker fetches for all

    def key(self, netloc: str) -> str:
        return f"{self.prefix}:robots:{netloc.lower()}:{self.run}"

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if self.client is None or netloc in self._parsers:
            return await super().robot_parser(request)
        placeholder: Deferred[RobotParser | None] = Deferred()
        self._parsers[netloc] = placeholder  # requests arriving meanwhile wait for it
        try:
            shared = await self._shared(netloc)
        except redis.RedisError as exc:
            logger.warning("Redis unreachable for robots.txt of %s (%s): fetching it here",
                           netloc, exc, extra={"spider": self.crawler.spider})
            shared = None
        if shared is not None:
            url = urlparse_cached(request)
            robots_url = f"{url.scheme}://{netloc}/robots.txt"
            status, body = shared
            response = Response(robots_url, status=status, body=body, flags=[SHARED],
                                request=Request(robots_url, meta={"dont_obey_robotstxt": True}))
            self._stats.inc_value("hrarchive/robotstxt/shared")
            await self._parse_robots(response, netloc, request)
            return await super().robot_parser(request)
        del self._parsers[netloc]
        try:
            parser = await super().robot_parser(request)
        finally:
            self._unlock(netloc)
        placeholder.callback(parser)
        return parser

    async def _shared(self, netloc: str) -> tuple[int, bytes] | None:
        """The robots.txt another worker fetched this run, waiting while one fetches it;
        None when this worker is to fetch it (it then holds the fetch lock)."""
        assert self.client is not None
        key = self.key(netloc)
        while True:
            found: dict[bytes, bytes] = self.client.hgetall(key)  # type: ignore[assignment]
            if found:
                return int(found[b"status"]), found.get(b"body", b"")
            if self.client.set(f"{key}:lock", self.worker, nx=True, px=int(self.lease * 1000)):
                self._fetching.add(netloc)
                return None
            await pause(POLL * 2)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if netloc in self._fetching and SHARED not in response.flags and self.client:
            key = self.key(netloc)
            try:
                with self.client.pipeline() as pipe:  # MULTI: the answer and the unlock at once
                    pipe.hset(key, mapping={"status": response.status, "body": response.body})
                    pipe.expire(key, ROBOTS_TTL)
                    pipe.delete(f"{key}:lock")
                    pipe.execute()
                self._fetching.discard(netloc)
            except redis.RedisError as exc:
                logger.warning("Could not share robots.txt of %s: %s", netloc, exc,
                               extra={"spider": self.crawler.spider})
        await super()._parse_robots(response, netloc, request)

    def _unlock(self, netloc: str) -> None:
        """Let another worker fetch robots.txt when this one could not (an error)."""
        if netloc not in self._fetching or self.client is None:
            return
        self._fetching.discard(netloc)
        with contextlib.suppress(redis.RedisError):  # else the lock lapses
            self.client.delete(f"{self.key(netloc)}:lock")


class SharedPolitenessAddon:
    """With ``HRARCHIVE_REDIS`` set, makes politeness hold across workers: swaps in
    :class:`SharedRobotsTxt` and adds :class:`SharedPoliteness`; else changes nothing."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not settings.get("HRARCHIVE_REDIS"):
            return
        # (KeyError: robots.txt read by another middleware, or not at all: left as set.)
        with contextlib.suppress(KeyError):
            settings.replace_in_component_priority_dict(
                "DOWNLOADER_MIDDLEWARES", RobotsTxtMiddleware, SharedRobotsTxt)
        settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", SharedPoliteness,
                                                PRIORITY)

